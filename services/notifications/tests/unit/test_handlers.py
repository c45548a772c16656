"""The notifications worker's streams with no broker, no catalog server and no receiver:
records of real contract events go through `kernel.Batch`, as one batch of the worker's
transaction does, and the ticks as the kernel runs them."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import orjson

from lumbung.contracts import Registry, encode, make_event
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders, restock
from lumbung.contracts.events.catalog import ContactChannels, SupplierChanged
from lumbung.contracts.events.common import Payload
from lumbung.contracts.events.notifications import (
    ChannelKind,
    NotificationDelivered,
    NotificationFailed,
)
from lumbung.notifications.handlers import (
    ORIGIN,
    ROUTED,
    Outbox,
    digest_key,
    record_key,
    route_handlers,
    seen_key,
)
from lumbung.notifications.plan import OPS, OpsContacts, Planner, channels_on
from lumbung.platform.dlq import DeadLetter
from lumbung.platform.kernel import Batch, IdMemory, Stream

REGISTRY = Registry()
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
SUPPLIER = "SUP-HUTAN"
RECIPIENT = f"supplier:{SUPPLIER}"
WINDOW = timedelta(minutes=10)


class Catalog:
    """The catalog as the planner reads it: one supplier with a webhook, nothing else."""

    def __init__(self) -> None:
        self.suppliers = {
            SUPPLIER: SupplierChanged(
                supplier_id=SUPPLIER,
                name="Madu Hutan Paser",
                owner_name="Bu Sari",
                contacts=ContactChannels(webhook_url="https://madu.example.org/hook"),
                version=1,
                changed_at=NOW,
            )
        }
        self.outlets: dict[str, Any] = {}
        self.products: dict[str, Any] = {}


PLANNER = Planner(
    Catalog(),  # type: ignore[arg-type]
    OpsContacts(webhook_url="https://ops.example.org/hook", email="ops@example.org"),
    "https://lumbung.example.org",
    "secret",
    timedelta(days=2),
    channels_on(smtp_host="", whatsapp_gateway_url=""),
)
OUTBOX = Outbox(PLANNER, WINDOW, REGISTRY)
ROUTE = Stream("notifications", "route", ROUTED, route_handlers(REGISTRY), with_record=True)
STREAM = Stream(
    "notifications",
    "outbox",
    ("notifications.outbox", "notifications.deliveries"),
    OUTBOX.handlers(),
    with_record=True,
)
Sent = tuple[str, str, bytes, dict[str, bytes]]


class Task:
    """One task of a stream: its state, one batch per record or tick."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.state: dict[str, Any] = {}
        self.now = NOW
        self._offsets = itertools.count(100)
        self.after: list[Any] = []

    def take(self, topic: str, key: str, value: bytes, headers: Any = ()) -> list[Sent]:
        record = SimpleNamespace(
            topic=REGISTRY.name(topic),
            partition=2,
            offset=next(self._offsets),
            key=key.encode(),
            value=value,
            headers=list(headers),
        )
        batch = self.batch()
        batch.add(topic, record)
        batch.finish()
        return self.sent(batch)

    def tick(self, which: Any) -> list[Sent]:
        batch = self.batch()
        batch.take(which(self.state, self.now))
        return self.sent(batch)

    def batch(self) -> Batch:
        return Batch(self.stream, REGISTRY, self.state, IdMemory(10, timedelta(days=1)), self.now)

    def sent(self, batch: Batch) -> list[Sent]:
        self.after += batch.after
        return [(t, k.decode(), v, dict(h or ())) for t, k, v, h in batch.out]


def envelope(payload: Payload) -> bytes:
    return encode(
        make_event(
            payload, event_id=uuid.uuid4(), occurred_at=NOW, producer="test", correlation_id="c"
        )
    )


def requested(restock_id: str) -> bytes:
    return envelope(
        restock.RestockRequested(
            restock_id=restock_id,
            outlet_id="BOOTH-STADION",
            sku="MADU-250",
            supplier_id=SUPPLIER,
            on_hand=3,
            available=3,
            reorder_point=10,
            par_level=30,
            suggested_qty=24,
        )
    )


def routed(value: bytes, key: str = "BOOTH-STADION") -> list[Sent]:
    return Task(ROUTE).take("restock.events", key, value)


def test_a_restock_request_is_forwarded_as_it_came_to_its_supplier_with_its_origin() -> None:
    raw = requested("R-1")

    [(topic, key, value, headers)] = routed(raw)

    assert (topic, key, value) == (REGISTRY.name("notifications.outbox"), RECIPIENT, raw)
    assert headers[ORIGIN] == f"{REGISTRY.name('restock.events')}:2@100".encode()


def test_events_that_concern_nobody_pass_without_a_dead_letter() -> None:
    task = Task(ROUTE)
    cancelled = orders.OrderCancelled(order_id="ORD-1", outlet_id="IKN-01")
    assert task.take("orders.events", "ORD-1", envelope(cancelled)) == []
    closed = restock.RestockClosed(
        restock_id="R-1", outlet_id="IKN-01", sku="MADU-250", received_qty=3
    )
    assert task.take("restock.events", "IKN-01", envelope(closed)) == []


