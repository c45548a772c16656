"""Transfer suggestions, without a broker: the planner alone (issue 21)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from lumbung.inventory.transfers import Holding, Shortage, needed, spare, suggest

NOW = datetime(2026, 10, 12, 10, 0, tzinfo=UTC)
LEAD = timedelta(hours=24)


def short(outlet: str = "BOOTH-A", sku: str = "AMPLANG", runs_out_in_h: float = 3) -> Shortage:
    return Shortage(
        outlet_id=outlet,
        sku=sku,
        runs_out_at=NOW + timedelta(hours=runs_out_in_h),
        units_per_hour=4.0,
        supplier_at=NOW + LEAD,
        prediction_id=f"P-{outlet}-{sku}",
    )


def held(
    outlet: str, available: int, per_hour: float = 1.0, keep_h: float = 10, sku: str = "AMPLANG"
) -> Holding:
    return Holding(outlet, sku, available, per_hour, NOW + timedelta(hours=keep_h))


def by_road(hours: dict[str, float]) -> Callable[[str, str], timedelta]:
    return lambda source, destination: timedelta(hours=hours[source])


def test_what_a_short_cell_needs_is_its_sales_from_empty_until_the_supplier_could_come() -> None:
    # Empty from 13:00 until 10:00 the next day: 21 h at 4 an hour.
    assert needed(short(), NOW) == 84
    # Already empty: from now.
    assert needed(short(runs_out_in_h=-1), NOW) == 96


def test_a_source_keeps_what_it_will_sell_itself_before_its_window_closes() -> None:
    assert spare(held("KIOSK", 30, per_hour=2, keep_h=10), NOW) == 10
    assert spare(held("KIOSK", 15, per_hour=2, keep_h=10), NOW) == 0
    # A booth that closes in an hour keeps only that hour's sales.
    assert spare(held("BOOTH-B", 30, per_hour=2, keep_h=1), NOW) == 28


def test_the_nearest_source_with_spare_is_suggested_and_its_quantity_is_the_need() -> None:
    suggestions = suggest(
        [short()],
        [held("FAR", 200), held("NEAR", 200)],
        by_road({"FAR": 6, "NEAR": 1}),
        NOW,
    )
    assert [(s.from_outlet_id, s.qty) for s in suggestions] == [("NEAR", 84)]
    (only,) = suggestions
    assert only.to_outlet_id == "BOOTH-A"
    assert only.arrives_at == NOW + timedelta(hours=1)
    assert only.suggestion_id == "P-BOOTH-A-AMPLANG|NEAR"


def test_a_need_larger_than_one_spare_is_split_across_sources_soonest_first() -> None:
    suggestions = suggest(
        [short()],
        [held("NEAR", 40, per_hour=0, keep_h=0), held("FAR", 200, per_hour=0)],
        by_road({"FAR": 6, "NEAR": 1}),
        NOW,
    )
    assert [(s.from_outlet_id, s.qty) for s in suggestions] == [("NEAR", 40), ("FAR", 44)]


def test_no_source_that_arrives_after_the_supplier_could_and_none_of_another_sku() -> None:
    suggestions = suggest(
        [short()],
        [held("SLOW", 500), held("OTHER", 500, sku="KOPI"), held("BOOTH-A", 500)],
        by_road({"SLOW": 30, "OTHER": 1, "BOOTH-A": 0}),
        NOW,
    )
    assert suggestions == []


def test_one_source_is_never_promised_twice_the_first_to_run_out_is_served_first() -> None:
    later, sooner = short("BOOTH-C", runs_out_in_h=8), short("BOOTH-A", runs_out_in_h=2)
    suggestions = suggest(
        [later, sooner],
        [held("KIOSK", 100, per_hour=0)],
        by_road({"KIOSK": 1}),
        NOW,
    )
    # BOOTH-A is empty from 12:00 until tomorrow 10:00 (88), BOOTH-C gets what is left.
    assert [(s.to_outlet_id, s.qty) for s in suggestions] == [("BOOTH-A", 88), ("BOOTH-C", 12)]
