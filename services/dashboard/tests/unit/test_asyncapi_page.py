import html
import re
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from lumbung.contracts import DEFAULT
from lumbung.contracts.asyncapi import DOC_PATH, message_id, retention
from lumbung.dashboard.asyncapi import AsyncApiDocument, render_page
from lumbung.dashboard.bootstrap import build_api
from lumbung.dashboard.settings import Settings


def client(**settings: object) -> TestClient:
    return TestClient(build_api(Settings(**settings)))  # type: ignore[arg-type]


def test_the_yaml_served_is_the_committed_document() -> None:
    response = client().get("/asyncapi.yaml")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/yaml"
    assert response.content == DOC_PATH.read_bytes()


def test_the_page_shows_every_topic_with_its_owner_key_partitions_retention_and_messages() -> None:
    response = client().get("/asyncapi")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for topic in DEFAULT.topics:
        cells = (topic.writer.value, topic.key, str(topic.partitions), retention(topic))
        row = "".join(
            f"<td[^>]*>{re.escape(html.escape(cell, quote=False))}</td>" for cell in cells
        )
        assert re.search(rf'id="topic-{re.escape(topic.name)}"', page), topic.name
        assert re.search(rf">{re.escape(topic.name)}</a></th>{row}", page), topic.name
    for spec in DEFAULT.events:
        assert f'id="msg-{message_id(spec)}"' in page
    assert page.count("<pre>") == 2 * len(DEFAULT.events)  # an example and a schema each


def test_the_page_needs_nothing_from_elsewhere() -> None:
    page = client().get("/asyncapi").text

    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert "<script" not in page
    assert "<link" not in page
    assert links
    assert all(link.startswith(("#", "/")) for link in links), links


def test_without_a_document_both_answer_404_and_say_how_to_make_it(tmp_path: Path) -> None:
    missing = client(asyncapi_path=tmp_path / "asyncapi.yaml")

    for path in ("/asyncapi", "/asyncapi.yaml"):
        response = missing.get(path)
        assert response.status_code == 404
        assert "make asyncapi" in response.json()["detail"]


def test_a_changed_document_is_served_as_changed(tmp_path: Path) -> None:
    path = tmp_path / "asyncapi.yaml"
    document = AsyncApiDocument(path)
    path.write_text("asyncapi: 3.0.0\ninfo: {title: First, version: '1'}\n")
    first = document.load()
    path.write_text("asyncapi: 3.0.0\ninfo: {title: Second one, version: '2'}\n")

    second = document.load()

    assert first is not None
    assert second is not None
    assert "<title>First</title>" in first.page
    assert "<title>Second one</title>" in second.page


def test_text_from_the_document_is_escaped() -> None:
    doc = yaml.safe_load(
        """
        asyncapi: 3.0.0
        info: {title: T, version: '1', description: '<script>alert(1)</script>'}
        channels:
          a.b:
            description: '<img src=x onerror=alert(1)>'
            messages: {}
        """
    )

    page = render_page(doc)

    assert "<script>alert" not in page
    assert "<img" not in page
    assert "&lt;script&gt;" in page
