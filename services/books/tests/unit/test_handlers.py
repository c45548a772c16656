"""The books worker's stream with no broker: records of real contract events go through
`kernel.Batch`, as one batch of the worker's transaction does."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from lumbung.books.domain import Ledger, sent_back_of
from lumbung.books.entrypoints.worker import ledgers_stream
from lumbung.books.handlers import UNKNOWN_SUPPLIER, forget_old_markers, ledger_key
from lumbung.contracts import OutletChanged, Registry, encode, make_event, sale_event_id
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.contracts.events.catalog import Channel
from lumbung.contracts.events.common import Payload
from lumbung.platform.clock import WITA
from lumbung.platform.kernel import Batch, IdMemory

REGISTRY = Registry()
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=WITA)
SHOP, KIOSK = "IDM-GROGOT-1", "IKN-01"
KERIPIK, AMPLANG, KOPI = "KERIPIK-PISANG-200", "AMPLANG-IKAN-250", "KOPI-LIBERIKA-200"
SUPPLIERS = {KERIPIK: "SUP-KERIPIK", AMPLANG: "SUP-AMPLANG", KOPI: "SUP-KERIPIK"}


def outlet(outlet_id: str, channel: Channel, **more: Any) -> OutletChanged:
    return OutletChanged(
        outlet_id=outlet_id,
        name=outlet_id,
        channel=channel,
        address="Tanah Grogot",
        version=1,
        changed_at=NOW - timedelta(days=60),
        **more,
    )


class Catalog:
    outlets = {
        SHOP: outlet(SHOP, Channel.INDOMARET, commission_percent=15.0),
        KIOSK: outlet(KIOSK, Channel.IKN_KIOSK),
    }

    def supplier_of(self, sku: str) -> str | None:
        return SUPPLIERS.get(sku)

    def outlet(self, outlet_id: str) -> OutletChanged | None:
        return self.outlets.get(outlet_id)


STREAM = ledgers_stream(Catalog())


class Task:
    """One task of the ledgers stream: its state, one batch per record."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self.ids = IdMemory(STREAM.ids_per_key, STREAM.id_horizon)
        self.offsets = itertools.count()
        self.dead: list[bytes] = []

    def send(self, topic: str, payload: Payload, event_id: Any = None) -> None:
        event = make_event(
            payload,
            event_id=event_id or uuid.uuid4(),
            occurred_at=NOW,
            producer="test",
            correlation_id="test",
        )
        record = SimpleNamespace(
            topic=REGISTRY.name(topic),
            partition=0,
            offset=next(self.offsets),
            key=inv.outlet_key(payload).encode(),
            value=encode(event),
        )
        batch = Batch(STREAM, REGISTRY, self.state, self.ids, NOW)
        batch.add(topic, record)
        batch.finish()
        self.dead += [value for name, _, value, _ in batch.out if name.endswith(".dlq")]

    def ledger(self, outlet_id: str, month: str, supplier: str) -> Ledger:
        return Ledger.from_dict(self.state.get(ledger_key(outlet_id, month, supplier)))


def sale(
    sale_id: str, at: datetime, *lines: tuple[str, int, int], outlet_id: str = SHOP
) -> pos.SaleRecorded:
    return pos.SaleRecorded(
        sale_id=sale_id,
        outlet_id=outlet_id,
        sold_at=at,
        lines=[pos.SaleLine(sku=s, qty=q, unit_price_idr=p) for s, q, p in lines],
    )


def returned(
    return_id: str, at: datetime, *lines: tuple[str, int, int], refund: int | None = None
) -> pos.SaleReturned:
    return pos.SaleReturned(
        return_id=return_id,
        sale_id="S-1",
        outlet_id=SHOP,
        returned_at=at,
        lines=[pos.SaleLine(sku=s, qty=q, unit_price_idr=p) for s, q, p in lines],
        refund_idr=refund,
    )


def refused(return_id: str) -> inv.ReturnRefused:
    return inv.ReturnRefused(
        return_id=return_id,
        sale_id="S-1",
        outlet_id=SHOP,
        kind="return",
        reason=inv.ReturnRefusal.MORE_THAN_SOLD,
        message="more than sold",
    )


def test_a_sale_counts_per_day_sku_and_price_in_each_suppliers_ledger() -> None:
    task = Task()
    task.send("pos.sales", sale("S-1", NOW, (KERIPIK, 3, 15_000), (AMPLANG, 2, 25_000)))
    task.send("pos.sales", sale("S-2", NOW, (KERIPIK, 1, 15_000), (KOPI, 1, 40_000)))

    keripik = task.ledger(SHOP, "2026-11", "SUP-KERIPIK")
    assert keripik.sold == {
        f"2026-11-20|{KERIPIK}|15000": 4,
        f"2026-11-20|{KOPI}|40000": 1,
    }
    assert task.ledger(SHOP, "2026-11", "SUP-AMPLANG").sold == {f"2026-11-20|{AMPLANG}|25000": 2}


