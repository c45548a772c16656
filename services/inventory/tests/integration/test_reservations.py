"""Orders against live stock with two worker processes in one consumer group."""

from __future__ import annotations

from typing import Any

import pytest

from lumbung.contracts import Registry
from tests.support.reservations import race_orders

pytestmark = pytest.mark.broker


def test_concurrent_orders_never_reserve_more_than_is_available(
    kafka_bootstrap: str, registry: Registry, events: Any, workers: Any, read_model: Any
) -> None:
    workers()
    workers()
    race_orders(kafka_bootstrap, registry, events, read_model)
