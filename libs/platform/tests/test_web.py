"""The service app's request metrics: every request counted by method, route template and
status, including the ones no route matched and the ones that raised."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient

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
