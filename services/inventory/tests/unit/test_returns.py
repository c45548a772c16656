"""Returns and voids against their sale, and prices against the outlet's, in the worker's
stream with no broker: what is applied, what is refused, and what ops hear."""

from __future__ import annotations

from datetime import UTC, timedelta, tzinfo
from types import SimpleNamespace
from typing import Any

from lumbung.contracts.events import catalog as cat
from lumbung.contracts.events import pos
from lumbung.inventory.entrypoints.worker import stock_stream
from lumbung.inventory.handlers import came_back, forget_old_decisions, sold_key
from lumbung.platform.kernel import note_key

from .test_forecast import KIOSK, Catalog
from .test_handlers import BOOTH, NOW, Sent, Shelf, envelope, ledger, on


def sold(shelf: Shelf, sale_id: str = "S-1", qty: int = 3, price: int = 25_000) -> list[Sent]:
    return shelf.send(
        "pos.sales",
        pos.SaleRecorded(
            sale_id=sale_id,
            outlet_id=BOOTH,
            lines=[pos.SaleLine(sku="AMPLANG", qty=qty, unit_price_idr=price)],
            sold_at=NOW,
        ),
    )


def back(
    shelf: Shelf,
    qty: int,
    return_id: str = "R-1",
    sale_id: str = "S-1",
    kind: pos.ReturnKind = pos.ReturnKind.RETURN,
    after: timedelta = timedelta(minutes=5),
    disposition: pos.ReturnDisposition = pos.ReturnDisposition.RESTOCK,
    zone: tzinfo | None = None,
) -> list[Sent]:
    return shelf.send(
        "pos.sales",
        pos.SaleReturned(
            return_id=return_id,
            sale_id=sale_id,
            outlet_id=BOOTH,
            kind=kind,
            lines=[pos.SaleLine(sku="AMPLANG", qty=qty, unit_price_idr=25_000)],
            returned_at=(NOW + after).astimezone(zone or NOW.tzinfo),
            disposition=disposition,
        ),
    )


def shelf_record(payload: Any, offset: int) -> SimpleNamespace:
    """A record of `payload` on pos.sales, keyed by its outlet, as a batch consumes it."""
    return SimpleNamespace(
        topic="pos.sales",
        partition=0,
        offset=1000 + offset,
        key=payload.outlet_id.encode(),
        value=envelope(payload),
    )


def refusals(sent: list[Sent]) -> list[tuple[str, str]]:
    return [
        (s.data["return_id"], s.data["reason"])
        for s in on("inventory.alerts", sent)
        if s.type == "inventory.ReturnRefused"
    ]


def opened() -> Shelf:
    shelf = Shelf(stock_stream(Catalog()))
    shelf.count(AMPLANG=10)
    return shelf


def test_a_return_brings_back_at_most_what_its_sale_sold_less_what_came_back() -> None:
    shelf = opened()
    sold(shelf, qty=3)

    assert ledger(back(shelf, 2, "R-1")) == [("AMPLANG", 9, 0, 2, "sale_return")]
    too_many = back(shelf, 2, "R-2")
    assert ledger(too_many) == []  # refused: no stock changes
    assert refusals(too_many) == [("R-2", "more_than_sold")]
    [refusal] = on("inventory.alerts", too_many)
    assert "1 left to return" in refusal.data["message"]
    assert ledger(back(shelf, 1, "R-3")) == [("AMPLANG", 10, 0, 1, "sale_return")]
    assert shelf.stock(BOOTH, "AMPLANG").on_hand == 10


def test_a_hundred_back_from_a_one_unit_sale_is_refused() -> None:
    shelf = opened()
    sold(shelf, qty=1)

    sent = back(shelf, 100)

    assert refusals(sent) == [("R-1", "more_than_sold")]
    assert shelf.stock(BOOTH, "AMPLANG").on_hand == 9


def test_a_return_of_a_sale_the_worker_does_not_know_is_refused() -> None:
    shelf = opened()

    sent = back(shelf, 1, sale_id="S-NEVER")

    assert refusals(sent) == [("R-1", "sale_unknown")]
    assert shelf.stock(BOOTH, "AMPLANG").on_hand == 10


def test_a_void_cancels_the_whole_sale_within_the_window_and_nothing_else() -> None:
    shelf = opened()
    sold(shelf, "S-1", qty=3)
    sold(shelf, "S-2", qty=2)
    sold(shelf, "S-3", qty=4)

    assert ledger(back(shelf, 3, "V-1", "S-1", pos.ReturnKind.VOID)) == [
        ("AMPLANG", 4, 0, 3, "sale_void")
    ]
    late = back(shelf, 2, "V-2", "S-2", pos.ReturnKind.VOID, after=timedelta(minutes=31))
    part = back(shelf, 1, "V-3", "S-3", pos.ReturnKind.VOID)

    assert refusals(late) == [("V-2", "void_too_late")]
    assert refusals(part) == [("V-3", "void_not_whole")]
    assert shelf.stock(BOOTH, "AMPLANG").on_hand == 4


