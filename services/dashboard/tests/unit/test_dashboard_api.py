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


def test_a_restock_change_without_an_ops_key_is_refused_before_inventory_hears_of_it() -> None:
    client = TestClient(build_api(Settings(inventory_url="http://127.0.0.1:9")))

    answer = client.put("/v1/outlets/IKN-01/restocks/RS-1", json={"qty": 30, "send_now": True})

    assert answer.status_code == 401


def test_the_restock_change_is_in_the_dashboard_s_openapi() -> None:
    client = TestClient(build_api(Settings()))

    paths = client.get("/openapi.json").json()["paths"]
    assert "put" in paths["/v1/outlets/{outlet_id}/restocks/{restock_id}"]
