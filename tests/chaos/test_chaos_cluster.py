"""The chaos run on a three-broker cluster (replication factor 3, `min.insync.replicas`
2): besides the faults of the single-broker run, one broker is killed for good, and a
second inventory worker and a second orders API join mid-run and then the first worker
and the second API leave, so partitions move between workers while the faults go on.
The short run is in `make test`, the full one in `make chaos`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.chaos import Plan, Report

pytestmark = pytest.mark.broker
BROKERS = 3

SHORT = Plan(sale_lines=1500, orders=150, intensity=1, hours=3.5, inventory_kills=1, brokers=3)
FULL = Plan(sale_lines=50_000, orders=2_000, intensity=7, hours=None, brokers=3)


def test_a_short_chaos_run_on_a_cluster_moves_partitions_and_leaves_nothing_mismatched(
    run: Callable[[Plan], Report],
) -> None:
    report = run(SHORT)

    kinds = [f.kind for f in report.faults]
    assert set(kinds) == set(SHORT.faults())
    assert kinds.index("scale out") < kinds.index("scale in")
    assert report.orders_placed == SHORT.orders
    assert report.mismatches == [], report.render()


@pytest.mark.chaos
def test_the_full_chaos_run_on_a_cluster_leaves_nothing_mismatched(
    run: Callable[[Plan], Report],
) -> None:
    report = run(FULL)

    assert len(report.faults) == len(FULL.faults())
    assert report.sale_lines >= FULL.sale_lines
    assert report.mismatches == [], report.render()
