"""Fixtures of the orders suite: the orders API in-process on the real broker and Redis,
with the clock of the test's workers. Shared fixtures come from tests/support/fixtures.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lumbung.contracts import Registry
from tests.support.fixtures import in_process_api


@pytest.fixture
def orders_api(
    registry: Registry, ops_key: str, demo_catalog: dict[str, str], worker_env: dict[str, str]
) -> Iterator[Any]:
    with in_process_api("orders", worker_env, registry, ops_key) as client:
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