def outbox_with(*restock_ids: str) -> Task:
    task = Task(STREAM)
    for restock_id in restock_ids:
        [(_, key, value, headers)] = routed(requested(restock_id))
        assert task.take("notifications.outbox", key, value, headers.items()) == []
    return task


def test_requests_wait_in_the_supplier_s_digest_until_its_window_closes_once() -> None:
    task = outbox_with("R-1", "R-2")
    again = routed(requested("R-1"))[0]  # another event of the same request: a new cause
    assert len(task.state[digest_key(RECIPIENT)]["causes"]) == 2
    assert task.tick(OUTBOX.close_digests) == []  # the window is still open
    assert task.after == []

    task.now = NOW + WINDOW
    task.tick(OUTBOX.close_digests)

    [message] = task.after
    assert (message["recipient"], message["channel"], message["kind"]) == (
        RECIPIENT,
        ChannelKind.WEBHOOK.value,
        "digest",
    )
    assert [r["restock_id"] for r in message["data"]["requests"]] == ["R-1", "R-2"]
    assert task.state[record_key(message["id"])]["status"] == "pending"
    assert digest_key(RECIPIENT) not in task.state
    assert again[1] == RECIPIENT


def test_a_cause_read_twice_is_taken_once() -> None:
    [(_, key, value, headers)] = routed(requested("R-1"))
    task = Task(STREAM)
    task.take("notifications.outbox", key, value, headers.items())
    before = dict(task.state)

    task.take("notifications.outbox", key, value, headers.items())

    assert task.state == before


def test_an_ops_alert_is_a_message_at_once_and_its_outcome_is_folded_back() -> None:
    alert = inv.StockAlertRaised(
        alert=inv.AlertKind.NEGATIVE_STOCK,
        outlet_id="IKN-01",
        sku="MADU-250",
        on_hand=-2,
        available=-2,
    )
    task = Task(STREAM)
    task.take("notifications.outbox", OPS, envelope(alert), [(ORIGIN, b"inventory.alerts:1@7")])
    [message] = task.after  # ops email is off (no SMTP host): the webhook only
    assert message["channel"] == ChannelKind.WEBHOOK.value
    assert task.tick(OUTBOX.pending) == []
    assert task.after[-1] == message  # handed over again

    delivered = NotificationDelivered(
        delivery_id=message["id"],
        recipient=OPS,
        channel=ChannelKind.WEBHOOK,
        kind="ops_alert",
        attempts=2,
        causes=[c["id"] for c in message["causes"]],
    )
    task.take("notifications.deliveries", OPS, envelope(delivered))

    assert task.state[record_key(message["id"])]["status"] == "delivered"
    task.after.clear()
    task.tick(OUTBOX.pending)
    assert task.after == []


def test_a_restock_overdue_is_routed_to_ops_and_told_at_once() -> None:
    overdue = restock.RestockOverdue(
        restock_id="R-1",
        outlet_id="BOOTH-STADION",
        sku="MADU-250",
        on_order=13,
        expected_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
    )
    [(_, key, value, headers)] = routed(envelope(overdue))
    assert key == OPS

    task = Task(STREAM)
    task.take("notifications.outbox", key, value, headers.items())

    [message] = task.after
    assert (message["recipient"], message["kind"]) == (OPS, "ops_alert")
    assert message["data"]["alert"] == "restock_overdue"
    assert message["subject"].startswith("Restok terlambat")
    assert message["text"].startswith("13 MADU-250 untuk BOOTH-STADION")
    assert "17.00 WITA" in message["text"]


def test_a_failed_message_sends_its_causes_to_the_dlq_and_forgets_them() -> None:
    task = outbox_with("R-1")
    task.now = NOW + WINDOW
    task.tick(OUTBOX.close_digests)
    [message] = task.after
    [cause] = message["causes"]
    failed = NotificationFailed(
        delivery_id=message["id"],
        recipient=RECIPIENT,
        channel=ChannelKind.WEBHOOK,
        kind="restock",
        attempts=4,
        causes=[cause["id"]],
        error="HTTP 503",
    )

    [(topic, key, value, headers)] = task.take(
        "notifications.deliveries", RECIPIENT, envelope(failed)
    )

    assert topic == REGISTRY.name("notifications.dlq")
    letter = DeadLetter.from_headers(key.encode(), value, list(headers.items()))
    assert (letter.topic, letter.error) == (
        REGISTRY.name("restock.events"),
        "not delivered: HTTP 503",
    )
    assert orjson.loads(value)["data"]["restock_id"] == "R-1"
    assert record_key(message["id"]) not in task.state
    assert seen_key(RECIPIENT, cause["id"]) not in task.state  # produced again, taken again


def test_finished_messages_and_marks_are_pruned_after_eight_days_pending_ones_kept() -> None:
    task = outbox_with("R-1")
    task.now = NOW + WINDOW
    task.tick(OUTBOX.close_digests)
    task.now = NOW + timedelta(days=9)

    task.tick(OUTBOX.prune)

    assert [k[:2] for k in task.state] == ["d|"]  # pending: kept until delivered
