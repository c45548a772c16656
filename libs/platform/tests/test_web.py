"""The service app's request metrics: every request counted by method, route template and
status, including the ones no route matched and the ones that raised."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from lumbung.platform.metrics import exposition
from lumbung.platform.web import create_service_app


def counted(service: str, method: str, route: str, status: int) -> float:
    body = exposition()[0].decode()
    line = (
        f'lumbung_http_request_seconds_count{{method="{method}",route="{route}",'
        f'service="{service}",status="{status}"}} '
    )
    found = [row for row in body.splitlines() if row.startswith(line)]
    return float(found[0].removeprefix(line)) if found else 0.0


def test_requests_are_counted_by_route_template_and_status() -> None:
    router = APIRouter()

    @router.get("/things/{thing}")
    async def thing(thing: str) -> dict[str, str]:
        if thing == "broken":
            raise RuntimeError("boom")
        return {"thing": thing}

    app = create_service_app("webtest", routers=[router])
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/things/a").status_code == 200
        assert client.get("/things/b").status_code == 200
        assert client.get("/nowhere").status_code == 404
        assert client.get("/things/broken").status_code == 500

    assert counted("webtest", "GET", "/things/{thing}", 200) == 2
    assert counted("webtest", "GET", "unmatched", 404) == 1
    assert counted("webtest", "GET", "/things/{thing}", 500) == 1


def test_a_route_that_reads_its_own_body_answers_413_to_an_oversized_chunked_body() -> None:
    # Issue 15: the CSV imports read the body themselves; past the limit the read raised
    # ClientDisconnect, which escaped as a 500.
    router = APIRouter()

    @router.post("/import")
    async def import_(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app = create_service_app("bodytest", routers=[router], max_body_bytes=1000)

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"sku;counted\n" * 10

    with TestClient(app, raise_server_exceptions=False) as client:
        chunked = client.post("/import", content=chunks())
        small = client.post("/import", content=b"sku;counted\n")

    assert "content-length" not in {k.lower() for k in chunked.request.headers}
    assert (chunked.status_code, "larger than 1000 bytes" in chunked.text) == (413, True)
    assert small.json() == {"bytes": 12}


class NoteIn(BaseModel):
    note: str


def test_a_json_body_with_a_lone_surrogate_is_refused_before_it_reaches_an_encoder() -> None:
    # The standard library's JSON reader (FastAPI's) takes "\ud800" into a str that orjson
    # cannot write: the request passed its model and answered 500 at the encoder.
    router = APIRouter()

    @router.post("/notes")
    async def note(body: NoteIn) -> dict[str, int]:
        return {"bytes": len(orjson.dumps(body.model_dump()))}

    app = create_service_app("jsontest", routers=[router])
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Content-Type"] = "application/json"
        escaped = client.post("/notes", content=b'{"note": "\\ud800"}')
        raw = client.post("/notes", content=b'{"note": "\xed\xa0\x80"}')
        paired = client.post("/notes", content=b'{"note": "\\ud83d\\ude00 enak"}')

    for refused in (escaped, raw):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "(body)"
    assert paired.json() == {"bytes": len(orjson.dumps({"note": "\U0001f600 enak"}))}
