"""The chaos run on one broker: the whole system as its own processes on the real broker
and Redis, a busy simulated day and orders through the APIs, while the workers are killed
with `kill -9`, the broker restarts and Redis is flushed. Afterwards every (outlet, SKU),
every order and every alert is checked against the event log (docs/RELIABILITY.md).

The short run is part of `make test` (one fault of every kind); the full run (50,000 sale
lines, 2,000 orders, the inventory worker killed five times) is `make chaos`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.chaos import Plan, Report

pytestmark = pytest.mark.broker

SHORT = Plan(sale_lines=1500, orders=150, intensity=1, hours=3.5, inventory_kills=1)
FULL = Plan(sale_lines=50_000, orders=2_000, intensity=7, hours=None)


def test_a_short_chaos_run_with_every_kind_of_fault_leaves_nothing_mismatched(
    run: Callable[[Plan], Report],
) -> None:
    report = run(SHORT)

    assert {f.kind for f in report.faults} == set(SHORT.faults())
    assert report.sale_lines >= SHORT.sale_lines
    assert report.orders_placed == SHORT.orders
    assert report.alerts > 0, "alerts and restock requests went out during the run"
    assert report.mismatches == [], report.render()


@pytest.mark.chaos
def test_the_full_chaos_run_leaves_nothing_mismatched(run: Callable[[Plan], Report]) -> None:
    report = run(FULL)

    assert len(report.faults) == len(FULL.faults())
    assert report.sale_lines >= FULL.sale_lines
    assert report.orders_placed == FULL.orders
    assert report.mismatches == [], report.render()
