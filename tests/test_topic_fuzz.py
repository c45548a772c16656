"""Hostile bytes on every topic a worker consumes: each lands on the consuming service's
DLQ with where it came from, and the partition keeps flowing (an event behind the garbage
is still applied). Real broker, Redis and worker processes."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from lumbung.books.entrypoints.worker import INPUTS as BOOKS_INPUTS
from lumbung.contracts import Registry
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.platform.dlq import DeadLetter
from lumbung.platform.testing import read_records
from tests.support.receivers import wait_until

pytestmark = pytest.mark.broker
OUTLET = "IKN-01"
SKU = "KERIPIK-PISANG-200"
CONSUMERS = {
    "inventory": ("pos.sales", "inventory.commands", "orders.events", "restock.acks"),
    "orders": ("orders.events", "inventory.reservations"),
    "notifications": (
        "restock.events",
        "inventory.alerts",
        "orders.events",
        "notifications.deliveries",
        "books.events",
    ),
    "books": BOOKS_INPUTS,
}


def garbage(rng: random.Random) -> list[bytes]:
    return [
        bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))),  # random bytes
        b'{"event_id": "not-a-uuid", "event_type": ',  # cut-off JSON
        b'{"event_type": "pos.SaleRecorded", "schema_version": 1, "data": {"lines": []}}',
        b"[]",
        "\u0000\ufffd tidak valid \U0001f600".encode(),
        # Issue 15: a well-formed sale whose quantity no encoder writes (a gateway using
        # another JSON library could send it); it must not stop the worker.
        b'{"event_id": "0193f6c2-0000-7000-8000-00000000beef", "event_type": '
        b'"pos.SaleRecorded", "schema_version": 1, "occurred_at": "2026-11-25T10:00:00+08:00",'
        b' "producer": "gateway", "correlation_id": "S-HUGE", "data": {"sale_id": "S-HUGE",'
        b' "outlet_id": "IKN-01", "sold_at": "2026-11-25T10:00:00+08:00", "lines": [{"sku":'
        b' "KERIPIK-PISANG-200", "qty": 1000000000000000000000000000000, "unit_price_idr": 1}]}}',
    ]


def test_malformed_messages_on_every_consumed_topic_go_to_the_dlq_and_flow_goes_on(
    events: Any,
    workers: Any,
    read_model: Any,
    kafka_bootstrap: str,
    registry: Registry,
    demo_catalog: dict[str, str],
) -> None:
    for service in CONSUMERS:
        workers(service)
    rng = random.Random(8)
    topics = sorted({t for ts in CONSUMERS.values() for t in ts})
    for topic in topics:
        for raw in garbage(rng):
            events.producer.send(registry.name(topic), key=OUTLET.encode(), value=raw)
    # Behind the garbage, on the same partitions: an opening count and a sale.
    count = inv.StockCounted(
        count_id="OPEN",
        outlet_id=OUTLET,
        kind=inv.CountKind.OPENING,
        counted_at=events.clock,
        lines=[inv.CountedLine(sku=SKU, counted=20)],
    )
    events.send("inventory.commands", OUTLET, events.envelope(count))
    events.flush()
    assert read_model.wait_for(lambda: read_model.outlet(OUTLET).get(SKU, {}).get("on_hand") == 20)
    sale = pos.SaleRecorded(
        sale_id="S-1",
        outlet_id=OUTLET,
        sold_at=events.clock,
        lines=[pos.SaleLine(sku=SKU, qty=3, unit_price_idr=15_000)],
    )
    events.send("pos.sales", OUTLET, events.envelope(sale, events.sale_event_id(OUTLET, "S-1")))
    events.flush()
    assert read_model.wait_for(lambda: read_model.outlet(OUTLET)[SKU]["on_hand"] == 17)

    per_message = len(garbage(rng))
    for service, consumed in CONSUMERS.items():
        expected = Counter({registry.name(t): per_message for t in consumed})

        def letters(service: str = service) -> Counter[str]:
            found = read_records(kafka_bootstrap, registry.name(f"{service}.dlq"))
            return Counter(
                DeadLetter.from_headers(r.key, r.value, list(r.headers)).topic for r in found
            )

        assert wait_until(lambda want=expected: letters() == want, seconds=90), letters()