def test_a_day_of_till_sales_is_live_and_a_day_of_report_sales_is_not() -> None:
    task = Task()
    task.send("pos.sales", sale("S-1", NOW, (KERIPIK, 3, 15_000)))
    reported = sale("RPT-TZ01-20261121", NOW + timedelta(days=1), (KERIPIK, 2, 15_000))
    task.send("pos.sales", reported.model_copy(update={"device_id": "report:indomaret"}))

    ledger = task.ledger(SHOP, "2026-11", "SUP-KERIPIK")
    assert ledger.live == ["2026-11-20"]
    assert ledger.sold == {
        f"2026-11-20|{KERIPIK}|15000": 3,
        f"2026-11-21|{KERIPIK}|15000": 2,
    }
    assert Ledger.from_dict(ledger.to_dict()) == ledger
    assert Ledger.from_dict({"sold": {}, "returns": {}, "v": 3}).live == []


def test_a_resent_sale_counts_once() -> None:
    task = Task()
    again = sale("S-1", NOW, (KERIPIK, 3, 15_000))
    for _ in range(2):
        task.send("pos.sales", again, event_id=sale_event_id(SHOP, "S-1"))

    assert task.ledger(SHOP, "2026-11", "SUP-KERIPIK").sold == {f"2026-11-20|{KERIPIK}|15000": 3}


def test_the_month_is_the_outlets_month_in_wita_not_utc() -> None:
    task = Task()
    # 1 December 00:30 WITA is still 30 November in UTC.
    first_of_december = datetime(2026, 12, 1, 0, 30, tzinfo=WITA)
    task.send("pos.sales", sale("S-1", first_of_december, (KERIPIK, 2, 15_000)))
    an_hour_before = first_of_december - timedelta(hours=1)
    task.send("pos.sales", sale("S-2", an_hour_before, (KERIPIK, 1, 15_000)))

    assert task.ledger(SHOP, "2026-12", "SUP-KERIPIK").sold == {f"2026-12-01|{KERIPIK}|15000": 2}
    assert task.ledger(SHOP, "2026-11", "SUP-KERIPIK").sold == {f"2026-11-30|{KERIPIK}|15000": 1}


def test_a_return_is_kept_with_its_day_its_sales_day_lines_and_refund() -> None:
    task = Task()
    task.send("pos.sales", sale("S-1", NOW - timedelta(days=5), (KERIPIK, 3, 15_000)))
    task.send("pos.sales", returned("R-1", NOW, (KERIPIK, 1, 15_000), refund=14_000))
    task.send(
        "pos.sales",
        returned("R-9", NOW, (KERIPIK, 1, 15_000)).model_copy(update={"sale_id": "S-UNKNOWN"}),
    )

    returns = task.ledger(SHOP, "2026-11", "SUP-KERIPIK").returns
    assert returns["R-1"] == {
        "day": "2026-11-20",
        "sold_on": "2026-11-15",
        "lines": [[KERIPIK, 15_000, 1]],
        "refund": 14_000,
    }
    assert returns["R-9"]["sold_on"] == "2026-11-20"  # a sale not remembered: its own day


def test_a_return_over_two_suppliers_splits_its_refund_by_value() -> None:
    task = Task()
    task.send("pos.sales", returned("R-1", NOW, (KERIPIK, 1, 15_000), (AMPLANG, 1, 25_000)))

    keripik = task.ledger(SHOP, "2026-11", "SUP-KERIPIK").returns["R-1"]["refund"]
    amplang = task.ledger(SHOP, "2026-11", "SUP-AMPLANG").returns["R-1"]["refund"]
    assert (keripik, amplang) == (15_000, 25_000)


def test_a_refusal_after_its_return_takes_the_return_out() -> None:
    task = Task()
    task.send("pos.sales", sale("S-1", NOW, (KERIPIK, 3, 15_000)))
    task.send("pos.sales", returned("R-1", NOW, (KERIPIK, 5, 15_000)))
    task.send("inventory.alerts", refused("R-1"))

    assert task.ledger(SHOP, "2026-11", "SUP-KERIPIK").returns == {}


