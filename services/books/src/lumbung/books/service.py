"""Reading, issuing and paying statements: what the HTTP API does, without HTTP.

A statement is computed when it is read, from the worker's ledger in the read model and
the catalog (names, the outlet's commission history); once issued, it shows the figures
its `books.StatementIssued` carried. The API writes events only (acknowledged by Kafka
first), then puts them into the read model the projections also fill (first one wins).
The rules are plain functions (`statement_of`, `statement_to_issue`, `payment_to_record`)
of what `BooksService` reads from the read model and the catalog.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from lumbung.books.adapters.inventory import InventoryApi
from lumbung.books.adapters.read_model import BooksReadModel
from lumbung.books.adapters.reports_view import ReportsView
from lumbung.books.domain import (
    BooksError,
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
    sent_back_of,
    state_of,
    statement_number,
)
from lumbung.books.imports import (
    Decision,
    Outcome,
    decide,
    differences_json,
    live_days,
    on_hand,
    sales_body,
)
from lumbung.books.render import rupiah
from lumbung.books.reports import Period, Report, ReportError, flag, read
from lumbung.contracts import make_event
from lumbung.contracts.events import books
from lumbung.contracts.events.catalog import CONSIGNMENT_CHANNELS, OutletChanged, SupplierChanged
from lumbung.contracts.ids import LUMBUNG_NAMESPACE
from lumbung.platform.clock import WITA
from lumbung.platform.publisher import EventPublisher
from lumbung.platform.views import CatalogView

PRODUCER = "books-api"
FIGURES = (
    "lines",
    "sold",
    "returned",
    "gross_idr",
    "commission_idr",
    "net_idr",
    "refunds_idr",
    "sent_back",
)


def rate_on(outlet: OutletChanged | None) -> Callable[[date], float]:
    """The commission in force on a day: none where the forum sells itself."""
    if outlet is None or outlet.channel not in CONSIGNMENT_CHANNELS:
        return lambda _: 0.0
    return lambda day: outlet.commission_on(day) or 0.0


def zone_of(outlet: OutletChanged | None) -> tzinfo:
    """The zone whose calendar the outlet's months follow (WITA where it is unknown)."""
    return ZoneInfo(outlet.timezone) if outlet is not None else WITA


class BadReport(BooksError):
    """The report file cannot be read with its profile: nothing is imported (422)."""


@dataclass(frozen=True)
class Upload:
    """A report file as it was sent, with what identifies it."""

    retailer: str
    store: str
    period: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class Parties:
    """Whom a statement is between, for which month: the catalog's records where it has
    them, else their ids."""

    period: str
    supplier: SupplierChanged | None
    outlet: OutletChanged | None
    supplier_id: str
    outlet_id: str
    forum_name: str


def statement_of(
    parties: Parties,
    ledger: Ledger,
    issued: Mapping[str, Any] | None,
    payments: list[dict[str, Any]],
) -> dict[str, Any]:
    """A statement as the API shows it: the live figures of its ledger until it is
    issued, the issued ones after (and whether sales came since), with its payments."""
    outlet, supplier = parties.outlet, parties.supplier
    live = figures(*lines_of([ledger], rate_on(outlet)), sent_back_of([ledger]))
    shown = live
    if issued is not None:
        # (a statement issued before goods could be sent back has no `sent_back`)
        shown = {name: issued[name] for name in FIGURES if name != "sent_back"}
        shown["sent_back"] = issued.get("sent_back", [])
    paid = sum(p["amount_idr"] for p in payments)
    state = state_of(issued is not None, shown["net_idr"], paid)
    return {
        "number": statement_number(parties.period, parties.supplier_id, parties.outlet_id),
        "period": parties.period,
        "state": state.value,
        "forum_name": parties.forum_name,
        "supplier_id": parties.supplier_id,
        "supplier_name": supplier.name if supplier is not None else parties.supplier_id,
        "outlet_id": parties.outlet_id,
        "outlet_name": outlet.name if outlet is not None else parties.outlet_id,
        "channel": outlet.channel.value if outlet is not None else None,
        **shown,
        "issued_at": issued["at"] if issued is not None else None,
        "changed_since_issue": issued is not None and live != shown,
        "payments": payments,
        "paid_idr": paid,
        "outstanding_idr": max(shown["net_idr"] - paid, 0),
    }


