"""Publishing contract events from an API: acknowledged by every in-sync replica
(acks=all, idempotent producer) before the caller answers 2xx."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaTimeoutError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    UnknownProducerId,
)

from lumbung.contracts import Envelope, Registry, cloudevents, encode
from lumbung.platform.broker import client_security
from lumbung.platform.metrics import EVENTS_OUT

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 5.0
"""How long a request waits for Kafka's acknowledgement before it answers 503. A client
with a spool (the outlet client) then keeps the sale and sends it again later, instead of
every sale of the day waiting out the producer's own timeouts while the broker is away
(the chaos run's simulator stalled for minutes). A send that still lands after the 503
is a copy the consumers drop by its event_id when the client sends it again."""

RENEW_AFTER_FAILING_S = 15.0
"""A producer that has failed every publish for this long is replaced by a new one. An
idempotent aiokafka producer whose batches expired while the broker was away goes on with
sequence numbers the broker never saw, and is refused with OutOfOrderSequenceNumber for
good (the Java client bumps its epoch; aiokafka does not): a new producer id starts over.
Found by the chaos run: after a broker restart the inventory API answered 503 until it was
restarted."""

BROKEN_PRODUCER = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
)
"""Errors after which this producer id never writes again: it is replaced at once. Waiting
for every publish to fail was not enough: with the broker back, partitions whose sequence
was intact took writes, so the producer never failed long enough, and the outlets whose
partition was broken got 503 for good (the chaos run in CI: 186 sales left in spools)."""


class EventPublisher:
    def __init__(self, bootstrap_servers: str, registry: Registry, service: str) -> None:
        self._bootstrap = bootstrap_servers
        self._registry = registry
        self._service = service
        self._producer: AIOKafkaProducer | None = None
        self._failing_since: float | None = None
        self._retired: set[asyncio.Task[None]] = set()
        self._renewing = asyncio.Lock()

    async def start(self) -> None:
        self._producer = await self._new_producer()

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            **client_security(),
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=15_000,
            linger_ms=2,
        )
        await producer.start()
        return producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def publish(self, logical_topic: str, key: str, event: Envelope[Any]) -> None:
        await self.publish_many([(logical_topic, key, event)])

    async def publish_many(self, events: list[tuple[str, str, Envelope[Any]]]) -> None:
        """Returns once Kafka acknowledged every one of `events`; raises if any failed."""
        assert self._producer is not None, "start() the publisher first"
        producer = self._producer

        async def send_all() -> None:
            sends = [
                await producer.send(
                    self._registry.name(topic),
                    encode(event),
                    key=key.encode(),
                    headers=cloudevents.headers_of(event, key.encode()),
                )
                for topic, key, event in events
            ]
            await asyncio.gather(*sends)

        try:
            await asyncio.wait_for(send_all(), PUBLISH_TIMEOUT_S)
        except Exception as exc:
            await self._failed(producer, broken=isinstance(exc, BROKEN_PRODUCER))
            if isinstance(exc, TimeoutError):
                raise KafkaTimeoutError(
                    f"no acknowledgement within {PUBLISH_TIMEOUT_S:.0f} s"
                ) from exc
            raise
        self._failing_since = None
        for topic, _, _ in events:
            EVENTS_OUT.labels(self._service, topic).inc()

    async def _failed(self, producer: AIOKafkaProducer, broken: bool) -> None:
        """Replace `producer` when it is broken, or has failed every publish for
        RENEW_AFTER_FAILING_S; once, however many requests failed on it together."""
        now = time.monotonic()
        if not broken:
            if self._failing_since is None:
                self._failing_since = now
                return
            if now - self._failing_since < RENEW_AFTER_FAILING_S:
                return
        async with self._renewing:
            if producer is not self._producer:
                return  # a request that failed beside this one replaced it already
            log.warning(
                "replacing the Kafka producer (%s)",
                "its producer id is refused" if broken else "every publish failed for a while",
            )
            self._failing_since = None
            # Requests go on with the old producer until the new one runs (a broker still
            # away makes start() fail: the old one stays and the next failures try again).
            fresh = await self._new_producer()
            old, self._producer = self._producer, fresh
            if old is not None:
                stopping = asyncio.get_running_loop().create_task(old.stop())
                self._retired.add(stopping)
                stopping.add_done_callback(self._retired.discard)
