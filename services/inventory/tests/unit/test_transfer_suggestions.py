"""Transfer suggestions, without a broker: the planner alone (issue 21)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from lumbung.contracts.events import inventory as inv
from lumbung.inventory.transfers import (
    Holding,
    Predictions,
    Shortage,
    needed,
    plan,
    spare,
    suggest,
)

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
    assert only.suggestion_id == "P-BOOTH-A-AMPLANG.NEAR"


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


# -- from the predictions and the read model, as the inventory API plans ---------------------


def predicted(outlet: str, available: int = 5, per_hour: float = 4.0) -> inv.StockoutPredicted:
    return inv.StockoutPredicted(
        prediction_id=f"P-{outlet}",
        outlet_id=outlet,
        sku="AMPLANG",
        available=available,
        expected_at=NOW + timedelta(hours=3),
        units_per_hour=per_hour,
        lead_time_hours=24,
        reason="test",
    )


def dispatched(to: str, qty: int, transfer_id: str = "T-1") -> inv.TransferDispatched:
    return inv.TransferDispatched(
        transfer_id=transfer_id,
        from_outlet_id="KIOSK",
        to_outlet_id=to,
        lines=[inv.TransferLine(sku="AMPLANG", qty=qty)],
        dispatched_at=NOW,
        expected_at=NOW + timedelta(hours=1),
    )


def planned(predictions: Predictions, booth_available: int = 5) -> list[tuple[str, int]]:
    cells = {"AMPLANG": {"BOOTH-A": {"available": booth_available}, "KIOSK": {"available": 300}}}
    sold = {"KIOSK": {"AMPLANG": 10}}  # 10 since 06:00: 2.5 an hour
    suggestions = plan(
        predictions,
        cells,
        sold,
        {"KIOSK": None, "BOOTH-A": NOW + timedelta(days=2)},
        by_road({"KIOSK": 1, "BOOTH-A": 0}),
        NOW,
        NOW - timedelta(hours=4),
    )
    return [(s.from_outlet_id, s.qty) for s in suggestions]


def test_an_open_prediction_is_planned_for_less_what_is_already_on_its_way() -> None:
    predictions = Predictions()
    predictions.apply(predicted("BOOTH-A"))
    # Empty from 13:00 to 10:00 tomorrow at 4 an hour; the kiosk keeps 24 h at 2.5 an hour.
    assert planned(predictions) == [("KIOSK", 84)]
    predictions.apply(dispatched("BOOTH-A", 50))
    assert planned(predictions) == [("KIOSK", 34)]
    predictions.apply(
        inv.TransferArrived(
            transfer_id="T-1",
            from_outlet_id="KIOSK",
            to_outlet_id="BOOTH-A",
            lines=[inv.TransferLine(sku="AMPLANG", qty=50)],
        )
    )
    assert planned(predictions) == [("KIOSK", 84)]


def test_a_prediction_is_over_once_cleared_or_once_its_cell_holds_more_than_it_did() -> None:
    predictions = Predictions()
    predictions.apply(predicted("BOOTH-A", available=5))
    assert planned(predictions, booth_available=60) == []  # stock came
    assert planned(predictions, booth_available=0) == [("KIOSK", 84)]  # it ran out: still short
    predictions.apply(
        inv.StockoutCleared(
            prediction_id="P-BOOTH-A",
            outlet_id="BOOTH-A",
            sku="AMPLANG",
            cleared_by=inv.ClearedBy.SLOWER_SALES,
            available=5,
        )
    )
    assert planned(predictions) == []


def test_a_suggestion_s_transfer_is_the_same_each_time_so_it_moves_the_goods_once() -> None:
    predictions = Predictions()
    predictions.apply(predicted("BOOTH-A"))
    cells = {"AMPLANG": {"BOOTH-A": {"available": 5}, "KIOSK": {"available": 300}}}
    args = (predictions, cells, {}, {}, by_road({"KIOSK": 1}), NOW, NOW)
    first, again = plan(*args), plan(*args)
    assert first[0].suggestion_id == again[0].suggestion_id == "P-BOOTH-A.KIOSK"
    assert first[0].transfer_id == again[0].transfer_id
    assert first[0].transfer_id.startswith("SUG-")
    assert first[0].to_dict()["qty"] == 84


def sources(
    predictions: Predictions,
    closes: dict[str, datetime | None],
    sold_today: dict[str, dict[str, int]] | None = None,
    sold_yesterday: dict[str, dict[str, int]] | None = None,
) -> list[tuple[str, int]]:
    """Who gives what to BOOTH-A, short: a kiosk and a second booth hold 300 each."""
    cells = {
        "AMPLANG": {
            "BOOTH-A": {"available": 5},
            "KIOSK": {"available": 300},
            "BOOTH-B": {"available": 300},
        }
    }
    suggestions = plan(
        predictions,
        cells,
        sold_today or {},
        closes,
        by_road({"KIOSK": 1, "BOOTH-B": 0.5, "BOOTH-A": 0}),
        NOW,
        NOW - timedelta(hours=10),
        sold_yesterday,
    )
    return [(s.from_outlet_id, s.qty) for s in suggestions]


def test_a_booth_gives_nothing_while_its_window_is_open_nor_before_it() -> None:
    predictions = Predictions()
    predictions.apply(predicted("BOOTH-A"))
    # BOOTH-B is nearer, but it sells with its sessions' rushes until it closes.
    assert sources(predictions, {"BOOTH-B": NOW + timedelta(days=2)}) == [("KIOSK", 84)]
    # Once its window has closed, what it holds may go (its close-out sends the rest home).
    assert sources(predictions, {"BOOTH-B": NOW - timedelta(hours=1)}) == [("BOOTH-B", 84)]


def test_a_cell_predicted_short_itself_gives_nothing() -> None:
    predictions = Predictions()
    predictions.apply(predicted("BOOTH-A"))
    also = predicted("KIOSK").model_copy(update={"prediction_id": "P-KIOSK-2"})
    predictions.apply(also)
    assert sources(predictions, {"BOOTH-B": NOW + timedelta(days=2)}) == []


def test_early_in_the_day_a_source_keeps_what_it_sold_yesterday() -> None:
    predictions = Predictions()
    predictions.apply(predicted("BOOTH-A"))
    closes: dict[str, datetime | None] = {"BOOTH-B": NOW + timedelta(days=2)}
    # 120 yesterday: 10 an hour over a 12-hour day, kept for the 36 h of the lead and its
    # margin, leave nothing of 300 to give; today's 10 in 10 hours alone would leave 264.
    today = {"KIOSK": {"AMPLANG": 10}}
    assert sources(predictions, closes, today) == [("KIOSK", 84)]
    assert sources(predictions, closes, today, {"KIOSK": {"AMPLANG": 120}}) == []
