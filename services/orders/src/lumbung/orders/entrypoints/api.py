"""HTTP routes of the orders service.

No `from __future__ import annotations`: FastAPI reads these signatures, whose key
dependency is built per app.
"""

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lumbung.contracts.events import orders
from lumbung.contracts.events.common import Identifier
from lumbung.orders.domain import State
from lumbung.orders.service import OrdersService
from lumbung.platform.auth import Principal, Role, authorize
from lumbung.platform.clock import WITA
from lumbung.platform.web import Units

DEFAULT_MOVE_WAIT_S = 5.0
"""How long a cancel or fulfil waits, unless asked otherwise, to answer what the order became."""


def moved(done: str) -> dict[int | str, dict[str, Any]]:
    """The answers of a cancel or fulfil, for the OpenAPI document."""
    return {
        200: {"description": done},
        202: {"description": "Not settled yet: `pending` names the state asked for"},
        409: {"description": "The order's state does not allow it, or it became another"},
    }


OrderPath = Annotated[str, Path(pattern=r"^ORD-[0-9a-f]{20}$", description="The order's id.")]


class OrderLineIn(orders.OrderLine):
    qty: Units


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_name: str = Field(min_length=1, max_length=120)
    customer_phone: str = Field(pattern=orders.PHONE_PATTERN, description="e.g. +6281250011005")
    kind: orders.OrderKind
    outlet_id: Identifier = Field(description="The pickup outlet.")
    pickup_at: AwareDatetime
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=500)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=300)


def routers(principal: Any) -> list[APIRouter]:
    router = APIRouter(prefix="/v1/orders", tags=["orders"])
    Caller = Annotated[Principal, principal]

    def service(request: Request) -> OrdersService:
        svc: OrdersService = request.app.state.orders
        return svc

    async def visible(request: Request, who: Principal, order_id: str) -> dict[str, Any]:
        order = await service(request).get(order_id)
        authorize(who, Role.OUTLET, order["outlet_id"])
        return order

    @router.post("", status_code=202, summary="Place an order (reserved against live stock)")
    async def place(
        request: Request,
        body: OrderIn,
        who: Caller,
        idempotency_key: Annotated[
            str, Header(min_length=8, max_length=128, description="One per order, from you.")
        ],
        wait: Annotated[
            float, Query(ge=0, description="Seconds to wait for inventory's decision.")
        ] = 0,
    ) -> JSONResponse:
        authorize(who, Role.OUTLET, body.outlet_id)
        svc = service(request)
        caller = f"{who.role.value}:{who.subject}"
        order, new = await svc.place(caller, idempotency_key, body.model_dump(mode="json"))
        if wait:
            limit = min(wait, request.app.state.max_wait_s)
            order = await svc.wait_for_decision(order["order_id"], limit) or order
        status = 202 if order["state"] == State.PLACED.value else (201 if new else 200)
        return JSONResponse(order, status_code=status)

    @router.get("/{order_id}", summary="One order with its history")
    async def get_one(request: Request, order_id: OrderPath, who: Caller) -> dict[str, Any]:
        return await visible(request, who, order_id)

    @router.get("", summary="Orders of one outlet, by state and pickup date")
    async def list_orders(
        request: Request,
        who: Caller,
        outlet_id: Annotated[str, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")],
        state: State | None = None,
        pickup_date: Annotated[date | None, Query(description="In WITA.")] = None,
    ) -> dict[str, Any]:
        authorize(who, Role.OUTLET, outlet_id)
        start = end = None
        if pickup_date is not None:
            start = datetime.combine(pickup_date, time(), WITA)
            end = start + timedelta(days=1) - timedelta(microseconds=1)
        found = await service(request).read_model.by_outlet(outlet_id, start, end)
        if state is not None:
            found = [o for o in found if o["state"] == state.value]
        return {"orders": found}

    Wait = Annotated[
        float,
        Query(ge=0, description="Seconds to wait for the move to settle (answer 200 or 409)."),
    ]

    async def move(request: Request, order_id: str, wanted: State, reason: str, wait: float) -> Any:
        limit = min(wait, request.app.state.max_wait_s)
        order, settled = await service(request).move(order_id, wanted, reason, limit)
        return JSONResponse(order, status_code=200 if settled else 202)

    @router.post(
        "/{order_id}/cancel",
        summary="Cancel; releases the stock",
        responses=moved("Cancelled"),
    )
    async def cancel(
        request: Request,
        order_id: OrderPath,
        who: Caller,
        body: CancelIn | None = None,
        wait: Wait = DEFAULT_MOVE_WAIT_S,
    ) -> Any:
        await visible(request, who, order_id)
        reason = body.reason if body is not None else ""
        return await move(request, order_id, State.CANCELLED, reason, wait)

    @router.post(
        "/{order_id}/fulfil",
        summary="Picked up, in full",
        responses=moved("Fulfilled"),
    )
    async def fulfil(
        request: Request, order_id: OrderPath, who: Caller, wait: Wait = DEFAULT_MOVE_WAIT_S
    ) -> Any:
        await visible(request, who, order_id)
        return await move(request, order_id, State.FULFILLED, "", wait)

    return [router]