def test_a_damaged_return_is_booked_in_and_written_off() -> None:
    shelf = opened()
    sold(shelf, qty=3)

    sent = back(shelf, 2, disposition=pos.ReturnDisposition.DAMAGED)

    assert ledger(sent) == [
        ("AMPLANG", 9, 0, 2, "sale_return"),
        ("AMPLANG", 7, 0, -2, "adjustment:damaged"),
    ]


def test_what_came_back_of_a_sale_is_kept_as_long_as_the_sale_is_remembered() -> None:
    shelf = opened()
    sold(shelf, qty=3)
    back(shelf, 3)

    # A tick days later, the sale still remembered: what came back stays, so a second
    # full return is refused, not applied again.
    kept = forget_old_decisions(shelf.state, NOW + timedelta(days=8))
    shelf.state.update(kept.changes)
    assert came_back(BOOTH, "S-1") in shelf.state
    assert refusals(back(shelf, 3, "R-2")) == [("R-2", "more_than_sold")]

    # Once the sale's note went with its remembered id, what came back of it goes too.
    del shelf.state[note_key(sold_key(BOOTH, "S-1"))]
    gone = forget_old_decisions(shelf.state, NOW + timedelta(days=8))
    assert gone.changes == {came_back(BOOTH, "S-1"): None}


def test_a_return_in_the_same_batch_as_its_sale_finds_it() -> None:
    shelf = opened()
    batch = shelf.batch()
    for n, payload in enumerate(
        [
            pos.SaleRecorded(
                sale_id="S-1",
                outlet_id=BOOTH,
                lines=[pos.SaleLine(sku="AMPLANG", qty=2, unit_price_idr=25_000)],
                sold_at=NOW,
            ),
            pos.SaleReturned(
                return_id="R-1",
                sale_id="S-1",
                outlet_id=BOOTH,
                lines=[pos.SaleLine(sku="AMPLANG", qty=2, unit_price_idr=25_000)],
                returned_at=NOW,
            ),
        ]
    ):
        batch.add("pos.sales", shelf_record(payload, n))
    batch.finish()

    assert shelf.stock(BOOTH, "AMPLANG").on_hand == 10


def test_the_void_window_is_the_same_whatever_zone_the_times_are_written_in() -> None:
    shelf = opened()
    sold(shelf, qty=2)  # sold at 10.00 WITA (02.00 UTC)

    in_utc = back(shelf, 2, "V-1", kind=pos.ReturnKind.VOID, after=timedelta(minutes=29), zone=UTC)

    assert ledger(in_utc) == [("AMPLANG", 10, 0, 2, "sale_void")]


def test_a_sale_at_any_price_is_applied_though_its_flag_states_at_most_a_million_percent() -> None:
    shelf = Shelf(stock_stream(priced(10)))
    shelf.count(AMPLANG=10)

    off = sold(shelf, "S-1", qty=1, price=200_000_000)

    assert shelf.stock(BOOTH, "AMPLANG").on_hand == 9
    [flag] = on("inventory.alerts", off)
    assert flag.data["difference_percent"] == 1_000_000.0


def priced(own_price: int | None) -> Catalog:
    """The test catalog with the booth in it, selling AMPLANG (Rp 25.000) at `own_price`."""
    catalog = Catalog()
    kiosk = catalog.outlets[KIOSK]
    catalog.outlets[BOOTH] = cat.OutletChanged(
        **{
            **kiosk.model_dump(),
            "outlet_id": BOOTH,
            "assortment": [cat.AssortmentItem(sku="AMPLANG", price_idr=own_price)],
        }
    )
    return catalog


def test_a_line_priced_off_the_outlets_price_is_applied_and_flagged() -> None:
    shelf = Shelf(stock_stream(priced(20_000), price_tolerance=10.0))
    shelf.count(AMPLANG=10)

    at_price = sold(shelf, "S-1", price=21_000)  # 5 % off the outlet's own price
    off = sold(shelf, "S-2", price=25_000)  # the product's price, 25 % off the outlet's

    assert on("inventory.alerts", at_price) == []
    [flag] = on("inventory.alerts", off)
    assert flag.type == "inventory.PriceFlagged"
    assert (flag.data["unit_price_idr"], flag.data["outlet_price_idr"]) == (25_000, 20_000)
    assert flag.data["difference_percent"] == 25.0
    assert shelf.stock(BOOTH, "AMPLANG").on_hand == 4  # both sales of 3 stand


def test_without_an_outlet_price_the_products_price_is_the_reference() -> None:
    shelf = Shelf(stock_stream(priced(None)))
    shelf.count(AMPLANG=10)

    assert on("inventory.alerts", sold(shelf, "S-1", price=25_000)) == []
    assert [s.type for s in on("inventory.alerts", sold(shelf, "S-2", price=15_000))] == [
        "inventory.PriceFlagged"
    ]
