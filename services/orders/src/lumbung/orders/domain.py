"""An order and its life cycle, without Kafka or HTTP.

    placed ──► reserved ──► fulfilled
       │          ├──────► cancelled
       │          └──────► expired     (pickup time + grace passed)
       ├──────► rejected              (inventory could not hold every line)
       ├──────► cancelled
       └──────► failed                (no answer from inventory in time)

The state of an order is the fold of its events on `orders.events`, in order. Every
transition is checked here; the HTTP API asks before it writes, and the fold ignores an
event that arrives after a final state (two clerks pressing different buttons at once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from lumbung.contracts import derived_event_id
from lumbung.contracts.events import orders


class State(StrEnum):
    PLACED = "placed"
    RESERVED = "reserved"
    REJECTED = "rejected"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


FINAL = frozenset({State.REJECTED, State.FULFILLED, State.CANCELLED, State.EXPIRED, State.FAILED})

ALLOWED: dict[State, frozenset[State]] = {
    State.PLACED: frozenset({State.RESERVED, State.REJECTED, State.CANCELLED, State.FAILED}),
    # RESERVED -> FAILED only by a race: the worker gave up waiting for inventory's
    # answer while the answer was on its way, and both landed on orders.events. Inventory
    # releases the hold on OrderFailed whatever came before, so the order must fail too, or
    # it would show reserved with nothing held (found by the chaos run on a cluster).
    State.RESERVED: frozenset({State.FULFILLED, State.CANCELLED, State.EXPIRED, State.FAILED}),
}

TRANSITIONS: dict[type[Any], State] = {
    orders.OrderReserved: State.RESERVED,
    orders.OrderRejected: State.REJECTED,
    orders.OrderFulfilled: State.FULFILLED,
    orders.OrderCancelled: State.CANCELLED,
    orders.OrderExpired: State.EXPIRED,
    orders.OrderFailed: State.FAILED,
}


def order_event_id(order_id: str, what: str) -> Any:
    """The id of an order event the orders service writes: one per (order, what), so a
    repeat (a retried request, a timer firing twice) is a copy that consumers drop."""
    return derived_event_id(f"order:{order_id}", what)


class NotAllowed(Exception):
    """A transition the order's state does not allow (answered with 409)."""

    def __init__(self, order_id: str, state: State, wanted: State) -> None:
        super().__init__(f"order {order_id} is {state.value}: it cannot become {wanted.value}")
        self.state, self.wanted = state, wanted


@dataclass
class Order:
    order_id: str
    outlet_id: str
    kind: str
    lines: list[dict[str, Any]]
    pickup_at: datetime
    customer_name: str
    customer_phone: str
    note: str
    request_hash: str
    placed_at: datetime
    state: State = State.PLACED
    attempts: int = 1
    asked_at: datetime | None = None
    """When inventory was last asked (the latest `OrderPlaced`)."""
    shortfall: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def placed(cls, data: orders.OrderPlaced, at: datetime) -> Order:
        order = cls(
            order_id=data.order_id,
            outlet_id=data.outlet_id,
            kind=data.kind.value,
            lines=[line.model_dump() for line in data.lines],
            pickup_at=data.pickup_at,
            customer_name=data.customer_name,
            customer_phone=data.customer_phone,
            note=data.note,
            request_hash=data.request_hash,
            placed_at=at,
            asked_at=at,
        )
        order.history.append({"state": State.PLACED.value, "at": at.isoformat()})
        return order

    @property
    def final(self) -> bool:
        return self.state in FINAL

    def check(self, wanted: State) -> None:
        """Raise NotAllowed unless the order may move to `wanted` now."""
        if wanted not in ALLOWED.get(self.state, frozenset()):
            raise NotAllowed(self.order_id, self.state, wanted)

    def apply(self, data: Any, at: datetime) -> bool:
        """Fold one of this order's events in; False when it changes nothing."""
        if isinstance(data, orders.OrderPlaced):
            if self.state is State.PLACED and data.attempt > self.attempts:
                self.attempts, self.asked_at = data.attempt, at
                return True
            return False
        wanted = TRANSITIONS.get(type(data))
        if wanted is None or wanted not in ALLOWED.get(self.state, frozenset()):
            return False
        self.state = wanted
        if isinstance(data, orders.OrderRejected):
            self.shortfall = [s.model_dump() for s in data.shortfall]
        reason = getattr(data, "reason", "")
        if reason:
            self.reason = reason
        entry: dict[str, Any] = {"state": wanted.value, "at": at.isoformat()}
        if reason:
            entry["reason"] = reason
        self.history.append(entry)
        return True

    def waiting_since(self) -> datetime:
        return self.asked_at or self.placed_at

    def placed_event(self, attempt: int) -> orders.OrderPlaced:
        """The `OrderPlaced` that asks inventory again (attempt `attempt`)."""
        return orders.OrderPlaced(
            order_id=self.order_id,
            outlet_id=self.outlet_id,
            kind=orders.OrderKind(self.kind),
            lines=[orders.OrderLine(**line) for line in self.lines],
            pickup_at=self.pickup_at,
            customer_name=self.customer_name,
            customer_phone=self.customer_phone,
            note=self.note,
            request_hash=self.request_hash,
            attempt=attempt,
        )

    def expires_at(self, grace: timedelta) -> datetime:
        return self.pickup_at + grace

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "outlet_id": self.outlet_id,
            "kind": self.kind,
            "lines": self.lines,
            "pickup_at": self.pickup_at.isoformat(),
            "customer_name": self.customer_name,
            "customer_phone": self.customer_phone,
            "note": self.note,
            "request_hash": self.request_hash,
            "placed_at": self.placed_at.isoformat(),
            "state": self.state.value,
            "attempts": self.attempts,
            "asked_at": self.waiting_since().isoformat(),
            "shortfall": self.shortfall,
            "reason": self.reason,
            "history": self.history,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        return cls(
            order_id=data["order_id"],
            outlet_id=data["outlet_id"],
            kind=data["kind"],
            lines=data["lines"],
            pickup_at=datetime.fromisoformat(data["pickup_at"]),
            customer_name=data["customer_name"],
            customer_phone=data["customer_phone"],
            note=data["note"],
            request_hash=data["request_hash"],
            placed_at=datetime.fromisoformat(data["placed_at"]),
            state=State(data["state"]),
            attempts=data["attempts"],
            asked_at=datetime.fromisoformat(data["asked_at"]),
            shortfall=data["shortfall"],
            reason=data["reason"],
            history=data["history"],
        )
