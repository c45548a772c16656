"""The orders worker: faust agents that keep every order's state and move it on.

    lumbung-orders worker           (runs `faust worker` on this app)

- `fold-orders` folds `orders.events` (keyed by order_id) into a table of orders, and
  projects each changed order into the Redis read model once its state is durable;
- `answers` turns inventory's answers on `inventory.reservations` into `OrderReserved` /
  `OrderRejected` on `orders.events` (the fold ignores an answer that comes too late);
- a timer asks inventory again when an order has waited too long for an answer
  (`OrderPlaced` with the next attempt: inventory answers a repeated order the same way),
  fails it after the last attempt (`OrderFailed`, which releases anything held), and
  expires reserved orders whose pickup time plus grace has passed.

Every event the worker writes has an id derived from its cause, so a repeat is a copy
that consumers drop. Where each input was read to lives with the state
(`lumbung.platform.positions`), not in faust's committed offsets.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import orjson
from faust.streams import _current_event

from lumbung.contracts import ContractError, Registry, derived_event_id, make_event
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders
from lumbung.contracts.events.common import Payload
from lumbung.orders.adapters.read_model import OrdersReadModel
from lumbung.orders.domain import Order, State, order_event_id
from lumbung.orders.settings import Settings
from lumbung.platform.cache import redis_client
from lumbung.platform.clock import Clock, clock_from_env
from lumbung.platform.positions import faust_positions, write_positions
from lumbung.platform.streams import dead_letter, durable_table, make_stream_app, raw_topic

log = logging.getLogger(__name__)
SERVICE = "orders"
PRODUCER = "orders-worker"
BATCH_SIZE = 500
BATCH_WITHIN_S = 0.05
RESEND_AFTER = timedelta(seconds=5)


class Worker:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.registry: Registry = settings.registry
        self.clock = clock or clock_from_env()
        self.app = make_stream_app(SERVICE, settings)
        self.events_in = raw_topic(self.app, self.registry, "orders.events")
        self.answers_in = raw_topic(self.app, self.registry, "inventory.reservations")
        self.dlq = raw_topic(self.app, self.registry, "orders.dlq")
        self.state = durable_table(
            self.app,
            "orders",
            partitions=self.registry.spec("orders.events").partitions,
            help="Every order (domain Order as JSON), and how far each input was read.",
        )
        self.read_model = OrdersReadModel(redis_client(settings.redis_url), self.registry.prefix)
        self.positions = faust_positions(self.app, self.state)
        self.answer_timeout = timedelta(seconds=settings.answer_timeout_s)
        self.grace = timedelta(seconds=settings.pickup_grace_s)
        self._sent_at: dict[tuple[str, str], Any] = {}
        self._worker_id = uuid.uuid4().hex
        self._project_again = True
        self._declare()

    def _declare(self) -> None:
        app = self.app

        @app.on_partitions_assigned.connect
        async def forget_positions(*_: Any, **__: Any) -> None:
            self.positions.forget()
            self._project_again = True

        @app.agent(self.events_in, name="fold-orders")
        async def fold_orders(stream: Any) -> None:
            async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_S):
                await self.fold(batch)

        @app.agent(self.answers_in, name="answers")
        async def answers(stream: Any) -> None:
            async for batch in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_S):
                await self.record_answers(batch)

        @app.timer(interval=2.0)
        async def recheck_positions() -> None:
            await self.positions.recheck(
                {self.registry.name(t) for t in ("orders.events", "inventory.reservations")}
            )

        @app.timer(interval=1.0)
        async def move_on() -> None:
            await self.move_on()

        @app.timer(interval=2.0)
        async def project_after_wipe() -> None:
            await self.project_after_wipe()

    # -- the fold: orders.events -> the orders table -> Redis ------------------------------

    async def fold(self, batch: Iterable[Any]) -> None:
        changed: dict[str, Order] = {}
        dead: list[tuple[Any, str]] = []
        accepted = await self.positions.select(batch, SERVICE)
        for event in accepted.events:
            try:
                parsed = self.registry.parse(event.value)
            except ContractError as exc:
                dead.append((event, str(exc)))
                continue
            data = parsed.data
            order_id = getattr(data, "order_id", None)
            if order_id is None:
                dead.append((event, f"{parsed.event_type} is not an order event"))
                continue
            order = changed.get(order_id) or self._load(order_id)
            if order is None:
                if not isinstance(data, orders.OrderPlaced):
                    dead.append((event, f"{parsed.event_type} for unknown order {order_id}"))
                    continue
                order = Order.placed(data, parsed.occurred_at)
            elif not order.apply(data, parsed.occurred_at):
                continue
            changed[order_id] = order
            _current_event.set(weakref.ref(event))
            self.state[order_id.encode()] = orjson.dumps(order.to_dict())
        write_positions(self.state, accepted.last)
        letters = [await self.dead_letter(event, error) for event, error in dead]
        await asyncio.gather(*self.state.take_written(), *letters)
        await self.read_model.put([order.to_dict() for order in changed.values()])

    def _load(self, order_id: str) -> Order | None:
        raw = self.state.get(order_id.encode())
        return None if raw is None else Order.from_dict(orjson.loads(raw))

    # -- inventory's answers become order events -------------------------------------------

    async def record_answers(self, batch: Iterable[Any]) -> None:
        sent = []
        accepted = await self.positions.select(batch, SERVICE)
        for event in accepted.events:
            try:
                parsed = self.registry.parse(event.value)
            except ContractError as exc:
                sent.append(await self.dead_letter(event, str(exc)))
                continue
            data = parsed.data
            payload: Payload
            if isinstance(data, inv.StockReserved):
                lines = [orders.OrderLine(sku=line.sku, qty=line.qty) for line in data.lines]
                payload = orders.OrderReserved(
                    order_id=data.order_id, outlet_id=data.outlet_id, lines=lines
                )
            elif isinstance(data, inv.ReservationRejected):
                payload = orders.OrderRejected(
                    order_id=data.order_id, outlet_id=data.outlet_id, shortfall=data.shortfall
                )
            else:
                sent.append(await self.dead_letter(event, f"unexpected {parsed.event_type}"))
                continue
            answer = make_event(
                payload,
                event_id=derived_event_id(parsed.event_id, "order-answer"),
                occurred_at=parsed.occurred_at,
                producer=PRODUCER,
                correlation_id=parsed.correlation_id,
                causation_id=str(parsed.event_id),
            )
            sent.append(await self._send(data.order_id, answer.model_dump_json().encode()))
        await asyncio.gather(*sent)
        write_positions(self.state, accepted.last)
        await asyncio.gather(*self.state.take_written())

    async def project_after_wipe(self) -> None:
        """Once the table is recovered after each assignment, and whenever Redis lost this
        worker's marker (a wipe), write every order of this worker's partitions into the
        read model again (never over a later state of an order the fold wrote meanwhile)."""
        if not self.app.tables.recovery.completed.is_set():  # type: ignore[attr-defined]
            return  # the orders of newly assigned partitions are still being read back
        if not self._project_again and await self.read_model.has_marker(self._worker_id):
            return
        self._project_again = False
        batch: list[dict[str, Any]] = []
        for key, raw in list(self.state.items()):
            if b"|" not in key:
                batch.append(orjson.loads(raw))
            if len(batch) >= 500:
                await self.read_model.put(batch)
                batch = []
        await self.read_model.put(batch)
        await self.read_model.set_marker(self._worker_id)

    # -- time moves orders on ----------------------------------------------------------------

    async def move_on(self) -> None:
        now = self.clock.now()
        self._sent_at = {k: at for k, at in self._sent_at.items() if now - at < RESEND_AFTER}
        sent = []
        for key, raw in list(self.state.items()):
            if b"|" in key:
                continue
            order = Order.from_dict(orjson.loads(raw))
            payload: Payload | None = None
            what = ""
            if order.state is State.PLACED and now - order.waiting_since() >= self.answer_timeout:
                if order.attempts < self.settings.answer_attempts:
                    attempt = order.attempts + 1
                    payload = order.placed_event(attempt)
                    what = f"placed:{attempt}"
                else:
                    payload = orders.OrderFailed(
                        order_id=order.order_id,
                        outlet_id=order.outlet_id,
                        reason=f"inventory did not answer after {order.attempts} attempts",
                    )
                    what = "failed"
            elif order.state is State.RESERVED and now >= order.expires_at(self.grace):
                payload = orders.OrderExpired(order_id=order.order_id, outlet_id=order.outlet_id)
                what = "expired"
            if payload is None or not self._due(order.order_id, what, now):
                continue
            event = make_event(
                payload,
                event_id=order_event_id(order.order_id, what),
                occurred_at=now,
                producer=PRODUCER,
                correlation_id=order.order_id,
            )
            sent.append(await self._send(order.order_id, event.model_dump_json().encode()))
        await asyncio.gather(*sent)

    def _due(self, order_id: str, what: str, now: Any) -> bool:
        """Not the same event again within RESEND_AFTER (the fold may not have caught up)."""
        if (order_id, what) in self._sent_at:
            return False
        self._sent_at[(order_id, what)] = now
        return True

    # -- plumbing ------------------------------------------------------------------------------

    async def _send(self, order_id: str, value: bytes) -> Any:
        return await self.events_in.send(key=order_id.encode(), value=value)

    async def dead_letter(self, event: Any, error: str) -> Any:
        return await dead_letter(self.dlq, SERVICE, event, error)
