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


def predicted(supplier_id: str | None = SUPPLIER, prediction_id: str = "P-1") -> bytes:
    return envelope(
        inv.StockoutPredicted(
            prediction_id=prediction_id,
            outlet_id="BOOTH-STADION",
            sku="MADU-250",
            supplier_id=supplier_id,
            available=14,
            expected_at=datetime(2026, 12, 1, 6, 20, tzinfo=UTC),  # Tue 14:20 WITA
            units_per_hour=2.5,
            lead_time_hours=48,
            reason="14 left, selling 2.5 an hour now: out around Tue 14:20",
        )
    )


def alerts_routed(value: bytes) -> list[Sent]:
    return Task(ROUTE).take("inventory.alerts", "BOOTH-STADION", value)


def test_a_predicted_stockout_goes_to_its_supplier_s_digest_and_to_ops_digest() -> None:
    task = Task(STREAM)
    sent = alerts_routed(predicted())
    assert [key for _, key, _, _ in sent] == [RECIPIENT, OPS]
    for _, key, value, headers in sent:
        assert task.take("notifications.outbox", key, value, headers.items()) == []
    assert task.after == []  # both wait for their window: a tick brings several together

    task.now = NOW + WINDOW
    task.tick(OUTBOX.close_digests)

    supplier, ops = sorted(task.after, key=lambda m: m["recipient"] == OPS)
    assert (supplier["recipient"], supplier["kind"]) == (RECIPIENT, "stockout_predicted")
    assert supplier["subject"] == "Segera habis: MADU-250 di BOOTH-STADION"
    assert supplier["text"] == (
        "Halo Bu Sari,\nMADU-250 di BOOTH-STADION tinggal 14 pcs, terjual sekitar 2,5 per jam: "
        "habis sekitar Sel 14.20 WITA.\nPengiriman Anda butuh 48 jam: mohon siapkan restok."
        "\n— Lumbung"
    )
    assert [p["prediction_id"] for p in supplier["data"]["stockouts"]] == ["P-1"]
    assert supplier["data"]["requests"] == []
    assert (ops["recipient"], ops["kind"], ops["data"]["alert"]) == (
        OPS,
        "ops_alert",
        "stockout_predicted",
    )
    assert ops["text"].endswith("Pemasok (Madu Hutan Paser) butuh 48 jam untuk mengirim.")
    assert not any(key.startswith("g|") for key in task.state)


def test_a_prediction_and_a_request_for_one_supplier_are_one_message() -> None:
    task = outbox_with("R-1")
    [to_supplier, to_ops] = alerts_routed(predicted())
    _, key, value, headers = to_supplier
    task.take("notifications.outbox", key, value, headers.items())
    task.take("notifications.outbox", to_ops[1], to_ops[2], to_ops[3].items())

    task.now = NOW + WINDOW
    task.tick(OUTBOX.close_digests)

    [message] = [m for m in task.after if m["recipient"] == RECIPIENT]
    assert message["kind"] == "digest"
    assert message["subject"] == "1 permintaan restok, 1 produk segera habis"
    assert message["text"].startswith("Halo Bu Sari,\nBOOTH-STADION membutuhkan 24 pcs MADU-250")
    assert "1 produk segera habis:\n1. MADU-250 di BOOTH-STADION tinggal 14 pcs" in message["text"]
    assert [r["restock_id"] for r in message["data"]["requests"]] == ["R-1"]
    assert [p["prediction_id"] for p in message["data"]["stockouts"]] == ["P-1"]
    assert len(message["causes"]) == 2


def test_a_prediction_without_a_supplier_goes_to_ops_alone_and_a_clearing_to_nobody() -> None:
    [(_, key, _, _)] = alerts_routed(predicted(supplier_id=None))
    assert key == OPS
    cleared = inv.StockoutCleared(
        prediction_id="P-1",
        outlet_id="BOOTH-STADION",
        sku="MADU-250",
        cleared_by=inv.ClearedBy.SLOWER_SALES,
        available=14,
    )
    assert alerts_routed(envelope(cleared)) == []


def test_a_prediction_read_twice_is_one_line_of_one_message() -> None:
    task = Task(STREAM)
    raw = predicted()
    for _ in range(2):
        for _, key, value, headers in alerts_routed(raw):
            task.take("notifications.outbox", key, value, headers.items())

    task.now = NOW + WINDOW
    task.tick(OUTBOX.close_digests)

    assert sorted(len(m["data"]["stockouts"]) for m in task.after) == [1, 1]


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


def test_an_issued_statement_goes_to_its_supplier_at_once_and_a_payment_to_nobody() -> None:
    from lumbung.contracts.events import books

    issued = books.StatementIssued(
        number=f"ST-2026-11-{SUPPLIER}-IDM-GROGOT-1",
        period="2026-11",
        supplier_id=SUPPLIER,
        outlet_id="IDM-GROGOT-1",
        sold=30,
        returned=2,
        gross_idr=420_000,
        commission_idr=63_000,
        net_idr=357_000,
        refunds_idr=30_000,
    )
    [(_, key, value, headers)] = Task(ROUTE).take("books.events", SUPPLIER, envelope(issued))
    assert key == RECIPIENT
    paid = books.PaymentRecorded(
        payment_id="PAY-1",
        number=issued.number,
        period="2026-11",
        supplier_id=SUPPLIER,
        outlet_id="IDM-GROGOT-1",
        amount_idr=357_000,
        paid_at=NOW,
    )
    assert Task(ROUTE).take("books.events", SUPPLIER, envelope(paid)) == []

    task = Task(STREAM)
    assert task.take("notifications.outbox", key, value, headers.items()) == []

    [message] = task.after  # no digest window: a statement is told at once
    assert (message["recipient"], message["kind"], message["channel"]) == (
        RECIPIENT,
        "statement",
        "webhook",
    )
    assert message["subject"] == f"Nota konsinyasi {issued.number}: IDM-GROGOT-1, Nov 2026"
    assert message["text"] == (
        "Halo Bu Sari,\nNota konsinyasi Anda untuk IDM-GROGOT-1, Nov 2026 sudah terbit "
        f"({issued.number}).\nTerjual 30, retur 2: bruto Rp 420.000, komisi Rp 63.000.\n"
        "Dibayarkan ke Anda: Rp 357.000.\n— Lumbung"
    )
    assert (message["data"]["number"], message["data"]["net_idr"]) == (issued.number, 357_000)
