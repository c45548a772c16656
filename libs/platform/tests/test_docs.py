"""/docs and /redoc work on a machine that reaches nothing outside it: the pages name no
other host, and every script, style sheet and icon they load is served by the service."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from lumbung.platform.web import create_service_app

REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_load_everything_from_the_service_itself(page: str) -> None:
    with TestClient(create_service_app("docstest")) as client:
        answer = client.get(page)
        assert answer.status_code == 200
        html = answer.text
        assert "//" not in re.sub(r"<!--.*?-->", "", html).replace("http://www.w3.org", "")

        references = [a or b for a, b in REFERENCE.findall(html)]
        assert any(r.endswith(".js") for r in references), references
        for reference in references:
            assert reference.startswith("/"), reference
            asset = client.get(reference)
            assert asset.status_code == 200, reference
            assert asset.content, reference
