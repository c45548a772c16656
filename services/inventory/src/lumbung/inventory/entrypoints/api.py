"""HTTP routes of inventory: the POS ingest, stock commands and stock reads.

No `from __future__ import annotations`: FastAPI reads these signatures, whose key
dependency is built per app.
"""

from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from lumbung.contracts.bounds import Count, Price, Units, UnitsDelta
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.contracts.events.catalog import Channel
from lumbung.contracts.events.common import Identifier, Sku
from lumbung.inventory.adapters.read_model import StockReadModel
from lumbung.inventory.closeout import CloseOuts
from lumbung.inventory.ingest import Accepted, Ingest, IngestError
from lumbung.inventory.opening import open_days, suggest
from lumbung.inventory.service import transit_time
from lumbung.inventory.transfers import Predictions, Suggestion, plan
from lumbung.platform.auth import Principal, Role, authorize
from lumbung.platform.clock import WITA
from lumbung.platform.restocks import RestockStatus, RestockView
from lumbung.platform.views import CatalogView

MAX_BATCH = 500
OutletPath = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="The outlet's id, as in the catalog.",
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SaleLineIn(Strict):
    sku: Sku = Field(description="The product's SKU as the catalog knows it.")
    qty: Units = Field(description="Units sold; always more than zero.")
    unit_price_idr: Price | None = Field(
        default=None,
        description="Price of one unit in whole rupiah; the outlet's price in the catalog "
        "when left out. A price further than the tolerance from the outlet's is recorded "
        "and flagged to ops.",
    )


class SaleIn(Strict):
    sale_id: Identifier
    lines: list[SaleLineIn] = Field(min_length=1, max_length=500)
    sold_at: AwareDatetime
    receipt_no: str | None = Field(default=None, max_length=64)
    device_id: str | None = Field(default=None, max_length=64)


class SalesIn(Strict):
    sales: list[SaleIn] = Field(min_length=1, max_length=MAX_BATCH)


class ReturnIn(Strict):
    return_id: Identifier
    sale_id: Identifier = Field(description="The sale it reverses, which it must fit.")
    kind: pos.ReturnKind = Field(
        default=pos.ReturnKind.RETURN,
        description="`return`: part or all of a sale; `void`: the whole sale, within the "
        "void window after its sold_at.",
    )
    lines: list[SaleLineIn] = Field(min_length=1, max_length=500)
    returned_at: AwareDatetime
    refund_idr: Price | None = Field(
        default=None, description="What the customer got back; qty times price when left out."
    )
    disposition: pos.ReturnDisposition = pos.ReturnDisposition.RESTOCK


class CountIn(Strict):
    count_id: Identifier
    kind: inv.CountKind = inv.CountKind.SPOT
    lines: list[inv.CountedLine] = Field(min_length=1, max_length=5000)
    counted_at: AwareDatetime | None = None


class CloseOutIn(Strict):
    close_id: Identifier
    lines: list[inv.CountedLine] = Field(
        default_factory=list,
        max_length=5000,
        description="What is left, counted; a SKU left out is taken as booked.",
    )
    closed_at: AwareDatetime | None = None


class AdjustmentIn(Strict):
    adjustment_id: Identifier
    sku: Sku
    delta: UnitsDelta
    reason: inv.AdjustmentReason
    note: str = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _not_zero(self) -> "AdjustmentIn":
        if self.delta == 0:
            raise ValueError("delta must not be 0")
        return self


class SendBackIn(Strict):
    sendback_id: Identifier
    lines: list[inv.TransferLine] = Field(min_length=1, max_length=500)
    reason: inv.SendBackReason = inv.SendBackReason.UNSOLD
    sent_at: AwareDatetime | None = Field(default=None, description="Now when left out.")
    note: str = Field(default="", max_length=300)


class ReceiptIn(Strict):
    receipt_id: Identifier
    sku: Sku
    qty: Units
    restock_id: Identifier | None = None
    batch_code: Identifier | None = Field(default=None, description="The producer's lot.")
    best_before: date | None = Field(
        default=None, description="Good through this day; sold first-expired-first-out."
    )


class RestockQtyIn(Strict):
    qty: Units = Field(description="The quantity to ask the supplier for.")
    send_now: bool = Field(default=False, description="Send it now instead of at send_at.")


class LevelsIn(Strict):
    reorder_point: Count
    par_level: Count


