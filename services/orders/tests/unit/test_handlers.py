"""The orders worker's stream with no broker and no Redis: records of real contract events
go through `kernel.Batch`, as one batch of the worker's transaction does, and the timer
as the kernel ticks it."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import orjson

from lumbung.contracts import Registry, derived_event_id, encode, make_event
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders
from lumbung.contracts.events.common import Payload
from lumbung.contracts.registry import DLQ_SUFFIX
from lumbung.orders.domain import order_event_id
from lumbung.orders.entrypoints.worker import changed_orders, orders_stream
from lumbung.orders.handlers import order_key, timer_key
from lumbung.orders.settings import Settings
from lumbung.platform.clock import WITA
from lumbung.platform.dlq import DeadLetter
from lumbung.platform.kernel import Batch, IdMemory

REGISTRY = Registry()
NOW = datetime(2026, 10, 12, 9, 0, tzinfo=WITA)
ID, OUTLET = "ORD-1", "BOOTH-STADION"
SETTINGS = Settings(answer_timeout_s=10, answer_attempts=3, pickup_grace_s=3600)
STREAM = orders_stream(SETTINGS)
((_, MOVE_ON),) = STREAM.ticks


class Desk:
    """One task of the orders stream: its state, one batch per record or tick."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self.ids = IdMemory(STREAM.ids_per_key, STREAM.id_horizon)
        self.now = NOW
        self._offsets = itertools.count()

    def send(
        self, topic: str, payload: Payload, *, key: str | None = None, event_id: Any = None
    ) -> list[tuple[str, str, dict[str, Any], str | None]]:
        raw = encode(
            make_event(
                payload,
                event_id=event_id or uuid.uuid4(),
                occurred_at=self.now,
                producer="test",
                correlation_id=ID,
            )
        )
        record = SimpleNamespace(
            topic=REGISTRY.name(topic),
            partition=0,
            offset=next(self._offsets),
            key=(key or payload.order_id).encode(),  # type: ignore[attr-defined]
            value=raw,
        )
        batch = self.batch()
        batch.add(topic, record)
        batch.finish()
        return self.sent(batch)

    def tick(self) -> list[tuple[str, str, dict[str, Any], str | None]]:
        batch = self.batch()
        batch.take(MOVE_ON(self.state, self.now))
        return self.sent(batch)

    def batch(self) -> Batch:
        return Batch(STREAM, REGISTRY, self.state, self.ids, self.now)

    def sent(self, batch: Batch) -> list[tuple[str, str, dict[str, Any], str | None]]:
        """(topic, key, envelope, dead letter's reason) of each record sent."""
        return [
            (
                t,
                k.decode(),
                orjson.loads(v),
                DeadLetter.from_headers(k, v, h).error if t.endswith(DLQ_SUFFIX) else None,
            )
            for t, k, v, h in batch.out
        ]

    def fold_back(self, sent: list[tuple[str, str, dict[str, Any], str | None]]) -> None:
        """What the worker wrote to orders.events, read back by the same task."""
        for _, key, envelope, _ in sent:
            record = SimpleNamespace(
                topic=REGISTRY.name("orders.events"),
                partition=0,
                offset=next(self._offsets),
                key=key.encode(),
                value=orjson.dumps(envelope),
            )
            batch = self.batch()
            batch.add("orders.events", record)
            batch.finish()
            assert batch.out == []

    def order(self) -> dict[str, Any]:
        return dict(self.state[order_key(ID)])

    def place(self) -> None:
        assert self.send("orders.events", placed()) == []


def placed(attempt: int = 1) -> orders.OrderPlaced:
    return orders.OrderPlaced(
        order_id=ID,
        outlet_id=OUTLET,
        kind=orders.OrderKind.SOUVENIR_BULK,
        lines=[orders.OrderLine(sku="AMPLANG-250", qty=40)],
        pickup_at=NOW + timedelta(hours=5),
        customer_name="KBIH Paser",
        customer_phone="+6281250011005",
        request_hash="abc",
        attempt=attempt,
    )


def stock_reserved() -> inv.StockReserved:
    return inv.StockReserved(
        order_id=ID, outlet_id=OUTLET, lines=[inv.ReservedLine(sku="AMPLANG-250", qty=40)]
    )


