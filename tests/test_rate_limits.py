"""Per-key rate limits: past the limit a key gets 429 with the reason, another key does
not, at every service (the counters live in the real Redis)."""

from __future__ import annotations

import asyncio
import importlib
import time

import pytest
from fastapi.testclient import TestClient

from lumbung.catalog.bootstrap import issue_key_directly
from lumbung.catalog.settings import Settings as CatalogSettings
from lumbung.contracts import KeyRole, Registry

pytestmark = pytest.mark.broker
LIMIT = 5


@pytest.mark.parametrize("service", ["catalog", "inventory", "orders", "notifications", "books"])
def test_a_key_past_its_limit_gets_429_and_another_key_does_not(
    service: str, kafka_bootstrap: str, redis_url: str, registry: Registry
) -> None:
    catalog = CatalogSettings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )
    busy, calm = (
        asyncio.run(issue_key_directly(catalog, KeyRole.OPS, "*", label))
        for label in ("busy", "calm")
    )
    settings = importlib.import_module(f"lumbung.{service}.settings").Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        redis_url=redis_url,
        topic_prefix=registry.prefix,
        rate_limit_per_minute=LIMIT,
    )
    app = importlib.import_module(f"lumbung.{service}.bootstrap").build_api(settings)
    with TestClient(app) as client:
        while time.time() % 60 > 50:  # all calls within one minute's window
            time.sleep(0.5)
        answers = [
            client.get("/v1/whoami", headers={"X-API-Key": busy}).status_code
            for _ in range(LIMIT + 2)
        ]
        refused = client.get("/v1/whoami", headers={"X-API-Key": busy})
        other = client.get("/v1/whoami", headers={"X-API-Key": calm})
    assert answers == [200] * LIMIT + [429, 429]
    assert refused.status_code == 429
    assert "requests a minute" in refused.json()["detail"]
    assert other.status_code == 200


def test_without_a_limit_set_nothing_is_refused(
    kafka_bootstrap: str, redis_url: str, registry: Registry
) -> None:
    catalog = CatalogSettings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )
    key = asyncio.run(issue_key_directly(catalog, KeyRole.OPS, "*", "free"))
    from lumbung.orders.bootstrap import build_api
    from lumbung.orders.settings import Settings

    settings = Settings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )
    with TestClient(build_api(settings)) as client:
        codes = {
            client.get("/v1/whoami", headers={"X-API-Key": key}).status_code for _ in range(20)
        }
    assert codes == {200}
