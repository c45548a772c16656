"""Fixtures of the inventory suite; the shared ones (events, workers, demo_catalog,
ops_key, on_topic, read_model) come from tests/support/fixtures.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from lumbung.contracts import Registry


@pytest.fixture
def inventory_api(
    kafka_bootstrap: str,
    redis_url: str,
    registry: Registry,
    ops_key: str,
    demo_catalog: dict[str, str],
) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from lumbung.inventory.bootstrap import build_api
    from lumbung.inventory.settings import Settings as InventorySettings

    settings = InventorySettings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )
    with TestClient(build_api(settings)) as client:
        client.headers["X-API-Key"] = ops_key
        deadline = time.monotonic() + 15
        while client.get("/v1/whoami").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield client
