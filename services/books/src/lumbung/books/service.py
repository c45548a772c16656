"""Reading, issuing and paying statements: what the HTTP API does, without HTTP.

A statement is computed when it is read, from the worker's ledger in the read model and
the catalog (names, the outlet's commission history); once issued, it shows the figures
its `books.StatementIssued` carried. The API writes events only (acknowledged by Kafka
first), then puts them into the read model the projections also fill (first one wins).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from lumbung.books.adapters.read_model import BooksReadModel
from lumbung.books.domain import (
    Ledger,
    NotAllowed,
    Rebuilding,
    StatementState,
    UnknownStatement,
    figures,
    issued_event_id,
    lines_of,
    parse_number,
    payment_event_id,
    period_end,
    state_of,
    statement_number,
)
from lumbung.books.render import rupiah
from lumbung.contracts import make_event
from lumbung.contracts.events import books
from lumbung.contracts.events.catalog import CONSIGNMENT_CHANNELS, OutletChanged
from lumbung.platform.clock import WITA
from lumbung.platform.publisher import EventPublisher
from lumbung.platform.views import CatalogView

PRODUCER = "books-api"
FIGURES = ("lines", "sold", "returned", "gross_idr", "commission_idr", "net_idr", "refunds_idr")


def rate_on(outlet: OutletChanged | None) -> Callable[[date], float]:
    """The commission in force on a day: none where the forum sells itself."""
    if outlet is None or outlet.channel not in CONSIGNMENT_CHANNELS:
        return lambda _: 0.0
    return lambda day: outlet.commission_on(day) or 0.0


class BooksService:
    def __init__(
        self,
        publisher: EventPublisher,
        catalog: CatalogView,
        read_model: BooksReadModel,
        now: Callable[[], datetime],
        forum_name: str,
    ) -> None:
        self.publisher = publisher
        self.catalog = catalog
        self.read_model = read_model
        self.now = now
        self.forum_name = forum_name

    def _parse(self, number: str) -> tuple[str, str, str]:
        suppliers = (s.supplier_id for s in self.catalog.suppliers.values())
        outlets = (o.outlet_id for o in self.catalog.outlets.values())
        return parse_number(number, suppliers, outlets)

    async def statement(self, number: str) -> dict[str, Any]:
        return await self.build(*self._parse(number))

    async def build(self, period: str, supplier_id: str, outlet_id: str) -> dict[str, Any]:
        number = statement_number(period, supplier_id, outlet_id)
        ledger = Ledger.from_dict(await self.read_model.ledger(outlet_id, period, supplier_id))
        outlet = self.catalog.outlet(outlet_id)
        supplier = self.catalog.supplier(supplier_id)
        live = figures(*lines_of([ledger], rate_on(outlet)))
        issued = await self.read_model.issued(number)
        shown = {name: issued[name] for name in FIGURES} if issued is not None else live
        payments = await self.read_model.payments(number)
        paid = sum(p["amount_idr"] for p in payments)
        state = state_of(issued is not None, shown["net_idr"], paid)
        return {
            "number": number,
            "period": period,
            "state": state.value,
            "forum_name": self.forum_name,
            "supplier_id": supplier_id,
            "supplier_name": supplier.name if supplier is not None else supplier_id,
            "outlet_id": outlet_id,
            "outlet_name": outlet.name if outlet is not None else outlet_id,
            "channel": outlet.channel.value if outlet is not None else None,
            **shown,
            "issued_at": issued["at"] if issued is not None else None,
            "changed_since_issue": issued is not None and live != shown,
            "payments": payments,
            "paid_idr": paid,
            "outstanding_idr": max(shown["net_idr"] - paid, 0),
        }

    async def list(
        self, period: str | None, supplier_id: str | None, outlet_id: str | None
    ) -> list[dict[str, Any]]:
        months = [period] if period else await self.read_model.periods()
        found = []
        for month in months:
            for outlet, supplier in await self.read_model.pairs(month):
                if supplier_id not in (None, supplier) or outlet_id not in (None, outlet):
                    continue
                found.append(await self.build(month, supplier, outlet))
        return found

    async def _whole(self, number: str) -> dict[str, Any]:
        """The statement to write about, once the read model holds everything."""
        if not await self.read_model.is_built():
            raise Rebuilding("number", "the books are being rebuilt from Kafka: try again soon")
        return await self.statement(number)

    async def issue(self, number: str, force: bool = False) -> tuple[dict[str, Any], bool]:
        """The statement and whether this call issued it (False: it was already)."""
        statement = await self._whole(number)
        if statement["state"] != StatementState.OPEN.value:
            return statement, False
        outlet = self.catalog.outlet(statement["outlet_id"])
        zone = ZoneInfo(outlet.timezone) if outlet is not None else WITA
        ends = period_end(statement["period"], zone)
        if self.now() < ends and not force:
            raise NotAllowed(
                "period",
                f"{statement['period']} has not ended (it ends {ends.isoformat()}); "
                "issue it with force=true to issue it now",
            )
        payload = books.StatementIssued(
            number=number,
            period=statement["period"],
            supplier_id=statement["supplier_id"],
            outlet_id=statement["outlet_id"],
            **{name: statement[name] for name in FIGURES},
        )
        await self._write(payload, issued_event_id(number), number)
        return await self.statement(number), True

    async def pay(self, number: str, payment: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The statement after the payment, and whether this call recorded it (False: the
        same payment again)."""
        statement = await self._whole(number)
        if statement["state"] == StatementState.OPEN.value:
            raise NotAllowed("number", f"{number} is not issued yet: issue it first")
        recorded = books.PaymentRecorded(
            number=number,
            period=statement["period"],
            supplier_id=statement["supplier_id"],
            outlet_id=statement["outlet_id"],
            **payment,
        )
        wanted = recorded.model_dump(mode="json")
        for earlier in statement["payments"]:
            if earlier["payment_id"] == recorded.payment_id:
                if all(earlier[k] == v for k, v in wanted.items()):
                    return statement, False
                raise NotAllowed(
                    "payment_id", f"{recorded.payment_id} is recorded already, with other figures"
                )
        if recorded.amount_idr > statement["outstanding_idr"]:
            raise NotAllowed(
                "amount_idr",
                f"{rupiah(recorded.amount_idr)} is more than the "
                f"{rupiah(statement['outstanding_idr'])} left to pay on {number}",
            )
        await self._write(recorded, payment_event_id(number, recorded.payment_id), number)
        return await self.statement(number), True

    async def _write(self, payload: Any, event_id: Any, number: str) -> None:
        event = make_event(
            payload,
            event_id=event_id,
            occurred_at=self.now(),
            producer=PRODUCER,
            correlation_id=number,
        )
        await self.publisher.publish("books.events", payload.supplier_id, event)
        await self.read_model.put_event(event)


__all__ = ["BooksService", "NotAllowed", "UnknownStatement"]
