"""Fixtures of the orders suite: the orders API in-process on the real broker and Redis,
with the clock of the test's workers. Shared fixtures come from tests/support/fixtures.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lumbung.contracts import Registry


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
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        yield client
