"""What outlets and ops send in over HTTP, checked and turned into events on Kafka.

A sale that happened is a fact, but the ingest can still talk to the device, so it refuses
what the device can correct: a SKU the catalog has never known, an outlet that does not
exist. Every event id follows from what identifies the fact (outlet and sale id, outlet
and command id), so a device that resends gets the same event and nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as default
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from lumbung.contracts import Envelope, command_event_id, make_event, sale_event_id
from lumbung.contracts.bounds import MAX_UNITS, whole_number
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.contracts.events.common import Payload
from lumbung.contracts.events.inventory import ReturnRefusal
from lumbung.inventory import returns
from lumbung.inventory.service import PriceLookup, Prices
from lumbung.platform.sheets import SheetError, cell
from lumbung.platform.sheets import rows as sheet_rows
from lumbung.platform.web import FieldError


class Publisher(Protocol):
    async def publish_many(self, events: list[tuple[str, str, Envelope[Any]]]) -> None: ...


class Catalog(PriceLookup, Protocol):
    def knows_sku(self, sku: str) -> bool: ...

    def knows_outlet(self, outlet_id: str) -> bool: ...


class SaleMemory(Protocol):
    """What the ingest remembers of the sales it took (`adapters.sale_memory`)."""

    async def remember(self, outlet_id: str, sales: list[pos.SaleRecorded]) -> None: ...

    async def lookup(
        self, outlet_id: str, sale_id: str, return_id: str
    ) -> tuple[returns.Sold, dict[str, int], bool] | None: ...

    async def came_back(self, outlet_id: str, back: pos.SaleReturned) -> None: ...


class LineIn(Protocol):
    """A sale line as a device sends it: the price may be left to the catalog."""

    sku: str
    qty: int
    unit_price_idr: int | None


class IngestError(FieldError):
    """Bad input to the ingest: a 4xx naming the field."""


def _field_of(refusal: returns.Refusal, back: pos.SaleReturned) -> str:
    """The field a refused return is named by: the line that asks for too much."""
    match refusal.reason:
        case ReturnRefusal.MORE_THAN_SOLD:
            j = next(j for j, line in enumerate(back.lines) if line.sku == refusal.sku)
            return f"lines.{j}.qty"
        case ReturnRefusal.VOID_TOO_LATE:
            return "returned_at"
        case _:
            return "lines"


@dataclass
class CountReport:
    outlet_id: str
    dry_run: bool
    rows: int = 0
    counted: list[str] = default(default_factory=list)
    problems: list[dict[str, Any]] = default(default_factory=list)
    event_id: str | None = None


@dataclass(frozen=True)
class Accepted:
    id: str
    event_id: UUID


class Ingest:
    def __init__(
        self,
        publisher: Publisher,
        catalog: Catalog,
        now: Callable[[], datetime],
        memory: SaleMemory | None = None,
        void_window: timedelta = returns.VOID_WINDOW,
    ) -> None:
        self._publisher = publisher
        self._catalog = catalog
        self._now = now
        self._memory = memory
        self._void_window = void_window
        self._prices = Prices(catalog)

    def priced(
        self,
        outlet_id: str,
        lines: Sequence[LineIn],
        field: str,
        sold_at: Mapping[str, int] | None = None,
    ) -> list[pos.SaleLine]:
        """Sale lines with every price filled in: a line the device sent without one
        takes the outlet's price (its assortment's, else the product's), or for a
        return the price its sale was made at (`sold_at`, when known). A sale always
        carries its price on Kafka. The outlet and SKUs are checked first, so a wrong
        one is named as such."""
        self._outlet(outlet_id)
        self._skus([(f"{field}.{j}.sku", line.sku) for j, line in enumerate(lines)])
        out = []
        for j, line in enumerate(lines):
            price = line.unit_price_idr
            if price is None and sold_at is not None:
                price = sold_at.get(line.sku)
            if price is None:
                price = self._prices.of(outlet_id, line.sku)
            if price is None:
                name = f"{field}.{j}.unit_price_idr"
                raise IngestError(
                    422, name, f"{name}: the catalog has no price of {line.sku!r}; send one"
                )
            out.append(pos.SaleLine(sku=line.sku, qty=line.qty, unit_price_idr=price))
        return out

    def _outlet(self, outlet_id: str, field: str = "outlet_id") -> None:
        if not self._catalog.knows_outlet(outlet_id):
            raise IngestError(404, field, f"{field}: no outlet {outlet_id!r} in the catalog")

    def _skus(self, skus: Sequence[tuple[str, str]]) -> None:
        for field, sku in skus:
            if not self._catalog.knows_sku(sku):
                raise IngestError(
                    422,
                    field,
                    f"{field}: the catalog has never known SKU "
                    f"{sku!r}; correct it at the point of sale",
                )

    def _event(
        self, payload: Payload, event_id: UUID, producer: str, correlation: str
    ) -> Envelope[Any]:
        return make_event(
            payload,
            event_id=event_id,
            occurred_at=self._now(),
            producer=producer,
            correlation_id=correlation,
        )

    async def sales(
        self, outlet_id: str, sales: list[pos.SaleRecorded], producer: str
    ) -> list[Accepted]:
        self._outlet(outlet_id)
        self._skus(
            [
                (f"sales.{i}.lines.{j}.sku", line.sku)
                for i, sale in enumerate(sales)
                for j, line in enumerate(sale.lines)
            ]
        )
        events = []
        for sale in sales:
            event_id = sale_event_id(outlet_id, sale.sale_id)
            event = make_event(
                sale,
                event_id=event_id,
                occurred_at=sale.sold_at,
                producer=producer,
                correlation_id=sale.sale_id,
            )
            events.append(("pos.sales", outlet_id, event))
        await self._publisher.publish_many(events)
        if self._memory is not None:
            await self._memory.remember(outlet_id, sales)
        return [Accepted(s.sale_id, e.event_id) for s, (_, _, e) in zip(sales, events, strict=True)]

    async def sale_return(
        self,
        outlet_id: str,
        fields: Mapping[str, Any],
        lines: Sequence[LineIn],
        producer: str,
    ) -> Accepted:
        """A return or void (`fields` of `pos.SaleReturned` but its lines), refused here
        when the sale it names is known and it does not fit (`returns.check`); a sale not
        known here passes to the worker, which keeps the truth. The same return sent
        again (a lost answer) is the same event, not checked against itself."""
        self._outlet(outlet_id)
        sale_id, return_id = str(fields["sale_id"]), str(fields["return_id"])
        known = None
        if self._memory is not None:
            known = await self._memory.lookup(outlet_id, sale_id, return_id)
        sold, returned, again = known if known is not None else (None, {}, False)
        prices = sold.prices if sold is not None else None
        back = pos.SaleReturned(
            outlet_id=outlet_id, **fields, lines=self.priced(outlet_id, lines, "lines", prices)
        )
        if sold is not None and not again:
            refusal = returns.check(sold, returned, back, self._void_window)
            if refusal is not None:
                raise IngestError(422, _field_of(refusal, back), refusal.message)
        event_id = command_event_id("return", outlet_id, back.return_id)
        event = make_event(
            back,
            event_id=event_id,
            occurred_at=back.returned_at,
            producer=producer,
            correlation_id=back.sale_id,
        )
        await self._publisher.publish_many([("pos.sales", outlet_id, event)])
        if self._memory is not None:
            await self._memory.came_back(outlet_id, back)
        return Accepted(back.return_id, event_id)

    async def command(
        self,
        outlet_id: str,
        kind: str,
        command_id: str,
        payload: Payload,
        skus: Sequence[tuple[str, str]],
        producer: str,
    ) -> Accepted:
        """Counts, adjustments, receipts and levels: one event on `inventory.commands`."""
        self._outlet(outlet_id)
        self._skus(skus)
        event_id = command_event_id(kind, outlet_id, command_id)
        event = self._event(payload, event_id, producer, f"{kind}:{command_id}")
        await self._publisher.publish_many([("inventory.commands", outlet_id, event)])
        return Accepted(command_id, event_id)

    async def transfer(self, transfer: inv.TransferRequested, producer: str) -> Accepted:
        if transfer.from_outlet_id == transfer.to_outlet_id:
            raise IngestError(422, "to_outlet_id", "to_outlet_id: a transfer needs two outlets")
        self._outlet(transfer.from_outlet_id, "from_outlet_id")
        self._outlet(transfer.to_outlet_id, "to_outlet_id")
        self._skus([(f"lines.{j}.sku", line.sku) for j, line in enumerate(transfer.lines)])
        return await self.command(
            transfer.from_outlet_id, "transfer", transfer.transfer_id, transfer, [], producer
        )

    async def count_sheet(
        self, outlet_id: str, data: bytes, kind: inv.CountKind, dry_run: bool, producer: str
    ) -> CountReport:
        """An opening stock or a full count from a spreadsheet (columns `sku`, `counted`):
        the valid rows become one count; every other row is reported with its reason."""
        self._outlet(outlet_id)
        report = CountReport(outlet_id, dry_run)
        lines: dict[str, int] = {}
        first_row: dict[str, int] = {}
        try:
            numbered = list(sheet_rows(data, ("sku", "counted"), ("sku", "counted")))
        except SheetError as exc:
            raise IngestError(422, "(file)", str(exc)) from None
        for number, cells in numbered:
            report.rows += 1
            sku, counted = cells.get("sku") or "", cells.get("counted") or ""
            problem, units = None, whole_number(counted, MAX_UNITS)
            if not self._catalog.knows_sku(sku):
                problem = f"sku {sku!r} is not in the catalog"
            elif units is None:
                problem = (
                    f"counted {cell(counted)} is not a whole number of units, 0 to {MAX_UNITS}"
                )
            elif sku in lines:
                problem = f"sku {sku!r} is already on row {first_row[sku]}"
            if problem or units is None:
                report.problems.append({"row": number, "message": f"row {number}: {problem}"})
                continue
            lines[sku], first_row[sku] = units, number
        report.counted = list(lines)
        if lines and not dry_run:
            count_id = "sheet-" + hashlib.sha256(data).hexdigest()[:16]
            count = inv.StockCounted(
                count_id=count_id,
                outlet_id=outlet_id,
                kind=kind,
                counted_at=self._now(),
                lines=[inv.CountedLine(sku=s, counted=c) for s, c in lines.items()],
            )
            accepted = await self.command(outlet_id, "count", count_id, count, [], producer)
            report.event_id = str(accepted.event_id)
        return report