def test_a_refusal_before_its_return_keeps_the_return_out() -> None:
    before, after = Task(), Task()
    sold = sale("S-1", NOW, (KERIPIK, 3, 15_000))
    back = returned("R-1", NOW, (KERIPIK, 5, 15_000))
    for task, order in ((before, (refused("R-1"), back)), (after, (back, refused("R-1")))):
        task.send("pos.sales", sold)
        for payload in order:
            task.send("pos.sales" if payload is back else "inventory.alerts", payload)

    ledger = before.ledger(SHOP, "2026-11", "SUP-KERIPIK")
    assert ledger.returns == {}
    assert ledger.sold == after.ledger(SHOP, "2026-11", "SUP-KERIPIK").sold


def test_other_alerts_are_ignored_not_dead_lettered() -> None:
    task = Task()
    flagged = inv.PriceFlagged(
        outlet_id=SHOP,
        sale_id="S-1",
        sku=KERIPIK,
        qty=1,
        unit_price_idr=10_000,
        outlet_price_idr=15_000,
        difference_percent=-33.3,
        tolerance_percent=10.0,
        sold_at=NOW,
    )
    task.send("inventory.alerts", flagged)

    assert task.dead == []
    assert task.state == {}


def test_goods_sent_back_are_kept_per_supplier_once_and_never_as_sold() -> None:
    task = Task()
    back = inv.GoodsSentBack(
        sendback_id="RB-1",
        outlet_id=SHOP,
        lines=[inv.TransferLine(sku=KERIPIK, qty=4), inv.TransferLine(sku=AMPLANG, qty=1)],
        reason=inv.SendBackReason.EXPIRED,
        sent_at=NOW,
    )
    task.send("inventory.commands", back)
    task.send("inventory.commands", back)  # the same send-back under another event id
    # A retry dated anew, in the next month: still the one send-back.
    task.send("inventory.commands", back.model_copy(update={"sent_at": NOW + timedelta(days=11)}))

    keripik = task.ledger(SHOP, "2026-11", "SUP-KERIPIK")
    assert keripik.sent_back == {
        "RB-1": {"day": "2026-11-20", "reason": "expired", "lines": [[KERIPIK, 4]]}
    }
    assert (keripik.sold, keripik.version) == ({}, 1)
    assert task.ledger(SHOP, "2026-12", "SUP-KERIPIK").sent_back == {}
    assert sent_back_of([keripik, task.ledger(SHOP, "2026-11", "SUP-AMPLANG")]) == [
        {"sku": AMPLANG, "qty": 1, "reason": "expired"},
        {"sku": KERIPIK, "qty": 4, "reason": "expired"},
    ]


def test_other_commands_and_transfers_are_ignored_not_dead_lettered() -> None:
    task = Task()
    count = inv.StockCounted(
        count_id="C-1",
        outlet_id=SHOP,
        lines=[inv.CountedLine(sku=KERIPIK, counted=5)],
        counted_at=NOW,
    )
    lines = [inv.TransferLine(sku=KERIPIK, qty=2)]
    transfer = inv.TransferRequested(
        transfer_id="T-1", from_outlet_id=SHOP, to_outlet_id=KIOSK, lines=lines
    )
    overdue = inv.TransferOverdue(
        transfer_id="T-1", from_outlet_id=SHOP, to_outlet_id=KIOSK, lines=lines, expected_at=NOW
    )
    task.send("inventory.commands", count)
    task.send("inventory.commands", transfer)
    task.send("inventory.alerts", overdue)

    assert (task.dead, task.state) == ([], {})


def test_a_sku_the_catalog_does_not_know_is_kept_under_an_unknown_supplier() -> None:
    task = Task()
    task.send("pos.sales", sale("S-1", NOW, ("TIDAK-DIKENAL", 1, 5_000)))

    assert task.ledger(SHOP, "2026-11", UNKNOWN_SUPPLIER).sold == {
        "2026-11-20|TIDAK-DIKENAL|5000": 1
    }


def test_returns_and_send_backs_are_forgotten_after_their_horizon() -> None:
    task = Task()
    task.send("pos.sales", returned("R-1", NOW, (KERIPIK, 1, 15_000)))
    task.send("inventory.alerts", refused("R-2"))
    lines = [inv.TransferLine(sku=KERIPIK, qty=1)]
    task.send(
        "inventory.commands",
        inv.GoodsSentBack(sendback_id="RB-1", outlet_id=SHOP, lines=lines, sent_at=NOW),
    )

    assert forget_old_markers(task.state, NOW + timedelta(days=30)).changes == {}
    gone = forget_old_markers(task.state, NOW + timedelta(days=91)).changes
    assert gone == {f"r|{SHOP}|R-1": None, f"x|{SHOP}|R-2": None, f"s|{SHOP}|RB-1": None}
