"""Issuing and paying without HTTP or a broker: the service over an in-memory read model,
catalog and publisher."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from lumbung.books.domain import NotAllowed, Rebuilding
from lumbung.books.service import BooksService
from lumbung.contracts import OutletChanged, SupplierChanged
from lumbung.contracts.events.catalog import Channel
from lumbung.platform.clock import WITA
from services.books.tests.unit.test_handlers import outlet

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=WITA)
NUMBER = "ST-2026-11-SUP-KERIPIK-IDM-GROGOT-1"
LEDGER = {"sold": {"2026-11-03|KERIPIK-PISANG-200|15000": 10}, "returns": {}, "v": 1}


class ReadModel:
    """The read model as the service reads it, in memory."""

    def __init__(self, built: bool = True) -> None:
        self.built = built
        self.ledger_: dict[str, Any] = LEDGER
        self.issued_: dict[str, Any] = {}
        self.payments_: dict[str, dict[str, Any]] = {}

    async def is_built(self) -> bool:
        return self.built

    async def ledger(self, outlet_id: str, month: str, supplier_id: str) -> dict[str, Any]:
        return self.ledger_

    async def issued(self, number: str) -> dict[str, Any] | None:
        return self.issued_.get(number)

    async def payments(self, number: str) -> list[dict[str, Any]]:
        return list(self.payments_.get(number, {}).values())

    async def put_event(self, event: Any) -> None:
        data = event.data.model_dump(mode="json") | {"at": event.occurred_at.isoformat()}
        if "payment_id" in data:
            self.payments_.setdefault(data["number"], {})[data["payment_id"]] = data
        else:
            self.issued_.setdefault(data["number"], data)


class Catalog:
    def __init__(self) -> None:
        shop = outlet("IDM-GROGOT-1", Channel.INDOMARET, commission_percent=15.0)
        keripik = SupplierChanged(
            supplier_id="SUP-KERIPIK",
            name="Keripik Pisang Kuaro",
            owner_name="Nur Hasanah",
            version=1,
            changed_at=NOW - timedelta(days=90),
        )
        self.outlets = {shop.outlet_id: shop}
        self.suppliers = {keripik.supplier_id: keripik}

    def outlet(self, outlet_id: str) -> OutletChanged | None:
        return self.outlets.get(outlet_id)

    def supplier(self, supplier_id: str) -> SupplierChanged | None:
        return self.suppliers.get(supplier_id)


class Publisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    async def publish(self, topic: str, key: str, event: Any) -> None:
        self.sent.append((topic, key, event))


def books(read_model: ReadModel, now: datetime = NOW) -> tuple[BooksService, Publisher]:
    publisher = Publisher()
    service = BooksService(
        publisher,  # type: ignore[arg-type]
        Catalog(),  # type: ignore[arg-type]
        read_model,  # type: ignore[arg-type]
        lambda: now,
        "Forum UMKM Kabupaten Paser",
    )
    return service, publisher


def payment(payment_id: str, amount: int) -> dict[str, Any]:
    return {"payment_id": payment_id, "amount_idr": amount, "paid_at": NOW, "method": "cash"}


async def test_issue_then_two_payments_move_it_to_issued_part_paid_and_paid() -> None:
    service, publisher = books(ReadModel())

    issued, new = await service.issue(NUMBER)
    assert (issued["state"], issued["net_idr"], new) == ("issued", 127_500, True)
    again, new = await service.issue(NUMBER)
    assert (again["state"], new) == ("issued", False)
    part, _ = await service.pay(NUMBER, payment("PAY-1", 100_000))
    assert (part["state"], part["outstanding_idr"]) == ("part_paid", 27_500)
    with pytest.raises(NotAllowed, match=r"Rp 27\.500 left"):
        await service.pay(NUMBER, payment("PAY-2", 30_000))
    paid, _ = await service.pay(NUMBER, payment("PAY-2", 27_500))
    assert (paid["state"], paid["paid_idr"]) == ("paid", 127_500)

    assert [event.event_type for _, _, event in publisher.sent] == [
        "books.StatementIssued",
        "books.PaymentRecorded",
        "books.PaymentRecorded",
    ]
    assert {key for _, key, _ in publisher.sent} == {"SUP-KERIPIK"}


async def test_a_month_not_ended_is_issued_only_when_forced() -> None:
    service, _ = books(ReadModel(), now=datetime(2026, 11, 30, 23, 59, tzinfo=WITA))

    with pytest.raises(NotAllowed, match="has not ended"):
        await service.issue(NUMBER)
    issued, _ = await service.issue(NUMBER, force=True)
    assert issued["state"] == "issued"


async def test_nothing_is_written_while_the_read_model_is_rebuilt() -> None:
    service, publisher = books(ReadModel(built=False))

    with pytest.raises(Rebuilding):
        await service.issue(NUMBER)
    with pytest.raises(Rebuilding):
        await service.pay(NUMBER, payment("PAY-1", 1_000))
    assert publisher.sent == []


async def test_a_payment_before_the_issue_is_refused() -> None:
    service, publisher = books(ReadModel())

    with pytest.raises(NotAllowed, match="not issued"):
        await service.pay(NUMBER, payment("PAY-1", 1_000))
    assert publisher.sent == []


async def test_an_issued_statement_keeps_its_figures_and_says_when_sales_came_after() -> None:
    read_model = ReadModel()
    service, _ = books(read_model)
    issued, _ = await service.issue(NUMBER)
    assert issued["changed_since_issue"] is False

    late = {"2026-11-30|KERIPIK-PISANG-200|15000": 2}  # an offline till, sent late
    read_model.ledger_ = {**LEDGER, "sold": {**LEDGER["sold"], **late}, "v": 2}
    shown = await service.statement(NUMBER)

    assert (shown["net_idr"], shown["sold"]) == (127_500, 10)  # as issued
    assert shown["changed_since_issue"] is True