def test_inventory_s_answer_becomes_an_order_event_with_an_id_derived_from_it() -> None:
    desk = Desk()
    desk.place()
    answer_id = uuid.uuid4()

    sent = desk.send("inventory.reservations", stock_reserved(), event_id=answer_id)

    [(_, key, envelope, error)] = sent
    assert (key, envelope["event_type"], error) == (ID, "orders.OrderReserved", None)
    assert envelope["event_id"] == str(derived_event_id(answer_id, "order-answer"))
    assert envelope["causation_id"] == str(answer_id)
    assert desk.order()["state"] == "reserved"  # at once: no timer gives up on it now
    desk.now = NOW + timedelta(seconds=30)  # past every answer timeout
    assert desk.tick() == []
    desk.fold_back(sent)  # the copy read back from orders.events changes nothing
    assert desk.order()["state"] == "reserved"
    assert len(desk.order()["history"]) == 2


def test_a_rejection_keeps_the_shortfall() -> None:
    desk = Desk()
    desk.place()
    short = inv.Shortfall(sku="AMPLANG-250", requested=40, available=12, missing=28)
    rejected = inv.ReservationRejected(order_id=ID, outlet_id=OUTLET, shortfall=[short])

    desk.fold_back(desk.send("inventory.reservations", rejected))

    assert desk.order()["state"] == "rejected"
    assert desk.order()["shortfall"][0]["missing"] == 28


def test_a_copy_or_a_late_answer_changes_nothing() -> None:
    desk = Desk()
    desk.place()
    reserved = orders.OrderReserved(
        order_id=ID, outlet_id=OUTLET, lines=[orders.OrderLine(sku="AMPLANG-250", qty=40)]
    )
    desk.send("orders.events", reserved)
    desk.send("orders.events", orders.OrderFulfilled(order_id=ID, outlet_id=OUTLET))
    before = desk.order()

    desk.send("orders.events", reserved)
    desk.send("orders.events", orders.OrderCancelled(order_id=ID, outlet_id=OUTLET))

    assert desk.order() == before
    assert before["state"] == "fulfilled"


def test_an_event_for_an_unknown_order_and_a_mis_keyed_one_go_to_the_dlq() -> None:
    desk = Desk()
    [(topic, _, _, error)] = desk.send(
        "orders.events", orders.OrderFulfilled(order_id=ID, outlet_id=OUTLET)
    )
    assert topic == REGISTRY.name("orders.dlq")
    assert "unknown order ORD-1" in str(error)

    [(_, _, _, error)] = desk.send("orders.events", placed(), key="ORD-2")
    assert "keyed" in str(error)
    assert desk.state == {}


def test_an_unanswered_order_is_asked_again_once_per_attempt_then_failed() -> None:
    desk = Desk()
    desk.place()
    desk.now = NOW + timedelta(seconds=9)
    assert desk.tick() == []  # not due yet

    desk.now = NOW + timedelta(seconds=10)
    [(_, _, again, _)] = asked = desk.tick()
    assert again["event_type"] == "orders.OrderPlaced"
    assert again["data"]["attempt"] == 2
    assert again["event_id"] == str(order_event_id(ID, "placed:2"))
    assert desk.tick() == []  # written: not again while the fold has not read it back
    desk.fold_back(asked)
    assert desk.order()["attempts"] == 2

    desk.now += timedelta(seconds=10)
    desk.fold_back(desk.tick())
    assert desk.order()["attempts"] == 3
    desk.now += timedelta(seconds=10)
    [(_, _, failed, _)] = gave_up = desk.tick()
    assert failed["event_type"] == "orders.OrderFailed"
    assert "after 3 attempts" in failed["data"]["reason"]
    desk.fold_back(gave_up)

    assert desk.order()["state"] == "failed"
    assert timer_key(ID) not in desk.state  # a final order keeps no timer
    desk.now += timedelta(hours=10)
    assert desk.tick() == []


def test_a_reserved_order_expires_once_its_pickup_and_grace_have_passed() -> None:
    desk = Desk()
    desk.place()
    desk.fold_back(desk.send("inventory.reservations", stock_reserved()))
    desk.now = NOW + timedelta(hours=5, minutes=59)
    assert desk.tick() == []

    desk.now = NOW + timedelta(hours=6)
    [(_, _, expired, _)] = sent = desk.tick()
    assert expired["event_type"] == "orders.OrderExpired"
    assert expired["event_id"] == str(order_event_id(ID, "expired"))
    assert desk.tick() == []
    desk.fold_back(sent)
    assert desk.order()["state"] == "expired"


def test_the_read_model_gets_orders_from_the_changelog_and_not_the_timers() -> None:
    desk = Desk()
    desk.place()
    desk.now = NOW + timedelta(seconds=10)
    desk.tick()
    records = [
        SimpleNamespace(key=k.encode(), value=None if v is None else orjson.dumps(v))
        for k, v in desk.state.items()
    ]
    assert set(desk.state) == {order_key(ID), timer_key(ID)}

    assert [o["order_id"] for o in changed_orders(records)] == [ID]
