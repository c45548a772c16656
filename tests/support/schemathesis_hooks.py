"""Schemathesis checks of our own (loaded with SCHEMATHESIS_HOOKS by tests/test_api_fuzz.py,
in the tools environment): every 4xx answer names the problem, in a JSON `detail`, or for
the answer-link pages a producer opens on the phone, in the page's text."""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.check
def four_xx_names_the_problem(ctx: Any, response: Any, case: Any) -> None:
    if not 400 <= response.status_code < 500:
        return
    if response.headers.get("content-type", [""])[0].startswith("text/html"):
        if "<p" not in response.text:
            raise AssertionError(f"{response.status_code} page without a message")
        return
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} without a JSON body") from exc
    detail = body.get("detail") if isinstance(body, dict) else None
    if not detail:
        raise AssertionError(f"{response.status_code} without a `detail` naming the problem")
