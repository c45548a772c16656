"""Best-before batches in the worker's stream, with no broker (issue 21): sales take the
soonest-expiring batch first, a batch near its date is warned of once, a batch past it
leaves what is available until written off, and the forecast does not count on units
that will expire before they sell."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import orjson

from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders
from lumbung.inventory.entrypoints.worker import stock_stream
from lumbung.inventory.handlers import expire_batches

from .test_forecast import KIOSK, Catalog, steady_day, tick
from .test_handlers import BOOTH, NOW, Shelf, ledger, on

TODAY = NOW.date()


def lot(sku: str, counted: int, best_before: date | None, code: str | None = None) -> Any:
    return inv.CountedLine(sku=sku, counted=counted, best_before=best_before, batch_code=code)


def counted(shelf: Shelf, *lines: inv.CountedLine, outlet: str = BOOTH) -> None:
    shelf.send(
        "inventory.commands",
        inv.StockCounted(
            count_id=f"C-{len(shelf.state)}",
            outlet_id=outlet,
            kind=inv.CountKind.FULL,
            lines=list(lines),
            counted_at=shelf.now,
        ),
    )


def batches(shelf: Shelf, sku: str = "MADU", outlet: str = BOOTH) -> list[tuple[str, int]]:
    return [(entry[1], entry[2]) for entry in shelf.stock(outlet, sku).batches or []]


def expiring(shelf: Shelf, days_later: int = 0, alert_days: int = 3) -> list[dict[str, Any]]:
    """The expiry tick at 09:00, `days_later` days from today, applied to the shelf."""
    at = NOW.replace(hour=9) + timedelta(days=days_later)
    outcome = expire_batches(shelf.stream_catalog, alert_days)(shelf.state, at)
    shelf.state.update(outcome.changes)
    return [orjson.loads(emit.value) for emit in outcome.events]


def honey_shelf() -> Shelf:
    """The booth holds 10 jars of honey: 4 good through the day after tomorrow (batch A),
    4 through next week (B), 2 with no date."""
    catalog = Catalog()
    shelf = Shelf(stock_stream(catalog))
    shelf.stream_catalog = catalog  # type: ignore[attr-defined]
    counted(
        shelf,
        lot("MADU", 4, TODAY + timedelta(days=7), "B"),
        lot("MADU", 4, TODAY + timedelta(days=2), "A"),
        lot("MADU", 2, None),
    )
    return shelf


def test_sales_take_the_batch_that_expires_first() -> None:
    shelf = honey_shelf()
    assert shelf.stock(BOOTH, "MADU").on_hand == 10
    assert batches(shelf) == [("A", 4), ("B", 4)]  # the soonest first, whatever the order

    shelf.sell(MADU=3)
    assert batches(shelf) == [("A", 1), ("B", 4)]
    shelf.sell(MADU=3)
    assert batches(shelf) == [("B", 2)]  # the undated units go after every dated one
    shelf.sell(MADU=3)
    assert batches(shelf) == []
    assert shelf.stock(BOOTH, "MADU").on_hand == 1


def test_a_batch_near_its_date_is_warned_of_once_and_past_it_is_not_available() -> None:
    shelf = honey_shelf()

    [soon] = expiring(shelf)  # A is good for 2 more days: within the 3 of the alert
    assert (soon["event_type"], soon["data"]["kind"]) == ("inventory.ExpiryAlert", "soon")
    assert (soon["data"]["batch_code"], soon["data"]["qty"]) == ("A", 4)
    assert soon["data"]["best_before"] == (TODAY + timedelta(days=2)).isoformat()
    assert expiring(shelf) == []  # once

    # The day after its best-before date: its 4 jars are on hand, not available.
    past = expiring(shelf, days_later=3)
    kinds = [(e["event_type"], e["data"].get("kind") or e["data"].get("reason")) for e in past]
    assert ("inventory.ExpiryAlert", "expired") in kinds
    [changed] = [e["data"] for e in past if e["event_type"] == "inventory.StockChanged"]
    assert (changed["on_hand"], changed["available"], changed["delta"], changed["reason"]) == (
        10,
        6,
        0,
        "expired",
    )
    stock = shelf.stock(BOOTH, "MADU")
    assert (stock.expired, batches(shelf)) == (4, [("B", 4)])

    # An order can hold only what is available, not the expired jars.
    placed = shelf.send(
        "inventory.orders-by-outlet",
        orders.OrderPlaced(
            order_id="O-1",
            outlet_id=BOOTH,
            lines=[orders.OrderLine(sku="MADU", qty=7)],
            pickup_at=NOW + timedelta(days=4),
        ),
    )
    [answer] = on("inventory.reservations", placed)
    assert answer.type == "inventory.ReservationRejected"

    # Written off with its reason: off the books, and what is available stays.
    written_off = shelf.send(
        "inventory.commands",
        inv.StockAdjusted(
            adjustment_id="W-1",
            outlet_id=BOOTH,
            sku="MADU",
            delta=-4,
            reason=inv.AdjustmentReason.EXPIRED,
        ),
    )
    assert ledger(written_off) == [("MADU", 6, 0, -4, "adjustment:expired")]
    stock = shelf.stock(BOOTH, "MADU")
    assert (stock.expired, stock.available, batches(shelf)) == (0, 6, [("B", 4)])


def test_the_forecast_does_not_count_on_units_that_expire_before_they_sell() -> None:
    catalog = Catalog(lead_days=1)  # a day's lead and half a day's margin: 36 h ahead
    shelf = Shelf(stock_stream(catalog))
    shelf.now = NOW.replace(hour=6)
    counted(shelf, lot("AMPLANG", 600, None), outlet=KIOSK)
    steady_day(shelf, KIOSK, NOW)  # 12 an hour: 564 left, two days of sales and more
    assert tick(shelf, catalog, NOW) == []

    # The same 564, but 544 of them good only through today: at 12 an hour the kiosk
    # sells at most 168 of those by midnight, and the rest is gone long before 36 h.
    counted(shelf, lot("AMPLANG", 544, TODAY, "L-1"), lot("AMPLANG", 20, None), outlet=KIOSK)
    [predicted] = tick(shelf, catalog, NOW + timedelta(minutes=1))
    assert predicted["event_type"] == "inventory.StockoutPredicted"