class TransferIn(Strict):
    transfer_id: Identifier
    from_outlet_id: Identifier
    to_outlet_id: Identifier
    lines: list[inv.TransferLine] = Field(min_length=1, max_length=500)


class ArrivalIn(Strict):
    from_outlet_id: Identifier = Field(description="The outlet that sent it.")
    lines: list[inv.TransferLine] = Field(
        min_length=1,
        max_length=500,
        description="What arrived, as counted; a product that did not arrive is left out.",
    )
    received_at: AwareDatetime | None = None


class AcceptIn(Strict):
    qty: Units | None = Field(
        default=None, description="Units to move instead of the suggested quantity."
    )


class AcceptedOut(BaseModel):
    id: str
    event_id: str


class CountReportOut(BaseModel):
    outlet_id: str
    dry_run: bool
    rows: int
    counted: list[str]
    problems: list[dict[str, Any]]
    event_id: str | None


class AcceptedMany(BaseModel):
    accepted: list[AcceptedOut]


def _out(accepted: Accepted) -> AcceptedOut:
    return AcceptedOut(id=accepted.id, event_id=str(accepted.event_id))


def routers(principal: Any) -> list[APIRouter]:
    Caller = Annotated[Principal, principal]
    outlets = APIRouter(prefix="/v1/outlets/{outlet_id}", tags=["outlets"])
    stock = APIRouter(prefix="/v1", tags=["stock"])

    def ingest(request: Request) -> Ingest:
        service: Ingest = request.app.state.ingest
        return service

    def model(request: Request) -> StockReadModel:
        read_model: StockReadModel = request.app.state.read_model
        return read_model

    def producer(caller: Principal) -> str:
        return f"{caller.role.value}:{caller.subject}"

    async def suggestions(request: Request) -> list[Suggestion]:
        """The transfer suggestions as things stand (`transfers.plan`)."""
        state = request.app.state
        predictions: Predictions = state.predictions
        catalog: CatalogView = state.catalog
        now = state.now().astimezone(WITA)
        today = now.date()
        skus = {p.sku for p in predictions.open()}
        cells = {sku: await model(request).sku(sku) for sku in sorted(skus)}
        outlets = {outlet for by_outlet in cells.values() for outlet in by_outlet}
        sold = {outlet: await model(request).sold(outlet, today) for outlet in sorted(outlets)}
        yesterday = today - timedelta(days=1)
        before = {
            outlet: await model(request).sold(outlet, yesterday) for outlet in sorted(outlets)
        }
        closes = {}
        for outlet_id in outlets:
            outlet = catalog.outlet(outlet_id)
            window = outlet.active_window if outlet is not None else None
            closes[outlet_id] = window.ends_at if window is not None else None
        day_began = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return plan(
            predictions,
            cells,
            sold,
            closes,
            lambda source, to: transit_time(catalog, source, to),
            now,
            day_began,
            before,
        )

    @outlets.post(
        "/sales",
        status_code=202,
        response_model=AcceptedMany,
        summary="Record one sale or a batch (idempotent on sale_id)",
    )
    async def record_sales(
        outlet_id: OutletPath,
        request: Request,
        caller: Caller,
        body: Annotated[SaleIn | SalesIn, Body()],
    ) -> AcceptedMany:
        authorize(caller, Role.OUTLET, outlet_id)
        sales = body.sales if isinstance(body, SalesIn) else [body]
        service = ingest(request)
        # Fields are named as in a batch (`sales.0.lines.1.sku`), one sale or many.
        contract = [
            pos.SaleRecorded(
                outlet_id=outlet_id,
                **s.model_dump(exclude={"lines"}),
                lines=service.priced(outlet_id, s.lines, f"sales.{i}.lines"),
            )
            for i, s in enumerate(sales)
        ]
        done = await service.sales(outlet_id, contract, producer(caller))
        return AcceptedMany(accepted=[_out(a) for a in done])

    @outlets.post(
        "/returns", status_code=202, response_model=AcceptedOut, summary="Record a return or a void"
    )
    async def record_return(
        outlet_id: OutletPath, request: Request, caller: Caller, body: ReturnIn
    ) -> AcceptedOut:
        authorize(caller, Role.OUTLET, outlet_id)
        fields = body.model_dump(exclude={"lines"})
        return _out(
            await ingest(request).sale_return(outlet_id, fields, body.lines, producer(caller))
        )

    @outlets.post(
        "/counts",
        status_code=202,
        response_model=AcceptedOut,
        summary="Record a stock count (opening, full or spot)",
    )
    async def record_count(
        outlet_id: OutletPath, request: Request, caller: Caller, body: CountIn
    ) -> AcceptedOut:
        authorize(caller, Role.OUTLET, outlet_id)
        count = inv.StockCounted(
            outlet_id=outlet_id,
            count_id=body.count_id,
            kind=body.kind,
            lines=body.lines,
            counted_at=body.counted_at or request.app.state.now(),
        )
        skus = [(f"lines.{i}.sku", line.sku) for i, line in enumerate(body.lines)]
        return _out(
            await ingest(request).command(
                outlet_id, "count", body.count_id, count, skus, producer(caller)
            )
        )

    @outlets.post(
        "/close-out",
        status_code=202,
        response_model=AcceptedOut,
        summary="Close a booth: its closing count; the leftovers go home (issue 21)",
    )
    async def close_out(
        outlet_id: OutletPath, request: Request, caller: Caller, body: CloseOutIn
    ) -> AcceptedOut:
        authorize(caller, Role.OUTLET, outlet_id)
        closed = inv.BoothClosed(
            close_id=body.close_id,
            outlet_id=outlet_id,
            lines=body.lines,
            closed_at=body.closed_at or request.app.state.now(),
        )
        skus = [(f"lines.{i}.sku", line.sku) for i, line in enumerate(body.lines)]
        return _out(
            await ingest(request).command(
                outlet_id, "close-out", body.close_id, closed, skus, producer(caller)
            )
        )

    @outlets.get(
        "/close-out",
        summary="The closing count asked for, and the booth's newest close-out report",
    )
    async def close_out_report(
        outlet_id: OutletPath, request: Request, caller: Caller
    ) -> dict[str, Any]:
        authorize(caller, Role.OUTLET, outlet_id)
        close_outs: CloseOuts = request.app.state.close_outs
        return {"outlet_id": outlet_id, **close_outs.of(outlet_id)}

    @outlets.post(
        "/counts/import",
        response_model=CountReportOut,
        summary="Opening stock or a full count from a spreadsheet (CSV: sku, counted)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "text/csv": {
                        "schema": {"type": "string"},
                        "example": "sku;counted\nAMPLANG-IKAN-250;40\nMADU-KELULUT-250;12\n",
                    }
                },
            }
        },
    )
    async def import_count(
        outlet_id: OutletPath,
        request: Request,
        caller: Caller,
        kind: inv.CountKind = inv.CountKind.OPENING,
        dry_run: bool = False,
    ) -> CountReportOut:
        authorize(caller, Role.OUTLET, outlet_id)
        report = await ingest(request).count_sheet(
            outlet_id, await request.body(), kind, dry_run, producer(caller)
        )
        return CountReportOut(**report.__dict__)

    @outlets.post(
        "/adjustments",
        status_code=202,
        response_model=AcceptedOut,
        summary="Adjust stock with a reason (damaged, expired, lost, found)",
    )
    async def record_adjustment(
        outlet_id: OutletPath, request: Request, caller: Caller, body: AdjustmentIn
    ) -> AcceptedOut:
        authorize(caller, Role.OUTLET, outlet_id)
        adjustment = inv.StockAdjusted(outlet_id=outlet_id, **body.model_dump())
        return _out(
            await ingest(request).command(
                outlet_id,
                "adjustment",
                body.adjustment_id,
                adjustment,
                [("sku", body.sku)],
                producer(caller),
            )
        )

    @outlets.post(
        "/send-backs",
        status_code=202,
        response_model=AcceptedOut,
        summary="Send consigned goods back to their producer (unsold, expired, damaged)",
    )
    async def send_back(
        outlet_id: OutletPath, request: Request, caller: Caller, body: SendBackIn
    ) -> AcceptedOut:
        authorize(caller, Role.OUTLET, outlet_id)
        fields = body.model_dump()
        fields["sent_at"] = body.sent_at or request.app.state.now()
        sent = inv.GoodsSentBack(outlet_id=outlet_id, **fields)
        skus = [(f"lines.{j}.sku", line.sku) for j, line in enumerate(body.lines)]
        return _out(
            await ingest(request).command(
                outlet_id, "sendback", body.sendback_id, sent, skus, producer(caller)
            )
        )

    @outlets.post(
        "/receipts",
        status_code=202,
        response_model=AcceptedOut,
        summary="Record goods received (closes the restock request)",
    )
    async def record_receipt(
        outlet_id: OutletPath, request: Request, caller: Caller, body: ReceiptIn
    ) -> AcceptedOut:
        authorize(caller, Role.OUTLET, outlet_id)
        receipt = inv.RestockReceived(outlet_id=outlet_id, **body.model_dump())
        return _out(
            await ingest(request).command(
                outlet_id,
                "receipt",
                body.receipt_id,
                receipt,
                [("sku", body.sku)],
                producer(caller),
            )
        )

    @outlets.put(
        "/levels/{sku}",
        status_code=202,
        response_model=AcceptedOut,
        summary="Set reorder point and par level of a SKU at the outlet",
    )
    async def set_levels(
        outlet_id: OutletPath, sku: str, request: Request, caller: Caller, body: LevelsIn
    ) -> AcceptedOut:
        authorize(caller, Role.OPS)
        levels = inv.StockLevelsSet(outlet_id=outlet_id, sku=sku, **body.model_dump())
        version = f"{sku}:{body.reorder_point}:{body.par_level}:{request.app.state.now()}"
        return _out(
            await ingest(request).command(
                outlet_id, "levels", version, levels, [("sku", sku)], producer(caller)
            )
        )

    @outlets.get("/stock", summary="Stock of every SKU at the outlet")
    async def outlet_stock(
        outlet_id: OutletPath, request: Request, caller: Caller
    ) -> dict[str, Any]:
        authorize(caller, Role.OUTLET, outlet_id)
        return {"outlet_id": outlet_id, "stock": await model(request).outlet(outlet_id)}

    @outlets.get("/stock/{sku}/ledger", summary="The newest movements of one SKU")
    async def ledger(
        outlet_id: OutletPath, sku: str, request: Request, caller: Caller
    ) -> dict[str, Any]:
        authorize(caller, Role.OUTLET, outlet_id)
        return {
            "outlet_id": outlet_id,
            "sku": sku,
            "ledger": await model(request).ledger(outlet_id, sku),
        }

    @outlets.get("/restocks", summary="Restock requests for the outlet, with their answers")
    async def outlet_restocks(
        outlet_id: OutletPath, request: Request, caller: Caller
    ) -> dict[str, Any]:
        authorize(caller, Role.OUTLET, outlet_id)
        view: RestockView = request.app.state.restocks
        return {
            "outlet_id": outlet_id,
            "restocks": [r.to_dict() for r in view.of_outlet(outlet_id)],
        }

    @outlets.put(
        "/restocks/{restock_id}",
        status_code=202,
        response_model=AcceptedOut,
        summary="Change a suggested restock's quantity before it goes out (ops)",
    )
    async def set_restock_qty(
        outlet_id: OutletPath,
        restock_id: Identifier,
        request: Request,
        caller: Caller,
        body: RestockQtyIn,
    ) -> AcceptedOut:
        authorize(caller, Role.OPS)
        view: RestockView = request.app.state.restocks
        held = view.get(restock_id, suggested=True)
        if held is None or held.outlet_id != outlet_id:
            raise IngestError(404, "restock_id", f"no restock {restock_id} at {outlet_id}")
        if held.status is not RestockStatus.SUGGESTED:
            raise IngestError(
                409, "restock_id", f"restock {restock_id} is {held.status}: the supplier has it"
            )
        change = inv.RestockQuantitySet(
            outlet_id=outlet_id, sku=held.sku, restock_id=restock_id, **body.model_dump()
        )
        version = f"{restock_id}:{body.qty}:{body.send_now}:{request.app.state.now()}"
        return _out(
            await ingest(request).command(
                outlet_id, "restock-qty", version, change, [("sku", held.sku)], producer(caller)
            )
        )

    @outlets.get(
        "/opening-stock",
        summary="A suggested opening stock per product for a booth (ops)",
    )
    async def opening_stock(
        outlet_id: OutletPath, request: Request, caller: Caller
    ) -> dict[str, Any]:
        authorize(caller, Role.OPS)
        catalog: CatalogView = request.app.state.catalog
        booth = catalog.outlet(outlet_id)
        if booth is None:
            raise IngestError(404, "outlet_id", f"no outlet {outlet_id} in the catalog")
        if booth.channel is not Channel.EVENT_BOOTH or booth.calendar_id is None:
            raise IngestError(422, "outlet_id", f"{outlet_id} is not a booth of a calendar event")
        today = request.app.state.now().astimezone(WITA).date()
        peers = []
        for peer in catalog.outlets.values():
            if (
                peer.calendar_id == booth.calendar_id
                and peer.outlet_id != outlet_id
                and peer.channel is Channel.EVENT_BOOTH
                and not peer.retired
            ):
                days = [day for day in open_days(peer) if day < today]
                sold = {day: await model(request).sold(peer.outlet_id, day) for day in days}
                peers.append((peer, sold))
        packs = {
            item.sku: product.pack_size
            for item in booth.assortment
            if (product := catalog.product(item.sku)) is not None
        }
        event = catalog.calendar_event(booth.calendar_id)
        return asdict(suggest(booth, event, peers, packs, today))

    @stock.get("/stock/{sku}", tags=["stock"], summary="Stock of one SKU across outlets")
    async def sku_stock(sku: str, request: Request, caller: Caller) -> dict[str, Any]:
        authorize(caller, Role.OPS)
        return {"sku": sku, "outlets": await model(request).sku(sku)}

    @stock.post(
        "/transfers",
        status_code=202,
        response_model=AcceptedOut,
        tags=["stock"],
        summary="Move stock from one outlet to another",
    )
    async def transfer(request: Request, caller: Caller, body: TransferIn) -> AcceptedOut:
        authorize(caller, Role.OUTLET, body.from_outlet_id)
        requested = inv.TransferRequested(**body.model_dump())
        return _out(await ingest(request).transfer(requested, producer(caller)))

    @stock.get(
        "/transfers/suggestions",
        tags=["stock"],
        summary="Transfers that would cover a predicted stockout sooner than its supplier (ops)",
    )
    async def transfer_suggestions(request: Request, caller: Caller) -> dict[str, Any]:
        authorize(caller, Role.OPS)
        return {"suggestions": [s.to_dict() for s in await suggestions(request)]}

    @stock.post(
        "/transfers/suggestions/{suggestion_id}/accept",
        status_code=202,
        response_model=AcceptedOut,
        tags=["stock"],
        summary="Make a suggested transfer, with its quantity or another (ops)",
    )
    async def accept_suggestion(
        suggestion_id: Annotated[str, Path(max_length=200)],
        request: Request,
        caller: Caller,
        body: Annotated[AcceptIn | None, Body()] = None,
    ) -> AcceptedOut:
        authorize(caller, Role.OPS)
        found = next(
            (s for s in await suggestions(request) if s.suggestion_id == suggestion_id), None
        )
        if found is None:
            raise IngestError(
                404, "suggestion_id", f"no suggestion {suggestion_id} now: list them again"
            )
        requested = inv.TransferRequested(
            transfer_id=found.transfer_id,
            from_outlet_id=found.from_outlet_id,
            to_outlet_id=found.to_outlet_id,
            lines=[
                inv.TransferLine(sku=found.sku, qty=body.qty if body and body.qty else found.qty)
            ],
        )
        return _out(await ingest(request).transfer(requested, producer(caller)))

    @outlets.post(
        "/transfers/{transfer_id}/arrival",
        status_code=202,
        response_model=AcceptedOut,
        summary="Count what a transfer brought: in transit until then; short is booked lost",
    )
    async def transfer_arrived(
        outlet_id: OutletPath,
        transfer_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")],
        request: Request,
        caller: Caller,
        body: ArrivalIn,
    ) -> AcceptedOut:
        authorize(caller, Role.OUTLET, outlet_id)
        arrival = inv.TransferArrived(
            transfer_id=transfer_id,
            from_outlet_id=body.from_outlet_id,
            to_outlet_id=outlet_id,
            lines=body.lines,
            received_at=body.received_at or request.app.state.now(),
        )
        skus = [(f"lines.{i}.sku", line.sku) for i, line in enumerate(body.lines)]
        return _out(
            await ingest(request).command(
                outlet_id, "arrival", transfer_id, arrival, skus, producer(caller)
            )
        )

    return [outlets, stock]
