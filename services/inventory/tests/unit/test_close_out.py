"""A booth's close-out in the worker's stream, with no broker (issue 21): the closing count
asked for once its window has closed, the count booked, the leftovers going home as a
transfer or back to a producer who asked for them, and the report of what the booth sold,
what was left and how long each product was out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lumbung.contracts.events import catalog as cat
from lumbung.contracts.events import inventory as inv
from lumbung.inventory.entrypoints.worker import stock_stream
from lumbung.inventory.handlers import ask_for_closing_counts, closing

from .test_handlers import BOOTH, IKN, NOW, Sent, Shelf, ledger, on

REVISION: dict[str, Any] = {"version": 1, "changed_at": NOW - timedelta(days=10)}
OPENS, CLOSES = NOW - timedelta(hours=2), NOW + timedelta(hours=8)
SUPPLIERS = {"AMPLANG": "SUP-BORNEO", "MADU": "SUP-HUTAN"}


class Catalog:
    """A Porprov booth whose home is the IKN kiosk; the honey's producer wants its
    leftovers back when `honey_back`."""

    def __init__(self, home: str | None = IKN, honey_back: bool = False) -> None:
        self.booth = cat.OutletChanged(
            outlet_id=BOOTH,
            name="Booth",
            channel=cat.Channel.EVENT_BOOTH,
            address="Stadion",
            active_window=cat.TimeWindow(starts_at=OPENS, ends_at=CLOSES),
            home_outlet_id=home,
            **REVISION,
        )
        self.suppliers = {
            supplier_id: cat.SupplierChanged(
                supplier_id=supplier_id,
                name=supplier_id,
                owner_name="Bu Sari",
                takes_back_leftovers=honey_back and supplier_id == "SUP-HUTAN",
                **REVISION,
            )
            for supplier_id in SUPPLIERS.values()
        }

    def knows_sku(self, sku: str) -> bool:
        return sku in SUPPLIERS

    def supplier_of(self, sku: str) -> str | None:
        return SUPPLIERS.get(sku)

    def supplier(self, supplier_id: str) -> cat.SupplierChanged | None:
        return self.suppliers.get(supplier_id)

    def product(self, sku: str) -> None:
        return None

    def outlet(self, outlet_id: str) -> cat.OutletChanged | None:
        return self.booth if outlet_id == BOOTH else None

    def calendar_event(self, calendar_id: str) -> None:
        return None


def booth(catalog: Catalog) -> Shelf:
    shelf = Shelf(stock_stream(catalog))
    shelf.now = OPENS
    shelf.count(AMPLANG=10, MADU=4)
    return shelf


def close(shelf: Shelf, close_id: str = "CLOSE-1", **counted: int) -> list[Sent]:
    return shelf.send(
        "inventory.commands",
        inv.BoothClosed(
            close_id=close_id,
            outlet_id=BOOTH,
            lines=[inv.CountedLine(sku=sku, counted=n) for sku, n in counted.items()],
            closed_at=shelf.now,
        ),
    )


def report(sent: list[Sent]) -> dict[str, Any]:
    [closed_out] = [s for s in on("inventory.alerts", sent) if s.type == "inventory.BoothClosedOut"]
    return closed_out.data


def units(lines: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(line["sku"], line["qty"]) for line in lines]


def test_a_booth_closes_with_its_leftovers_going_home_and_a_report_of_its_window() -> None:
    shelf = booth(Catalog())
    shelf.now = OPENS + timedelta(hours=1)
    shelf.sell(AMPLANG=3)
    shelf.sell(MADU=4)  # out from here...
    shelf.now = OPENS + timedelta(hours=1, minutes=30)
    shelf.count(MADU=2)  # ...until the stockroom's two were found, 30 minutes later
    shelf.sell(MADU=2)  # and out again until the close
    shelf.now = CLOSES + timedelta(minutes=20)

    sent = close(shelf, AMPLANG=6)  # one short; the honey left out: taken as booked (0)

    assert ledger(sent)[0] == ("AMPLANG", 6, 0, -1, "closing_count")
    lines = {line["sku"]: line for line in report(sent)["lines"]}
    assert lines["AMPLANG"] == {
        "sku": "AMPLANG",
        "sold": 3,
        "revenue_idr": 45_000,
        "left_over": 6,
        "difference": -1,
        "stockout_minutes": 0,
        "leftovers_to": "home",
        "destination_id": IKN,
    }
    # Out 30 minutes, then from its second sale (1 h 30 after opening) to the window's
    # end, 8 h 30 later: the 20 minutes after the window do not count.
    assert lines["MADU"]["stockout_minutes"] == 30 + 8 * 60 + 30
    assert (lines["MADU"]["sold"], lines["MADU"]["left_over"]) == (6, 0)
    assert lines["MADU"]["leftovers_to"] == "none"
    assert report(sent)["revenue_idr"] == 9 * 15_000
    assert report(sent)["window_ends_at"] == CLOSES.isoformat()

    [home] = on("inventory.commands", sent)
    assert (home.type, home.key) == ("inventory.TransferRequested", BOOTH)
    assert home.data["to_outlet_id"] == IKN
    assert units(home.data["lines"]) == [("AMPLANG", 6)]

    # Applied as any transfer: the leftovers leave the booth and are in transit home.
    dispatched = shelf.send_raw("inventory.commands", home.key, home.value)
    assert ledger(dispatched) == [("AMPLANG", 0, 0, -6, "transfer_out")]
    [on_its_way] = on("inventory.commands", dispatched)
    assert (on_its_way.type, on_its_way.key) == ("inventory.TransferDispatched", IKN)
    assert on_its_way.data["transfer_id"] == report(sent)["transfer_id"]
    # The next window's figures start at nothing (and the booth is out from now on).
    assert shelf.stock(BOOTH, "AMPLANG").tally == [0, 0, 0, int(shelf.now.timestamp())]


def test_a_producer_who_asked_for_its_goods_back_gets_them_and_the_rest_goes_home() -> None:
    shelf = booth(Catalog(honey_back=True))
    shelf.now = CLOSES

    sent = close(shelf, AMPLANG=10, MADU=4)

    [home, back] = on("inventory.commands", sent)
    assert units(home.data["lines"]) == [("AMPLANG", 10)]
    assert back.type == "inventory.GoodsSentBack"
    assert units(back.data["lines"]) == [("MADU", 4)]
    assert back.data["reason"] == "unsold"
    lines = {line["sku"]: line for line in report(sent)["lines"]}
    assert (lines["MADU"]["leftovers_to"], lines["MADU"]["destination_id"]) == (
        "producer",
        "SUP-HUTAN",
    )
    returned = shelf.send_raw("inventory.commands", back.key, back.value)
    assert ledger(returned) == [("MADU", 0, 0, -4, "sent_back:unsold")]


def test_leftovers_of_a_booth_without_a_home_stay_and_the_report_says_so() -> None:
    shelf = booth(Catalog(home=None))
    shelf.now = CLOSES

    sent = close(shelf, AMPLANG=10, MADU=4)

    assert on("inventory.commands", sent) == []
    assert {line["leftovers_to"] for line in report(sent)["lines"]} == {"stays"}
    assert report(sent)["transfer_id"] is None


def test_the_closing_count_is_asked_for_once_the_window_has_closed_and_once_only() -> None:
    catalog = Catalog()
    shelf = booth(catalog)
    ask = ask_for_closing_counts(catalog)

    assert ask(shelf.state, CLOSES - timedelta(minutes=1)).events == []  # still selling
    asked = ask(shelf.state, CLOSES)
    [due] = asked.events
    assert due.key == BOOTH
    shelf.state.update(asked.changes)
    assert ask(shelf.state, CLOSES + timedelta(minutes=10)).events == []  # asked already

    shelf.now = CLOSES + timedelta(minutes=30)
    close(shelf, AMPLANG=10, MADU=4)
    assert shelf.state[closing(BOOTH)] == [CLOSES.isoformat(), True]
    assert ask(shelf.state, CLOSES + timedelta(hours=1)).events == []


def test_a_booth_closed_before_it_was_asked_is_not_asked_afterwards() -> None:
    catalog = Catalog(home=None)  # its leftovers stay, so it still has stock
    shelf = booth(catalog)
    shelf.now = CLOSES - timedelta(minutes=5)  # the staff counted as they packed up
    close(shelf, AMPLANG=10, MADU=4)

    assert ask_for_closing_counts(catalog)(shelf.state, CLOSES + timedelta(hours=1)).events == []
