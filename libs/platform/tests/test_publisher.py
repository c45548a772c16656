"""When the publisher replaces its Kafka producer. The producers here are stand-ins that
fail as aiokafka's do; the broker restart that makes them fail is the chaos run's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from aiokafka.errors import KafkaConnectionError, OutOfOrderSequenceNumber

from lumbung.contracts import Registry, make_event
from lumbung.contracts.events.pos import SaleLine, SaleRecorded
from lumbung.platform.publisher import EventPublisher

AT = datetime(2026, 7, 14, 10, 15, tzinfo=UTC)
SALE = make_event(
    SaleRecorded(
        sale_id="S-1",
        outlet_id="OUT-01",
        sold_at=AT,
        lines=[SaleLine(sku="A", qty=1, unit_price_idr=1)],
    ),
    event_id=uuid4(),
    occurred_at=AT,
    producer="outlet:OUT-01",
    correlation_id="S-1",
)
"""Any event: what matters here is how the send fails."""


class Producer:
    def __init__(self, error: Exception | None) -> None:
        self.error, self.stopped = error, False

    async def send(self, *_: Any, **__: Any) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.error is None:
            done.set_result(None)
        else:
            done.set_exception(self.error)
        return done

    async def stop(self) -> None:
        self.stopped = True


def publisher(*producers: Producer) -> tuple[EventPublisher, list[Producer]]:
    made: list[Producer] = []
    queue = list(producers)

    async def new_producer() -> Producer:
        made.append(queue.pop(0))
        return made[-1]

    events = EventPublisher("unused:9092", Registry(prefix="t"), "test")
    events._new_producer = new_producer  # type: ignore[method-assign,assignment]
    return events, made


async def publish(events: EventPublisher, requests: int) -> list[BaseException | None]:
    async def one() -> BaseException | None:
        try:
            await events.publish_many([("pos.sales", "OUT-01", SALE)])
            return None
        except Exception as exc:
            return exc

    return list(await asyncio.gather(*(one() for _ in range(requests))))


def test_a_producer_whose_id_is_refused_is_replaced_once_at_once() -> None:
    async def run() -> None:
        events, made = publisher(Producer(OutOfOrderSequenceNumber()), Producer(None))
        await events.start()
        failed = await publish(events, 5)  # five requests fail together on the broken one
        assert all(isinstance(e, OutOfOrderSequenceNumber) for e in failed)
        assert len(made) == 2
        assert events._producer is made[1]
        await asyncio.sleep(0)
        assert made[0].stopped
        assert await publish(events, 3) == [None, None, None]

    asyncio.run(run())


def test_a_producer_that_cannot_reach_the_broker_is_kept_for_a_while() -> None:
    async def run() -> None:
        events, made = publisher(Producer(KafkaConnectionError()), Producer(None))
        await events.start()
        failed = await publish(events, 3)
        assert all(isinstance(e, KafkaConnectionError) for e in failed)
        assert len(made) == 1  # replaced only after RENEW_AFTER_FAILING_S of failures

    asyncio.run(run())
