"""Orders against live stock with two worker processes in one consumer group."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition

from lumbung.contracts import Registry
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders

pytestmark = pytest.mark.broker
OUTLET = "BOOTH-STADION"


def answers(kafka_bootstrap: str, registry: Registry) -> dict[str, list[dict[str, Any]]]:
    topic = registry.name("inventory.reservations")
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in range(6)]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    ends = consumer.end_offsets(partitions)
    by_order: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    while any(consumer.position(tp) < ends[tp] for tp in partitions):
        for records in consumer.poll(timeout_ms=1000).values():
            for record in records:
                event = orjson.loads(record.value)
                by_order[event["data"]["order_id"]][event["event_id"]] = event
    consumer.close()
    return {order: list(events.values()) for order, events in by_order.items()}


def test_concurrent_orders_never_reserve_more_than_is_available(
    kafka_bootstrap: str, registry: Registry, events: Any, workers: Any, read_model: Any
) -> None:
    workers()
    workers()
    count = inv.StockCounted(
        count_id="OPEN",
        outlet_id=OUTLET,
        kind=inv.CountKind.OPENING,
        counted_at=events.clock,
        lines=[
            inv.CountedLine(sku="AMPLANG", counted=100),
            inv.CountedLine(sku="MADU", counted=30),
        ],
    )
    events.send("inventory.commands", OUTLET, events.envelope(count))
    events.flush()
    assert read_model.wait_for(lambda: len(read_model.outlet(OUTLET)) == 2)

    rng = random.Random(3)
    wanted: dict[str, dict[str, int]] = {}
    for n in range(200):
        lines = {"AMPLANG": rng.randint(1, 3)}
        if n % 4 == 0:
            lines["MADU"] = rng.randint(1, 2)
        order_id = f"ORD-{n:03d}"
        wanted[order_id] = lines
        placed = orders.OrderPlaced(
            order_id=order_id,
            outlet_id=OUTLET,
            pickup_at=events.clock + timedelta(hours=2),
            lines=[orders.OrderLine(sku=s, qty=q) for s, q in lines.items()],
        )
        events.send("orders.events", order_id, events.envelope(placed))
    events.flush()

    deadline = time.monotonic() + 120
    answered: dict[str, list[dict[str, Any]]] = {}
    while time.monotonic() < deadline:
        answered = answers(kafka_bootstrap, registry)
        if len(answered) == 200:
            break
        time.sleep(1)

    assert len(answered) == 200
    assert all(len({e["event_type"] for e in evs}) == 1 for evs in answered.values())
    reserved = {
        o: evs[0]["data"]
        for o, evs in answered.items()
        if evs[0]["event_type"] == "inventory.StockReserved"
    }
    rejected = {
        o: evs[0]["data"]
        for o, evs in answered.items()
        if evs[0]["event_type"] == "inventory.ReservationRejected"
    }
    held = defaultdict(int)
    for order_id, data in reserved.items():
        lines = {line["sku"]: line["qty"] for line in data["lines"]}
        assert lines == wanted[order_id]
        for sku, qty in lines.items():
            held[sku] += qty
    assert held["AMPLANG"] <= 100
    assert held["MADU"] <= 30
    assert all(data["shortfall"] for data in rejected.values())
    assert read_model.wait_for(
        lambda: {sku: s["reserved"] for sku, s in read_model.outlet(OUTLET).items()} == dict(held)
    )
