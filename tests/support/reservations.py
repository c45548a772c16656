"""Two hundred orders raced against one outlet's stock, answered by the inventory workers:
every order gets one answer, and what is reserved never exceeds what was counted. The
plain test runs it on the suite's broker, the broker-stall test with the broker frozen."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from lumbung.contracts import Registry
from lumbung.contracts.events import orders

OUTLET = "BOOTH-STADION"
ORDERS = 200
COUNTED = {"AMPLANG": 100, "MADU": 30}


def answers(kafka_bootstrap: str, registry: Registry) -> dict[str, list[dict[str, Any]]]:
    """Every answer on inventory.reservations, by order (each event once)."""
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


def race_orders(
    kafka_bootstrap: str,
    registry: Registry,
    events: Any,
    read_model: Any,
    after_orders: Callable[[], None] = lambda: None,
) -> None:
    """Count the outlet's stock, send the orders at once (`after_orders` runs right after
    they are sent), then check the answers and the read model's reservations."""
    events.opening_count(OUTLET, COUNTED)
    events.flush()
    assert read_model.wait_for(lambda: len(read_model.outlet(OUTLET)) == len(COUNTED))

    rng = random.Random(3)
    wanted: dict[str, dict[str, int]] = {}
    for n in range(ORDERS):
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
    after_orders()

    deadline = time.monotonic() + 120
    answered: dict[str, list[dict[str, Any]]] = {}
    while time.monotonic() < deadline:
        answered = answers(kafka_bootstrap, registry)
        if len(answered) == ORDERS:
            break
        time.sleep(1)

    assert len(answered) == ORDERS
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
    held: dict[str, int] = defaultdict(int)
    for order_id, data in reserved.items():
        lines = {line["sku"]: line["qty"] for line in data["lines"]}
        assert lines == wanted[order_id]
        for sku, qty in lines.items():
            held[sku] += qty
    assert all(held[sku] <= n for sku, n in COUNTED.items()), dict(held)
    assert all(data["shortfall"] for data in rejected.values())
    assert read_model.wait_for(
        lambda: {sku: s["reserved"] for sku, s in read_model.outlet(OUTLET).items()} == dict(held)
    )
