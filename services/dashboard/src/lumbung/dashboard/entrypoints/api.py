"""HTTP routes of the dashboard: the page, its files, the snapshot and the live stream.

A page first gets a snapshot: the catalog, the stock from inventory's Redis read model,
and what the hub folded up to update `seq`. Then the stream sends every update after
`seq`, and, once, the buffered stock changes newer than the snapshot's cells (the read
model may lag the topic). Cells carry versions, so a page applies only what is newer:
no gap, no double. A page that reconnects sends the id of its last update
(`Last-Event-ID`, which EventSource does by itself) and resumes from there.

Every call needs an ops key: in the `X-API-Key` header, or as `?key=` where a browser
cannot set headers (the page and its EventSource).

The page's buttons on a suggested restock go through `PUT /v1/outlets/{outlet_id}/restocks/
{restock_id}`, and its transfer suggestions through `/v1/transfers/suggestions`, passed on
to inventory's API with the caller's own key (docs/decisions.md, Dashboard): the page has
one origin, and the dashboard writes nothing itself.

No `from __future__ import annotations`: FastAPI reads these signatures.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from importlib import resources
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from lumbung.contracts.bounds import Units
from lumbung.contracts.events.common import Identifier
from lumbung.dashboard.hub import Hub, Update
from lumbung.dashboard.inventory import InventoryApi, InventoryUnreachable
from lumbung.dashboard.stock import StockReader
from lumbung.platform.auth import KEY_HEADER, AuthError, KeyRing, Principal, Role, authorize
from lumbung.platform.views import CatalogView

FRESHNESS_S = 2.0
"""How often a page hears how old its data is (`Hub.freshness`)."""
STATIC = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "index.html": "text/html; charset=utf-8",
}


class RestockQtyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qty: Units = Field(description="The quantity to ask the supplier for.")
    send_now: bool = Field(default=False, description="Send it now instead of at send_at.")


class TransferAcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qty: Units | None = Field(default=None, description="Units to move instead of suggested.")


def _sse(kind: str, data: Any, event_id: str | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


def routers(keys: KeyRing) -> list[APIRouter]:
    def ops(
        request: Request,
        key: Annotated[str | None, Query(description="The ops key, for browsers.")] = None,
        api_key: Annotated[str | None, Header(alias=KEY_HEADER)] = None,
    ) -> Principal:
        principal = keys.authenticate(api_key or key)
        authorize(principal, Role.OPS)
        return principal

    def ops_key(
        request: Request,
        key: Annotated[str | None, Query(description="The ops key, for browsers.")] = None,
        api_key: Annotated[str | None, Header(alias=KEY_HEADER)] = None,
    ) -> str:
        """The caller's ops key itself, to pass on to another service's API."""
        ops(request, key, api_key)
        return api_key or key or ""

    Ops = Annotated[Principal, Depends(ops)]
    OpsKey = Annotated[str, Depends(ops_key)]
    page = APIRouter(tags=["page"])
    api = APIRouter(prefix="/v1", tags=["dashboard"])

    @page.get("/", response_class=HTMLResponse, summary="The dashboard page")
    async def index() -> Response:
        return _static("index.html")

    @page.get("/static/{name}", summary="The page's script and style (no CDN)")
    async def static(name: str) -> Response:
        if name not in STATIC:
            raise AuthError(404, f"no file {name!r}")
        return _static(name)

    @api.get("/board", summary="The snapshot a page starts from")
    async def board(request: Request, _: Ops) -> dict[str, Any]:
        snapshot, _seq = await _snapshot(request)
        return snapshot

    @api.get("/stream", summary="Server-Sent Events: the snapshot, then every update")
    async def stream(
        request: Request,
        _: Ops,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    ) -> StreamingResponse:
        return StreamingResponse(
            _events(request, last_event_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @api.put(
        "/outlets/{outlet_id}/restocks/{restock_id}",
        status_code=202,
        summary="Change a suggested restock's quantity, or send it (inventory's API, passed on)",
        responses={
            404: {"description": "No such suggestion at the outlet"},
            409: {"description": "It went to the supplier already"},
            502: {"description": "The inventory API did not answer"},
        },
    )
    async def set_restock_qty(
        request: Request,
        key: OpsKey,
        outlet_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")],
        restock_id: Identifier,
        body: RestockQtyIn,
    ) -> Response:
        # Safe to send again: the same change twice is one change, and once the restock
        # went out inventory answers 409.
        inventory: InventoryApi = request.app.state.inventory
        return await _passed_on(
            inventory.set_restock_qty(key, outlet_id, restock_id, body.model_dump())
        )

    @api.get(
        "/transfers/suggestions",
        summary="Transfers that would cover a predicted stockout (inventory's API, passed on)",
        responses={502: {"description": "The inventory API did not answer"}},
    )
    async def transfer_suggestions(request: Request, key: OpsKey) -> Response:
        inventory: InventoryApi = request.app.state.inventory
        return await _passed_on(inventory.transfer_suggestions(key))

    @api.post(
        "/transfers/suggestions/{suggestion_id}/accept",
        status_code=202,
        summary="Make a suggested transfer (inventory's API, passed on)",
        responses={
            404: {"description": "No such suggestion now"},
            502: {"description": "The inventory API did not answer"},
        },
    )
    async def accept_transfer(
        request: Request,
        key: OpsKey,
        suggestion_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")],
        body: TransferAcceptIn,
    ) -> Response:
        # Safe to send again: the same suggestion accepted twice is one transfer.
        inventory: InventoryApi = request.app.state.inventory
        return await _passed_on(
            inventory.accept_transfer(key, suggestion_id, body.model_dump(exclude_none=True))
        )

    return [page, api]


async def _passed_on(call: Awaitable[tuple[int, Any]]) -> Response:
    """Inventory's answer to the page's call as it came, or 502 if it did not answer."""
    try:
        status, answer = await call
    except InventoryUnreachable as exc:
        detail = f"the inventory API did not answer ({exc}); try again"
        return JSONResponse({"detail": detail}, status_code=502)
    return JSONResponse(answer, status_code=status)


def _static(name: str) -> Response:
    body = resources.files("lumbung.dashboard").joinpath("static", name).read_bytes()
    return Response(body, media_type=STATIC[name], headers={"Cache-Control": "no-cache"})


async def _snapshot(request: Request) -> tuple[dict[str, Any], int]:
    hub: Hub = request.app.state.hub
    catalog: CatalogView = request.app.state.catalog
    reader: StockReader = request.app.state.stock
    seq = hub.seq
    folded = hub.board.snapshot()  # no await between: exactly the board at `seq`
    outlets = sorted(
        (o for o in catalog.outlets.values() if not o.retired), key=lambda o: o.outlet_id
    )
    stock = await reader.outlets([o.outlet_id for o in outlets])
    snapshot = {
        "epoch": hub.epoch,
        "seq": seq,
        "now": request.app.state.now().isoformat(),
        "outlets": [
            {
                "outlet_id": o.outlet_id,
                "name": o.name,
                "channel": o.channel.value,
                "calendar_id": o.calendar_id,
                "skus": [item.sku for item in o.assortment],
            }
            for o in outlets
        ],
        "products": [
            {"sku": p.sku, "name": p.name, "unit": p.unit, "price_idr": p.price_idr}
            for p in sorted(catalog.products.values(), key=lambda p: p.sku)
            if not p.retired
        ],
        "calendar": [
            {"calendar_id": c.calendar_id, "name": c.name}
            for c in catalog.calendar.values()
            if not c.retired
        ],
        "stock": stock,
        "freshness": hub.freshness(),
        **folded,
    }
    return snapshot, seq


def _newer(update: Update, stock: dict[str, dict[str, dict[str, Any]]]) -> bool:
    cell = stock.get(update.data["outlet_id"], {}).get(update.data["sku"])
    return cell is None or cell["version"] < update.data["version"]


async def _events(request: Request, last_event_id: str | None) -> AsyncIterator[bytes]:
    hub: Hub = request.app.state.hub
    subscriber = hub.subscribe()
    try:
        last = _resume_point(hub, last_event_id)
        if last is None:
            snapshot, last = await _snapshot(request)
            yield _sse("snapshot", snapshot, f"{hub.epoch}-{last}")
            for update in hub.buffered():
                if (
                    update.seq <= last
                    and update.kind == "stock"
                    and _newer(update, snapshot["stock"])
                ):
                    yield _sse(update.kind, update.data)
        else:
            for update in hub.since(last) or []:
                yield _sse(update.kind, update.data, f"{hub.epoch}-{update.seq}")
                last = update.seq
        told = time.monotonic()
        while not subscriber.overflowed:
            if time.monotonic() - told >= FRESHNESS_S:
                told = time.monotonic()
                yield _sse("freshness", hub.freshness())  # no id: not an update to resume
            try:
                update = await asyncio.wait_for(subscriber.queue.get(), FRESHNESS_S)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                continue
            if update.seq <= last:
                continue
            yield _sse(update.kind, update.data, f"{hub.epoch}-{update.seq}")
            last = update.seq
    finally:
        hub.unsubscribe(subscriber)


def _resume_point(hub: Hub, last_event_id: str | None) -> int | None:
    """The update a reconnecting page saw last, when this process can go on from it."""
    if not last_event_id or "-" not in last_event_id:
        return None
    epoch, _, seq = last_event_id.rpartition("-")
    if epoch != hub.epoch or not seq.isdigit():
        return None
    return int(seq) if hub.since(int(seq)) is not None else None