def statement_to_issue(
    statement: Mapping[str, Any], zone: tzinfo, now: datetime, force: bool
) -> books.StatementIssued | None:
    """The issue of an open statement (None: it is issued already), refused before its
    month has ended in the outlet's zone unless forced."""
    if statement["state"] != StatementState.OPEN.value:
        return None
    ends = period_end(statement["period"], zone)
    if now < ends and not force:
        raise NotAllowed(
            "period",
            f"{statement['period']} has not ended (it ends {ends.isoformat()}); "
            "issue it with force=true to issue it now",
        )
    return books.StatementIssued(
        number=statement["number"],
        period=statement["period"],
        supplier_id=statement["supplier_id"],
        outlet_id=statement["outlet_id"],
        **{name: statement[name] for name in FIGURES},
    )


def payment_to_record(
    statement: Mapping[str, Any], payment: Mapping[str, Any]
) -> books.PaymentRecorded | None:
    """The payment to record against an issued statement (None: the same payment is
    recorded already), refused when its id was used with other figures or it is more
    than is left to pay."""
    number = statement["number"]
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
                return None
            raise NotAllowed(
                "payment_id", f"{recorded.payment_id} is recorded already, with other figures"
            )
    if recorded.amount_idr > statement["outstanding_idr"]:
        raise NotAllowed(
            "amount_idr",
            f"{rupiah(recorded.amount_idr)} is more than the "
            f"{rupiah(statement['outstanding_idr'])} left to pay on {number}",
        )
    return recorded


def report_answer(report: Report, decision: Decision) -> dict[str, Any]:
    """What an import answers: the outcome, the per-row report, and what was (or would
    be) written, or the differences that refused it."""
    imported = decision.imported
    return {
        "outcome": decision.outcome.value,
        "report_id": report.report_id,
        "outlet_id": report.outlet_id,
        "period": report.period.name,
        "digest": report.digest(),
        "rows": [
            {
                "row": row.row,
                "status": row.status,
                "message": row.message,
                "sku": row.sku,
                "day": row.day.isoformat() if row.day else None,
            }
            for row in report.rows
        ],
        "lines": [line.model_dump(mode="json") for line in imported.lines],
        "sale_ids": imported.sale_ids,
        "differences": differences_json(decision.differences),
    }


