"""Issuing and paying as pure rules of `lumbung.books.service`: a statement from its
ledger, issue and payments, which issue and which payment may be written. Whatever needs
Redis or Kafka (503 while the books are rebuilt, a write sent twice through the API) is
checked on the real broker and Redis in tests/integration."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from lumbung.books.domain import Ledger, NotAllowed
from lumbung.books.service import (
    Parties,
    payment_to_record,
    statement_of,
    statement_to_issue,
    zone_of,
)
from lumbung.contracts import OutletChanged, SupplierChanged
from lumbung.contracts.events.catalog import Channel
from lumbung.platform.clock import WITA
from services.books.tests.unit.test_handlers import outlet

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=WITA)
NUMBER = "ST-2026-11-SUP-KERIPIK-IDM-GROGOT-1"
SOLD = {"2026-11-03|KERIPIK-PISANG-200|15000": 10}  # 150,000 gross, 15 % commission
KERIPIK = SupplierChanged(
    supplier_id="SUP-KERIPIK",
    name="Keripik Pisang Kuaro",
    owner_name="Nur Hasanah",
    version=1,
    changed_at=NOW - timedelta(days=90),
)


def shop(**more: Any) -> OutletChanged:
    return outlet("IDM-GROGOT-1", Channel.INDOMARET, commission_percent=15.0, **more)


class Books:
    """One statement's records as the read model holds them: its ledger, its issue and
    its payments, each as its event's data (and when it was written)."""

    def __init__(self, sold: dict[str, int] = SOLD) -> None:
        self.ledger = Ledger(sold=dict(sold), version=1)
        self.issued: dict[str, Any] | None = None
        self.payments: list[dict[str, Any]] = []

    def statement(self) -> dict[str, Any]:
        parties = Parties("2026-11", KERIPIK, shop(), "SUP-KERIPIK", "IDM-GROGOT-1", "Forum")
        return statement_of(parties, self.ledger, self.issued, self.payments)

    def issue(self, now: datetime = NOW, force: bool = False) -> bool:
        issued = statement_to_issue(self.statement(), WITA, now, force)
        if issued is not None:
            self.issued = issued.model_dump(mode="json") | {"at": now.isoformat()}
        return issued is not None

    def pay(self, payment_id: str, amount: int, **more: Any) -> bool:
        paid = {"payment_id": payment_id, "amount_idr": amount, "paid_at": NOW, **more}
        recorded = payment_to_record(self.statement(), paid)
        if recorded is not None:
            self.payments.append(recorded.model_dump(mode="json"))
        return recorded is not None


def test_an_open_statement_shows_its_ledger_with_the_catalogs_names() -> None:
    shown = Books().statement()

    assert (shown["number"], shown["state"], shown["net_idr"]) == (NUMBER, "open", 127_500)
    assert (shown["supplier_name"], shown["channel"]) == ("Keripik Pisang Kuaro", "indomaret")
    assert (shown["paid_idr"], shown["outstanding_idr"], shown["issued_at"]) == (0, 127_500, None)


def test_issue_then_two_payments_move_it_to_issued_part_paid_and_paid() -> None:
    books = Books()

    assert books.issue()
    assert (books.statement()["state"], books.statement()["issued_at"]) == (
        "issued",
        NOW.isoformat(),
    )
    assert books.pay("PAY-1", 100_000)
    part = books.statement()
    assert (part["state"], part["paid_idr"], part["outstanding_idr"]) == (
        "part_paid",
        100_000,
        27_500,
    )
    assert books.pay("PAY-2", 27_500)
    paid = books.statement()
    assert (paid["state"], paid["paid_idr"], paid["outstanding_idr"]) == ("paid", 127_500, 0)


def test_issuing_an_issued_statement_again_writes_nothing() -> None:
    books = Books()
    books.issue()

    assert books.issue() is False
    assert books.issue(force=True) is False


def test_the_issue_carries_the_statements_figures_for_its_supplier() -> None:
    statement = Books().statement()
    issued = statement_to_issue(statement, WITA, NOW, force=False)

    assert issued is not None
    assert (issued.number, issued.supplier_id, issued.outlet_id) == (
        NUMBER,
        "SUP-KERIPIK",
        "IDM-GROGOT-1",
    )
    assert (issued.net_idr, issued.commission_idr, issued.sold) == (127_500, 22_500, 10)


def test_a_month_not_ended_is_issued_only_when_forced() -> None:
    books = Books()
    last_minute = datetime(2026, 11, 30, 23, 59, tzinfo=WITA)

    with pytest.raises(NotAllowed, match="has not ended") as refused:
        books.issue(now=last_minute)
    assert refused.value.field == "period"
    assert books.issued is None
    assert books.issue(now=last_minute, force=True)
    assert books.statement()["state"] == "issued"


def test_a_month_ends_in_the_outlets_own_zone() -> None:
    statement = Books().statement()
    # Half past midnight in Makassar is still 30 November in Jakarta.
    moment = datetime(2026, 12, 1, 0, 30, tzinfo=WITA)
    jakarta = zone_of(shop(timezone="Asia/Jakarta"))

    assert statement_to_issue(statement, zone_of(shop()), moment, force=False) is not None
    with pytest.raises(NotAllowed, match="has not ended"):
        statement_to_issue(statement, jakarta, moment, force=False)
    assert zone_of(None) is WITA


def test_a_payment_before_the_issue_is_refused() -> None:
    books = Books()

    with pytest.raises(NotAllowed, match="not issued") as refused:
        books.pay("PAY-1", 1_000)
    assert refused.value.field == "number"


def test_a_payment_over_what_is_left_is_refused_naming_what_is_left() -> None:
    books = Books()
    books.issue()
    books.pay("PAY-1", 100_000)

    with pytest.raises(NotAllowed, match=r"Rp 30\.000 is more than the Rp 27\.500 left") as over:
        books.pay("PAY-2", 30_000)
    assert over.value.field == "amount_idr"
    assert [p["payment_id"] for p in books.payments] == ["PAY-1"]


def test_the_same_payment_again_is_recorded_once() -> None:
    books = Books()
    books.issue()
    books.pay("PAY-1", 100_000, method="cash")

    assert books.pay("PAY-1", 100_000, method="cash") is False
    assert books.statement()["paid_idr"] == 100_000


def test_a_payment_id_used_with_other_figures_is_refused() -> None:
    books = Books()
    books.issue()
    books.pay("PAY-1", 100_000, method="cash")

    with pytest.raises(NotAllowed, match="other figures") as reused:
        books.pay("PAY-1", 20_000, method="cash")
    assert reused.value.field == "payment_id"
    with pytest.raises(NotAllowed, match="other figures"):
        books.pay("PAY-1", 100_000, method="transfer")


def test_an_issued_statement_keeps_its_figures_and_says_when_sales_came_after() -> None:
    books = Books()
    books.issue()
    assert books.statement()["changed_since_issue"] is False

    books.ledger.sell("2026-11-30", "KERIPIK-PISANG-200", 15_000, 2)  # an offline till, late
    shown = books.statement()

    assert (shown["net_idr"], shown["sold"]) == (127_500, 10)  # as issued
    assert shown["changed_since_issue"] is True
