"""Fixtures of the orders suite: the orders API in-process on the real broker and Redis,
with the clock of the test's workers. Shared fixtures come from tests/support/fixtures.py."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lumbung.contracts import Registry
from tests.support.fixtures import serving


@pytest.fixture
def orders_api(
    kafka_bootstrap: str,
    redis_url: str,
    registry: Registry,
    ops_key: str,
    demo_catalog: dict[str, str],
    worker_env: dict[str, str],
) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from lumbung.orders.bootstrap import build_api
    from lumbung.orders.settings import Settings
    from lumbung.platform.clock import ShiftedClock

    settings = Settings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )
    clock = ShiftedClock(Path(worker_env["LUMBUNG_CLOCK_FILE"]))
    with TestClient(build_api(settings, clock)) as client:
        client.headers["X-API-Key"] = ops_key
        deadline = time.monotonic() + 30
        while not serving(client.get("/readyz").json()) and time.monotonic() < deadline:
            time.sleep(0.2)
        yield client


OUTLET = "IKN-01"
"""The pickup outlet of the orders tests (a kiosk of the demo catalog, always open)."""


@pytest.fixture
def open_outlet(events: Any, read_model: Any) -> Callable[[dict[str, int]], None]:
    """open_outlet({sku: qty}): opening stock at OUTLET, applied before it returns."""

    def open_with(stock: dict[str, int]) -> None:
        events.opening_count(OUTLET, stock)
        events.flush()
        assert read_model.wait_for(lambda: set(read_model.outlet(OUTLET)) == set(stock))

    return open_with
