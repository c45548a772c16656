"""Placing, reading and moving orders: what the HTTP API does, without HTTP.

An order's id comes from who placed it and their `Idempotency-Key`, so the same key
always names the same order; the request's fingerprint tells a retry (same body: the
same order back) from a reuse of the key (another body: refused). The API writes events
only; the orders worker folds them into the state that `get` reads.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from lumbung.contracts import make_event
from lumbung.contracts.events import orders
from lumbung.orders.adapters.read_model import OrdersReadModel
from lumbung.orders.domain import FINAL, NotAllowed, Order, State, order_event_id
from lumbung.platform.publisher import EventPublisher
from lumbung.platform.views import CatalogView
from lumbung.platform.web import FieldError

ORDER_NAMESPACE = uuid.UUID("5b0f7f0e-7c1a-4f6e-9a49-1f0c1b2d3e4f")
PRODUCER = "orders-api"


class OrderError(FieldError):
    """Bad input or a transition not allowed: a 4xx naming the field."""


def order_id_for(principal_key: str, idempotency_key: str) -> str:
    return "ORD-" + uuid.uuid5(ORDER_NAMESPACE, f"{principal_key}:{idempotency_key}").hex[:20]


def fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


class OrdersService:
    def __init__(
        self,
        publisher: EventPublisher,
        catalog: CatalogView,
        read_model: OrdersReadModel,
        now: Callable[[], datetime],
    ) -> None:
        self.publisher = publisher
        self.catalog = catalog
        self.read_model = read_model
        self.now = now

    def check_against_catalog(self, placed: orders.OrderPlaced) -> None:
        outlet = self.catalog.outlets.get(placed.outlet_id)
        if outlet is None or outlet.retired:
            raise OrderError(422, "outlet_id", f"unknown outlet {placed.outlet_id!r}")
        if placed.pickup_at <= self.now():
            raise OrderError(422, "pickup_at", "the pickup time is in the past")
        window = outlet.active_window
        if window is not None and not window.contains(placed.pickup_at):
            raise OrderError(
                422,
                "pickup_at",
                f"{placed.outlet_id} is open from {window.starts_at.isoformat()} to "
                f"{window.ends_at.isoformat()} only",
            )
        for i, line in enumerate(placed.lines):
            product = self.catalog.products.get(line.sku)
            if product is None or product.retired or not product.active:
                raise OrderError(422, f"lines.{i}.sku", f"{line.sku!r} is not a product on sale")

    async def place(
        self, principal_key: str, idempotency_key: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """The order and whether this call placed it (False: the same request again)."""
        order_id = order_id_for(principal_key, idempotency_key)
        request_hash = fingerprint(body)
        existing = await self.read_model.get(order_id)
        if existing is not None:
            if existing["request_hash"] != request_hash:
                raise OrderError(
                    409, "Idempotency-Key", "this key already placed an order with another body"
                )
            return existing, False
        placed = orders.OrderPlaced(order_id=order_id, request_hash=request_hash, **body)
        self.check_against_catalog(placed)
        if await self.read_model.claim(order_id, request_hash) != request_hash:
            raise OrderError(
                409, "Idempotency-Key", "this key already placed an order with another body"
            )
        now = self.now()
        await self.publisher.publish(
            "orders.events",
            order_id,
            make_event(
                placed,
                event_id=order_event_id(order_id, "placed:1"),
                occurred_at=now,
                producer=PRODUCER,
                correlation_id=order_id,
            ),
        )
        return Order.placed(placed, now).to_dict(), True

    async def wait_for_decision(self, order_id: str, seconds: float) -> dict[str, Any] | None:
        """The order once it has left `placed`, or as it is when time is up."""
        return await self._wait_until(
            order_id, seconds, lambda order: order["state"] != State.PLACED.value
        )

    async def _wait_until(
        self, order_id: str, seconds: float, done: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any] | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            order = await self.read_model.get(order_id)
            if (order is not None and done(order)) or loop.time() >= deadline:
                return order
            await asyncio.sleep(0.05)

    async def get(self, order_id: str) -> dict[str, Any]:
        order = await self.read_model.get(order_id)
        if order is None:
            raise OrderError(404, "order_id", f"no order {order_id!r}")
        return order

    async def move(
        self, order_id: str, wanted: State, reason: str = "", wait_s: float = 0.0
    ) -> tuple[dict[str, Any], bool]:
        """Cancel or fulfil: the order and whether it is settled. The event is written once
        the order's state allows the move; the order is settled only when the worker's fold
        has made it final: another move (a clerk pressing the other button, the expiry
        timer) may have come first, and the fold then drops this one (409). Until then,
        or when `wait_s` runs out first, the move is pending."""
        current = Order.from_dict(await self.get(order_id))
        try:
            current.check(wanted)
        except NotAllowed as exc:
            raise OrderError(409, "state", str(exc)) from exc
        payload: Any
        if wanted is State.CANCELLED:
            payload = orders.OrderCancelled(
                order_id=order_id, outlet_id=current.outlet_id, reason=reason
            )
        else:
            payload = orders.OrderFulfilled(order_id=order_id, outlet_id=current.outlet_id)
        await self.publisher.publish(
            "orders.events",
            order_id,
            make_event(
                payload,
                event_id=order_event_id(order_id, wanted.value),
                occurred_at=self.now(),
                producer=PRODUCER,
                correlation_id=order_id,
            ),
        )
        settled = await self._wait_until(
            order_id, wait_s, lambda order: State(order["state"]) in FINAL
        )
        if settled is None or State(settled["state"]) not in FINAL:
            return current.to_dict() | {"pending": wanted.value}, False
        if settled["state"] != wanted.value:
            became = NotAllowed(order_id, State(settled["state"]), wanted)
            raise OrderError(409, "state", str(became))
        return settled, True
