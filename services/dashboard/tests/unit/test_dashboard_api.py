from fastapi.testclient import TestClient

from lumbung.dashboard.bootstrap import build_api
from lumbung.dashboard.settings import Settings


def test_health_answers_without_broker_or_redis() -> None:
    client = TestClient(build_api(Settings()))

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "dashboard"}


def test_openapi_is_served() -> None:
    client = TestClient(build_api(Settings()))

    assert client.get("/openapi.json").json()["info"]["title"] == "Lumbung dashboard"
