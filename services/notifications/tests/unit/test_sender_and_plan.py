"""The sender's retry schedule and the planner's rules, without Kafka or a network: the
channels here are plain objects that answer as told (the real channels are tested against
real servers in tests/integration)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from lumbung.contracts import make_event
from lumbung.contracts.events.notifications import ChannelKind
from lumbung.contracts.events.restock import RestockRequested
from lumbung.notifications.channels import Delivery, DeliveryFailed
from lumbung.notifications.plan import delivery_id
from lumbung.notifications.sender import Outcome, Sender


class Answering:
    """A channel that fails as many times as told, then takes the message."""

    name = "test"

    def __init__(self, failures: int, retry: bool = True) -> None:
        self.failures = failures
        self.retry = retry
        self.sent: list[Delivery] = []

    async def send(self, delivery: Delivery) -> None:
        self.sent.append(delivery)
        if len(self.sent) <= self.failures:
            raise DeliveryFailed("500", retry=self.retry)


RECORD = {
    "id": "d-1",
    "recipient": "supplier:SUP-SARI",
    "channel": "webhook",
    "to": "http://127.0.0.1:1/hook",
    "subject": "s",
    "text": "t",
    "data": {},
}


def run(channel: Answering, attempts: int = 4) -> list[Outcome]:
    outcomes: list[Outcome] = []

    async def main() -> None:
        settled = asyncio.Event()

        async def settle(_: Any, outcome: Outcome) -> None:
            outcomes.append(outcome)
            settled.set()

        sender = Sender(lambda _: channel, settle, attempts, 0.01, 0.02, 4)
        sender.schedule(RECORD)
        sender.schedule(RECORD)  # already being sent: not twice
        await asyncio.wait_for(settled.wait(), 10)
        await asyncio.sleep(0.05)  # a second send would settle again meanwhile

    asyncio.run(main())
    return outcomes


def test_three_failures_then_success_is_one_delivery_in_four_attempts() -> None:
    channel = Answering(failures=3)
    assert run(channel) == [Outcome(True, 4)]
    assert {d.delivery_id for d in channel.sent} == {"d-1"}


def test_the_last_attempt_failing_settles_as_failed() -> None:
    channel = Answering(failures=10)
    assert run(channel, attempts=3) == [Outcome(False, 3, "500")]
    assert len(channel.sent) == 3


def test_a_refusal_for_good_is_not_tried_again() -> None:
    channel = Answering(failures=10, retry=False)
    assert run(channel) == [Outcome(False, 1, "500")]


def test_backoff_doubles_up_to_its_ceiling_with_jitter_in_the_upper_half() -> None:
    async def settle(*_: Any) -> None:
        pass

    low = Sender(lambda _: Answering(0), settle, 6, 2.0, 10.0, 1, jitter=lambda: 0.0)
    high = Sender(lambda _: Answering(0), settle, 6, 2.0, 10.0, 1, jitter=lambda: 1.0)
    assert [low.backoff(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert [high.backoff(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 10.0]


def test_a_delivery_id_depends_on_the_causes_the_recipient_and_the_channel() -> None:
    one = delivery_id("e1", "ops", ChannelKind.EMAIL)
    assert one == delivery_id("e1", "ops", ChannelKind.EMAIL)
    assert len({one, delivery_id("e2", "ops", ChannelKind.EMAIL)}) == 2
    assert len({one, delivery_id("e1", "supplier:S", ChannelKind.EMAIL)}) == 2
    assert len({one, delivery_id("e1", "ops", ChannelKind.WEBHOOK)}) == 2
    uuid.UUID(one)


def test_a_restock_request_without_a_supplier_concerns_nobody() -> None:
    from lumbung.notifications.plan import recipients_of

    def request(supplier: str | None) -> Any:
        payload = RestockRequested(
            restock_id="R1",
            outlet_id="IKN-01",
            sku="AMPLANG-IKAN-250",
            supplier_id=supplier,
            suggested_qty=5,
            available=1,
            reorder_point=2,
            par_level=6,
        )
        return make_event(
            payload,
            event_id=uuid.uuid4(),
            occurred_at=datetime.now(UTC),
            producer="test",
            correlation_id="c",
        )

    assert recipients_of(request("SUP-SARI")) == ["supplier:SUP-SARI"]
    assert recipients_of(request(None)) == []


def test_an_empty_smtp_host_sends_no_email_and_an_empty_gateway_no_whatsapp() -> None:
    from lumbung.contracts.events.catalog import ContactChannels, SupplierChanged
    from lumbung.notifications.plan import OpsContacts, channels_on, supplier_targets

    supplier = SupplierChanged(
        supplier_id="SUP-HUTAN",
        name="Madu Hutan Paser",
        owner_name="Bu Sari",
        contacts=ContactChannels(
            whatsapp="+6281250011005",
            email="sari@example.org",
            webhook_url="https://madu.example.org/hook",
        ),
        version=1,
        changed_at=datetime(2026, 12, 2, tzinfo=UTC),
    )
    ops = OpsContacts("https://ops.example.org/hook", "ops@example.org", "+6281250011006")

    off = channels_on(smtp_host="", whatsapp_gateway_url="")
    on = channels_on(smtp_host="mail.example.org", whatsapp_gateway_url="https://wa.example.org")

    assert [t.channel for t in supplier_targets(supplier, off)] == [ChannelKind.WEBHOOK]
    assert [t.channel for t in ops.targets(off)] == [ChannelKind.WEBHOOK]
    assert {t.channel for t in supplier_targets(supplier, on)} == set(ChannelKind)
    assert {t.channel for t in ops.targets(on)} == set(ChannelKind)
