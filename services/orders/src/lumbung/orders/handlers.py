"""The orders service's stream handlers: pure functions of (state, event, now) for the
stream kernel, over `orders.events` and inventory's answers on `inventory.reservations`
(both keyed by order id, so an order's events and answers meet in one task).

State, per order:

- `o|ORDER`   the order (`domain.Order.to_dict`): what the read model shows;
- `t|ORDER`   what a timer last wrote about the order (`placed:2`, `failed`, `expired`),
  so it writes each once; dropped when the order is final.

- `fold`: an order event moves its order on (`Order.apply`); one that changes nothing (a
  copy, an answer that came too late) changes nothing;
- `answer`: inventory's answer becomes `OrderReserved` or `OrderRejected` on
  `orders.events`, with an id derived from the answer's (the topic stays the whole record
  of every order), and moves the order at once, so no timer gives up on it meanwhile;
- `moves`, every second once the task has applied all its inputs: asks inventory again
  when an order waited too long for an answer, fails it after the last attempt
  (`OrderFailed` releases anything held), and expires a reserved order once its pickup
  time plus grace has passed.

The rules live in `domain.py`; this module only knows where they are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from lumbung.contracts import Envelope, derived_event_id, event_json
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders
from lumbung.contracts.events.common import Payload
from lumbung.orders.domain import Order, State, order_event_id
from lumbung.platform.kernel import Emit, Handler, Outcome, Tick, Unprocessable

PRODUCER = "orders-worker"
ORDER_EVENTS: tuple[type[Any], ...] = (
    orders.OrderPlaced,
    orders.OrderReserved,
    orders.OrderRejected,
    orders.OrderCancelled,
    orders.OrderExpired,
    orders.OrderFailed,
    orders.OrderFulfilled,
)
ANSWERS: tuple[type[Any], ...] = (inv.StockReserved, inv.ReservationRejected)
OPEN = frozenset({State.PLACED.value, State.RESERVED.value})


def order_key(order_id: str) -> str:
    return f"o|{order_id}"


def timer_key(order_id: str) -> str:
    return f"t|{order_id}"


def order_of(data: Any) -> str:
    """The key every input of the orders stream carries: its order id."""
    return str(data.order_id)


def fold(state: Mapping[str, Any], event: Envelope[Any], now: datetime) -> Outcome:
    data = event.data
    order_id = data.order_id
    held = state.get(order_key(order_id))
    if held is None:
        if not isinstance(data, orders.OrderPlaced):
            raise Unprocessable(f"{event.event_type} for unknown order {order_id}")
        order = Order.placed(data, event.occurred_at)
    else:
        order = Order.from_dict(held)
        if not order.apply(data, event.occurred_at):
            return Outcome()
    changes: dict[str, Any] = {order_key(order_id): order.to_dict()}
    if order.final and timer_key(order_id) in state:
        changes[timer_key(order_id)] = None
    return Outcome(changes=changes)


def answer(state: Mapping[str, Any], event: Envelope[Any], _: datetime) -> Outcome:
    data = event.data
    payload: Payload
    if isinstance(data, inv.StockReserved):
        lines = [orders.OrderLine(sku=line.sku, qty=line.qty) for line in data.lines]
        payload = orders.OrderReserved(
            order_id=data.order_id, outlet_id=data.outlet_id, lines=lines
        )
    else:
        payload = orders.OrderRejected(
            order_id=data.order_id, outlet_id=data.outlet_id, shortfall=data.shortfall
        )
    value = event_json(
        payload,
        event_id=derived_event_id(event.event_id, "order-answer"),
        occurred_at=event.occurred_at,
        producer=PRODUCER,
        correlation_id=event.correlation_id,
        causation_id=str(event.event_id),
    )
    # Folded at once as well as written: a timer in the same batch, or before the event
    # comes back from orders.events, must not give up on an order that has its answer.
    # The copy read back changes nothing (`Order.apply` is False for it).
    changes: dict[str, Any] = {}
    held = state.get(order_key(data.order_id))
    if held is not None:
        order = Order.from_dict(held)
        if order.apply(payload, event.occurred_at):
            changes[order_key(data.order_id)] = order.to_dict()
            if order.final and timer_key(data.order_id) in state:
                changes[timer_key(data.order_id)] = None
    return Outcome(changes=changes, events=[Emit("orders.events", data.order_id, value)])


def moves(answer_timeout: timedelta, attempts: int, grace: timedelta) -> Tick:
    """The timer over every open order of a task (see the module's docstring)."""

    def move_on(state: Mapping[str, Any], now: datetime) -> Outcome:
        out = Outcome()
        for key, held in state.items():
            if not key.startswith("o|") or held["state"] not in OPEN:
                continue
            order = Order.from_dict(held)
            payload: Payload | None = None
            what = ""
            if order.state is State.PLACED and now - order.waiting_since() >= answer_timeout:
                if order.attempts < attempts:
                    payload = order.placed_event(order.attempts + 1)
                    what = f"placed:{order.attempts + 1}"
                else:
                    payload = orders.OrderFailed(
                        order_id=order.order_id,
                        outlet_id=order.outlet_id,
                        reason=f"inventory did not answer after {order.attempts} attempts",
                    )
                    what = "failed"
            elif order.state is State.RESERVED and now >= order.expires_at(grace):
                payload = orders.OrderExpired(order_id=order.order_id, outlet_id=order.outlet_id)
                what = "expired"
            if payload is None or state.get(timer_key(order.order_id)) == what:
                continue  # nothing due, or written already and not folded in yet
            value = event_json(
                payload,
                event_id=order_event_id(order.order_id, what),
                occurred_at=now,
                producer=PRODUCER,
                correlation_id=order.order_id,
            )
            out.events.append(Emit("orders.events", order.order_id, value))
            out.changes[timer_key(order.order_id)] = what
        return out

    return move_on


def handlers() -> dict[type[Any], Handler]:
    return {**dict.fromkeys(ORDER_EVENTS, fold), **dict.fromkeys(ANSWERS, answer)}
