from fastapi.testclient import TestClient

from lumbung.inventory.bootstrap import build_api
from lumbung.inventory.settings import Settings


def test_health_answers_without_broker_or_redis() -> None:
    client = TestClient(build_api(Settings()))

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "inventory"}


def test_openapi_is_served() -> None:
    client = TestClient(build_api(Settings()))

    assert client.get("/openapi.json").json()["info"]["title"] == "Lumbung inventory"
