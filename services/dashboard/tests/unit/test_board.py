"""The board a page is built from, folded from contract events without Kafka."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from lumbung.contracts import make_event
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders, pos, restock
from lumbung.dashboard import board as board_module
from lumbung.dashboard.board import Board

AT = datetime(2026, 11, 29, 1, 30, tzinfo=UTC)  # 09:30 WITA


def event(payload: Any, minutes: int = 0) -> Any:
    return make_event(
        payload,
        event_id=uuid.uuid4(),
        occurred_at=AT + timedelta(minutes=minutes),
        producer="test",
        correlation_id="c",
    )


def test_sales_add_up_per_outlet_per_wita_hour_and_returns_subtract() -> None:
    board = Board()
    line = pos.SaleLine(sku="AMPLANG-IKAN-250", qty=3, unit_price_idr=25_000)
    sale = pos.SaleRecorded(sale_id="S1", outlet_id="BOOTH-GOR", lines=[line], sold_at=AT)
    back = pos.SaleReturned(
        return_id="R1", sale_id="S1", outlet_id="BOOTH-GOR", lines=[line], returned_at=AT
    )
    assert board.fold(event(sale)) == (
        "sale",
        {
            "outlet_id": "BOOTH-GOR",
            "hour": "2026-11-29T09",
            "units": 3,
            "amount_idr": 75_000,
            "at": AT.isoformat(),
        },
    )
    board.fold(event(back))
    assert board.sales == {"BOOTH-GOR": {"2026-11-29T09": 0}}
    assert board.revenue["BOOTH-GOR"] == 0
    assert board.last_seen["BOOTH-GOR"] == AT.isoformat()


def test_a_sale_read_twice_counts_once() -> None:
    board = Board()
    line = pos.SaleLine(sku="AMPLANG-IKAN-250", qty=3, unit_price_idr=25_000)
    sale = event(pos.SaleRecorded(sale_id="S1", outlet_id="BOOTH-GOR", lines=[line], sold_at=AT))
    alert = event(
        inv.StockAlertRaised(
            outlet_id="BOOTH-GOR",
            sku="AMPLANG-IKAN-250",
            alert=inv.AlertKind.LOW_STOCK,
            on_hand=2,
            available=2,
            reorder_point=5,
        )
    )

    assert board.fold(sale) is not None
    assert board.fold(sale) is None  # redelivered: the same event id
    board.fold(alert)
    board.fold(alert)

    assert board.revenue["BOOTH-GOR"] == 75_000
    assert board.sales == {"BOOTH-GOR": {"2026-11-29T09": 3}}
    assert len(board.alerts) == 1


def test_an_order_counts_its_steps_and_a_repeated_ask_is_not_a_step() -> None:
    board = Board()
    placed = orders.OrderPlaced(
        order_id="ORD-1",
        outlet_id="IKN-01",
        lines=[orders.OrderLine(sku="MADU-KELULUT-250", qty=20)],
        pickup_at=AT + timedelta(days=1),
        customer_name="KBIH Al-Ikhlas Paser",
    )
    assert board.fold(event(placed))[1]["version"] == 1
    again = placed.model_copy(update={"attempt": 2})
    assert board.fold(event(again))[1]["version"] == 1
    reserved = orders.OrderReserved(
        order_id="ORD-1",
        outlet_id="IKN-01",
        lines=[orders.OrderLine(sku="MADU-KELULUT-250", qty=20)],
    )
    kind, order = board.fold(event(reserved))
    assert (kind, order["state"], order["version"], order["units"]) == ("order", "reserved", 2, 20)


def test_a_restock_answer_read_after_its_closing_does_not_reopen_it() -> None:
    board = Board()
    ids = {"restock_id": "RS-1", "outlet_id": "IKN-01", "sku": "KOPI-LIBERIKA-200"}
    board.fold(
        event(
            restock.RestockRequested(
                **ids,
                supplier_id="SUP-KOPI",
                suggested_qty=30,
                available=4,
                reorder_point=10,
                par_level=34,
            )
        )
    )
    board.fold(event(restock.RestockClosed(**ids, received_qty=30)))
    kind, request = board.fold(
        event(
            restock.RestockAccepted(
                **ids, supplier_id="SUP-KOPI", qty=30, expected_at=AT + timedelta(days=3)
            )
        )
    )
    assert (kind, request["status"], request["accepted_qty"]) == ("restock", "closed", 30)


def test_a_low_stock_alert_teaches_the_board_the_reorder_point() -> None:
    board = Board()
    low = inv.StockAlertRaised(
        alert=inv.AlertKind.LOW_STOCK,
        outlet_id="IKN-01",
        sku="GULA-AREN-500",
        on_hand=7,
        available=7,
        reorder_point=10,
    )
    kind, alert = board.fold(event(low))
    assert kind == "alert"
    assert board.levels == {"IKN-01": {"GULA-AREN-500": 10}}
    assert board.snapshot()["alerts"] == [alert]


def predicted(prediction_id: str = "P-1", sku: str = "MADU-KELULUT-250") -> Any:
    return inv.StockoutPredicted(
        prediction_id=prediction_id,
        outlet_id="BOOTH-STADION",
        sku=sku,
        supplier_id="SUP-KELULUT",
        available=14,
        expected_at=AT + timedelta(hours=5),
        units_per_hour=2.5,
        lead_time_hours=48,
        reason="14 left, selling 2.5 an hour now",
    )


def stock(available: int, minutes: int) -> Any:
    return event(
        inv.StockChanged(
            outlet_id="BOOTH-STADION",
            sku="MADU-KELULUT-250",
            delta=-1,
            on_hand=available,
            reserved=0,
            available=available,
            version=7,
            reason="sale",
        ),
        minutes,
    )


def test_a_predicted_stockout_marks_its_cell_until_it_clears() -> None:
    board = Board()
    kind, forecast = board.fold(event(predicted()))
    assert (kind, forecast["status"], forecast["expected_at"]) == (
        "forecast",
        "predicted",
        (AT + timedelta(hours=5)).isoformat(),
    )
    assert [f["prediction_id"] for f in board.snapshot()["forecasts"]] == ["P-1"]

    cleared = inv.StockoutCleared(
        prediction_id="P-1",
        outlet_id="BOOTH-STADION",
        sku="MADU-KELULUT-250",
        cleared_by=inv.ClearedBy.RESTOCK,
        available=54,
    )
    kind, update = board.fold(event(cleared, 10))

    assert (kind, update["status"], update["cleared_by"]) == ("forecast", "cleared", "restock")
    assert board.snapshot()["forecasts"] == []


def test_a_prediction_read_again_marks_nothing_new_even_after_it_cleared() -> None:
    board = Board()
    first = event(predicted())
    assert board.fold(first) is not None
    assert board.fold(first) is None  # redelivered: the same event id
    assert board.fold(event(predicted())) is None  # the same episode, sent again
    assert len(board.snapshot()["forecasts"]) == 1
    board.fold(
        event(
            inv.StockoutCleared(
                prediction_id="P-1",
                outlet_id="BOOTH-STADION",
                sku="MADU-KELULUT-250",
                cleared_by=inv.ClearedBy.SLOWER_SALES,
                available=14,
            )
        )
    )

    assert board.fold(event(predicted())) is None  # replayed after its clearing
    assert board.snapshot()["forecasts"] == []


def test_a_cell_that_runs_out_loses_its_mark() -> None:
    board = Board()
    board.fold(event(predicted(), 0))
    board.fold(stock(3, 5))
    assert len(board.forecasts) == 1
    board.fold(stock(0, 10))
    assert board.forecasts == {}

    board.fold(event(predicted("P-2"), 20))
    gone = inv.StockAlertRaised(
        alert=inv.AlertKind.OUT_OF_STOCK,
        outlet_id="BOOTH-STADION",
        sku="MADU-KELULUT-250",
        on_hand=0,
        available=0,
    )
    assert board.fold(event(gone, 15))[0] == "alert"  # same partition: after the prediction
    assert board.snapshot()["forecasts"] == []


def test_a_stock_change_from_before_a_prediction_leaves_the_mark() -> None:
    # Stock changes and alerts come on different topics: a stock-out read after the
    # prediction may have happened before it (the cell was restocked since).
    board = Board()
    board.fold(event(predicted(), 30))
    board.fold(stock(0, 10))
    assert list(board.forecasts) == ["P-1"]


def test_a_newer_prediction_for_a_cell_replaces_the_older_one() -> None:
    board = Board()
    board.fold(event(predicted("P-1"), 0))
    board.fold(event(predicted("P-2"), 60))
    board.fold(event(predicted("P-3", sku="AMPLANG-IKAN-250"), 60))

    assert sorted(f["prediction_id"] for f in board.snapshot()["forecasts"]) == ["P-2", "P-3"]
    assert board.fold(event(predicted("P-1"), 90)) is None


def suggested(restock_id: str = "RS-1", qty: int = 40) -> restock.RestockSuggested:
    return restock.RestockSuggested(
        restock_id=restock_id,
        outlet_id="BOOTH-GOR",
        sku="AMPLANG-IKAN-250",
        supplier_id="SUP-SARI",
        suggested_qty=qty,
        available=12,
        reason="about 52 expected to sell by Sat 16:00; 12 left",
        send_at=AT + timedelta(minutes=10),
    )


def requested(restock_id: str = "RS-1", qty: int = 40) -> restock.RestockRequested:
    return restock.RestockRequested(
        restock_id=restock_id,
        outlet_id="BOOTH-GOR",
        sku="AMPLANG-IKAN-250",
        supplier_id="SUP-SARI",
        suggested_qty=qty,
        available=12,
        reorder_point=0,
        par_level=0,
        reason="about 52 expected to sell by Sat 16:00; 12 left; set to 60 by ops",
    )


def test_a_suggested_restock_is_held_on_the_board_until_its_request_goes_out() -> None:
    board = Board()

    assert board.fold(event(suggested())) == (
        "suggestion",
        {
            "restock_id": "RS-1",
            "outlet_id": "BOOTH-GOR",
            "sku": "AMPLANG-IKAN-250",
            "supplier_id": "SUP-SARI",
            "qty": 40,
            "available": 12,
            "reason": "about 52 expected to sell by Sat 16:00; 12 left",
            "send_at": (AT + timedelta(minutes=10)).isoformat(),
            "at": AT.isoformat(),
        },
    )
    assert [s["restock_id"] for s in board.snapshot()["suggestions"]] == ["RS-1"]

    kind, sent = board.fold(event(requested(qty=60), minutes=3)) or ("", {})
    assert (kind, sent["restock_id"], sent["status"]) == ("restock", "RS-1", "open")
    assert sent["qty"] == 60, "the quantity that went out"
    assert board.snapshot()["suggestions"] == []


def test_a_suggestion_read_twice_is_held_once() -> None:
    board = Board()
    once = event(suggested())
    board.fold(once)

    assert board.fold(once) is None, "the same event again"
    board.fold(event(suggested(qty=40)))  # sent again with an id of its own
    assert len(board.snapshot()["suggestions"]) == 1


def test_a_suggestion_read_after_its_request_shows_nothing() -> None:
    board = Board()
    board.fold(event(suggested()))
    board.fold(event(requested(), minutes=3))

    assert board.fold(event(suggested())) is None
    assert board.snapshot()["suggestions"] == []


def test_a_suggestion_closed_before_it_went_out_leaves_the_board() -> None:
    board = Board()
    board.fold(event(suggested("RS-1")))
    board.fold(event(suggested("RS-2")))

    closed = restock.RestockClosed(
        restock_id="RS-1", outlet_id="BOOTH-GOR", sku="AMPLANG-IKAN-250", received_qty=40
    )
    kind, update = board.fold(event(closed, minutes=5)) or ("", {})

    assert (kind, update["restock_id"], update["status"]) == ("restock", "RS-1", "closed")
    assert [s["restock_id"] for s in board.snapshot()["suggestions"]] == ["RS-2"]


# -- returns the inventory worker refused, and prices off the outlet's (issue 18) ----------

LINE = pos.SaleLine(sku="AMPLANG-IKAN-250", qty=3, unit_price_idr=25_000)
SALE = pos.SaleRecorded(sale_id="S1", outlet_id="BOOTH-GOR", lines=[LINE], sold_at=AT)


def returned(return_id: str = "R1", qty: int = 1, refund_idr: int | None = 20_000) -> Any:
    line = LINE.model_copy(update={"qty": qty})
    back = pos.SaleReturned(
        return_id=return_id,
        sale_id="S1",
        outlet_id="BOOTH-GOR",
        lines=[line],
        returned_at=AT + timedelta(minutes=40),  # 10:10 WITA: the hour after the sale's
        refund_idr=refund_idr,
    )
    return event(back, minutes=40)


def refusal(return_id: str = "R1") -> Any:
    refused = inv.ReturnRefused(
        return_id=return_id,
        sale_id="S1",
        outlet_id="BOOTH-GOR",
        kind="return",
        reason=inv.ReturnRefusal.MORE_THAN_SOLD,
        message="3 of AMPLANG-IKAN-250 sold, 3 already back",
    )
    return event(refused, minutes=40)


def takings(board: Board) -> tuple[dict[str, int], int]:
    return board.sales["BOOTH-GOR"], board.revenue["BOOTH-GOR"]


def test_a_return_takes_its_refund_off_revenue_not_its_price() -> None:
    board = Board()
    board.fold(event(SALE))

    kind, update = board.fold(returned(refund_idr=20_000))

    assert (kind, update["units"], update["amount_idr"]) == ("sale", -1, -20_000)
    assert takings(board) == ({"2026-11-29T09": 3, "2026-11-29T10": -1}, 55_000)
    board.fold(returned("R2", refund_idr=None))  # no refund given: qty x price
    assert board.revenue["BOOTH-GOR"] == 30_000


def test_a_refusal_read_after_its_return_adds_back_the_units_and_the_refund() -> None:
    board = Board()
    board.fold(event(SALE))
    board.fold(returned())

    folded = board.fold(refusal())

    assert isinstance(folded, list)
    [(kind, back), (alert_kind, alert)] = folded
    assert (kind, back["hour"], back["units"], back["amount_idr"]) == (
        "sale",
        "2026-11-29T10",
        1,
        20_000,
    )
    assert (alert_kind, alert["alert"], alert["sale_id"], alert["reason"]) == (
        "alert",
        "return_refused",
        "S1",
        "more_than_sold",
    )
    assert takings(board) == ({"2026-11-29T09": 3, "2026-11-29T10": 0}, 75_000)
    assert board.snapshot()["alerts"] == [alert]


def test_a_return_read_after_its_refusal_counts_nothing() -> None:
    board = Board()
    board.fold(event(SALE))
    kind, alert = board.fold(refusal())
    assert (kind, alert["alert"], alert["return_id"]) == ("alert", "return_refused", "R1")

    kind, update = board.fold(returned())

    assert (kind, update["units"], update["amount_idr"]) == ("sale", 0, 0)
    assert takings(board) == ({"2026-11-29T09": 3, "2026-11-29T10": 0}, 75_000)
    assert board.last_seen["BOOTH-GOR"] == (AT + timedelta(minutes=40)).isoformat()


def test_a_refused_return_leaves_the_same_board_in_either_order() -> None:
    sale, back, refused = event(SALE), returned(), refusal()
    first, then = Board(), Board()
    for folded in (sale, back, refused):
        first.fold(folded)
    for folded in (sale, refused, back):
        then.fold(folded)

    assert first.snapshot() == then.snapshot()


def test_a_refused_return_read_twice_in_either_order_is_taken_back_once() -> None:
    board = Board()
    sale, back, refused = event(SALE), returned(), refusal()
    for folded in (sale, back, back, refused, refused, back):
        board.fold(folded)

    assert takings(board) == ({"2026-11-29T09": 3, "2026-11-29T10": 0}, 75_000)
    assert len(board.alerts) == 1
    # The same refusal with an event id of its own (sent again) takes back nothing more.
    assert board.fold(refusal()) == ("alert", board.alerts[0])
    assert board.revenue["BOOTH-GOR"] == 75_000


def test_the_board_remembers_a_bounded_number_of_returns(monkeypatch: Any) -> None:
    monkeypatch.setattr(board_module, "REMEMBERED_RETURNS", 2)
    board = Board()
    board.fold(event(SALE))
    for return_id in ("R1", "R2", "R3"):
        board.fold(returned(return_id))
        board.fold(refusal(f"GONE-{return_id}"))

    assert list(board.counted_returns) == [("BOOTH-GOR", "R2"), ("BOOTH-GOR", "R3")]
    assert list(board.refused_returns) == [("BOOTH-GOR", "GONE-R2"), ("BOOTH-GOR", "GONE-R3")]
    # R1 was forgotten: its refusal can only tell ops; the others' still take them back.
    assert board.fold(refusal("R1"))[0] == "alert"
    board.fold(refusal("R3"))
    assert board.revenue["BOOTH-GOR"] == 75_000 - 20_000 - 20_000


def test_a_price_off_the_outlet_s_is_an_alert_and_the_sale_stands() -> None:
    board = Board()
    cheap = SALE.model_copy(update={"lines": [LINE.model_copy(update={"unit_price_idr": 15_000})]})
    board.fold(event(cheap))
    flagged = inv.PriceFlagged(
        outlet_id="BOOTH-GOR",
        sale_id="S1",
        sku="AMPLANG-IKAN-250",
        qty=3,
        unit_price_idr=15_000,
        outlet_price_idr=25_000,
        difference_percent=-40.0,
        tolerance_percent=10.0,
        sold_at=AT,
    )

    kind, alert = board.fold(event(flagged))

    assert kind == "alert"
    assert {k: alert[k] for k in ("alert", "sale_id", "sku", "difference_percent")} == {
        "alert": "price_flagged",
        "sale_id": "S1",
        "sku": "AMPLANG-IKAN-250",
        "difference_percent": -40.0,
    }
    assert (alert["unit_price_idr"], alert["outlet_price_idr"]) == (15_000, 25_000)
    assert board.revenue["BOOTH-GOR"] == 45_000, "sold at the price it was sold at"
    assert board.snapshot()["alerts"] == [alert]


def test_expiry_and_close_out_alerts_reach_the_alert_list() -> None:
    """Issue 21: ops see a batch about to expire, a closing count asked for, and a booth's
    close-out, among the alerts of their outlet."""
    board = Board()
    soon = inv.ExpiryAlert(
        kind=inv.ExpiryKind.SOON,
        outlet_id="IKN-01",
        sku="MADU-KELULUT-250",
        batch_code="MK-A",
        best_before=AT.date() + timedelta(days=2),
        qty=4,
    )
    due = inv.CloseOutDue(outlet_id="BOOTH-STADION", window_ends_at=AT, skus=2, units=9)
    closed = inv.BoothClosedOut(
        close_id="C-1",
        outlet_id="BOOTH-STADION",
        closed_at=AT,
        lines=[
            inv.CloseOutLine(
                sku="AMPLANG",
                sold=5,
                revenue_idr=75_000,
                left_over=4,
                difference=0,
                stockout_minutes=0,
                leftovers_to=inv.LeftoversTo.HOME,
                destination_id="SOUVENIR-GROGOT",
            )
        ],
        revenue_idr=75_000,
        transfer_id="C-1-HOME",
    )
    shown = [board.fold(event(payload)) for payload in (soon, due, closed)]
    assert [(kind, alert["alert"]) for kind, alert in shown] == [
        ("alert", "expiry_soon"),
        ("alert", "close_out_due"),
        ("alert", "booth_closed_out"),
    ]
    assert (shown[0][1]["batch_code"], shown[0][1]["qty"]) == ("MK-A", 4)
    assert (shown[2][1]["units"], shown[2][1]["left_over"]) == (5, 4)