class BooksService:
    def __init__(
        self,
        publisher: EventPublisher,
        catalog: CatalogView,
        read_model: BooksReadModel,
        now: Callable[[], datetime],
        forum_name: str,
        inventory: InventoryApi,
        reports: ReportsView,
    ) -> None:
        self.publisher = publisher
        self.catalog = catalog
        self.read_model = read_model
        self.now = now
        self.forum_name = forum_name
        self.inventory = inventory
        self.reports = reports

    # -- retailer reports -------------------------------------------------------------------

    async def save_profile(self, profile: books.ReportProfileSaved) -> dict[str, Any]:
        for code, outlet_id in profile.stores.items():
            if self.catalog.outlet(outlet_id) is None:
                raise BadReport(f"stores.{code}", f"{outlet_id!r} is no outlet the catalog knows")
        event = make_event(
            profile,
            event_id=uuid.uuid4(),
            occurred_at=self.now(),
            producer=PRODUCER,
            correlation_id=f"profile|{profile.retailer}",
        )
        await self.publisher.publish("books.reports", f"profile|{profile.retailer}", event)
        self.reports.put(profile)
        return profile.model_dump(mode="json")

    async def profile(self, retailer: str) -> dict[str, Any]:
        found = self.reports.profiles.get(retailer)
        if found is None:
            raise UnknownStatement("retailer", f"no report profile for {retailer!r}: save one")
        return found.model_dump(mode="json")

    async def import_report(
        self, upload: Upload, key: str, dry_run: bool
    ) -> tuple[dict[str, Any], Outcome]:
        """Read, check and (unless a dry run) import a retailer's report; see `imports`."""
        view = self.reports
        profile = view.profiles.get(upload.retailer)
        if profile is None:
            raise UnknownStatement("retailer", f"no report profile for {upload.retailer!r}")
        products = self.catalog.products.values()
        barcodes = {p.barcode: p.sku for p in products if p.barcode}
        known = frozenset(p.sku for p in products)
        try:
            period = Period.month(upload.period)
            report = read(
                upload.data, upload.filename, profile, upload.store, period, barcodes, known
            )
        except ReportError as exc:
            raise BadReport("file", str(exc)) from None
        outlet_id = str(report.outlet_id)
        if not await self.read_model.is_built():  # the live days are in the ledgers
            raise Rebuilding("report", "the books are being rebuilt from Kafka: try again soon")
        ledgers = await self.read_model.outlet_ledgers(outlet_id, upload.period)
        stock = await self.inventory.stock(outlet_id, key)
        flag(report, live_days(Ledger.from_dict(x) for x in ledgers), on_hand(stock))
        before = view.reports.get(report.report_id)
        decision = decide(report, before, upload.filename, dry_run)
        if len(decision.imported.lines) > books.MAX_REPORT_LINES:
            raise BadReport("file", f"more than {books.MAX_REPORT_LINES} lines: split it")
        if decision.outcome is Outcome.IMPORTED:
            zone = zone_of(self.catalog.outlet(outlet_id))
            await self.inventory.record_sales(outlet_id, sales_body(report, zone), key)
            event = make_event(
                decision.imported,
                event_id=uuid.uuid5(LUMBUNG_NAMESPACE, f"books:report:{report.report_id}"),
                occurred_at=self.now(),
                producer=PRODUCER,
                correlation_id=report.report_id,
            )
            await self.publisher.publish("books.reports", f"report|{report.report_id}", event)
            view.put(decision.imported)
        return report_answer(report, decision), decision.outcome

    def _parse(self, number: str) -> tuple[str, str, str]:
        suppliers = (s.supplier_id for s in self.catalog.suppliers.values())
        outlets = (o.outlet_id for o in self.catalog.outlets.values())
        return parse_number(number, suppliers, outlets)

    async def statement(self, number: str) -> dict[str, Any]:
        return await self.build(*self._parse(number))

    async def build(self, period: str, supplier_id: str, outlet_id: str) -> dict[str, Any]:
        number = statement_number(period, supplier_id, outlet_id)
        ledger = Ledger.from_dict(await self.read_model.ledger(outlet_id, period, supplier_id))
        issued = await self.read_model.issued(number)
        payments = await self.read_model.payments(number)
        outlet, supplier = self.catalog.outlet(outlet_id), self.catalog.supplier(supplier_id)
        return statement_of(
            Parties(period, supplier, outlet, supplier_id, outlet_id, self.forum_name),
            ledger,
            issued,
            payments,
        )

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
        """The statement to write about, once the read model holds everything (a number
        that names no supplier and outlet is a 404 first, rebuilding or not)."""
        parts = self._parse(number)
        if not await self.read_model.is_built():
            raise Rebuilding("number", "the books are being rebuilt from Kafka: try again soon")
        return await self.build(*parts)

    async def issue(self, number: str, force: bool = False) -> tuple[dict[str, Any], bool]:
        """The statement and whether this call issued it (False: it was already)."""
        statement = await self._whole(number)
        zone = zone_of(self.catalog.outlet(statement["outlet_id"]))
        payload = statement_to_issue(statement, zone, self.now(), force)
        if payload is None:
            return statement, False
        await self._write(payload, issued_event_id(number), number)
        return await self.statement(number), True

    async def pay(self, number: str, payment: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The statement after the payment, and whether this call recorded it (False: the
        same payment again)."""
        statement = await self._whole(number)
        recorded = payment_to_record(statement, payment)
        if recorded is None:
            return statement, False
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
