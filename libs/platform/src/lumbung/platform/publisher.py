"""Publishing contract events from an API: acknowledged by every in-sync replica
(acks=all, idempotent producer) before the caller answers 2xx."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError

from lumbung.contracts import Envelope, Registry, encode
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


class EventPublisher:
    def __init__(self, bootstrap_servers: str, registry: Registry, service: str) -> None:
        self._bootstrap = bootstrap_servers
        self._registry = registry
        self._service = service
        self._producer: AIOKafkaProducer | None = None
        self._failing_since: float | None = None
        self._retired: set[asyncio.Task[None]] = set()

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
                await producer.send(self._registry.name(topic), encode(event), key=key.encode())
                for topic, key, event in events
            ]
            await asyncio.gather(*sends)

        try:
            await asyncio.wait_for(send_all(), PUBLISH_TIMEOUT_S)
        except Exception as exc:
            await self._failed()
            if isinstance(exc, TimeoutError):
                raise KafkaTimeoutError(
                    f"no acknowledgement within {PUBLISH_TIMEOUT_S:.0f} s"
                ) from exc
            raise
        self._failing_since = None
        for topic, _, _ in events:
            EVENTS_OUT.labels(self._service, topic).inc()

    async def _failed(self) -> None:
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
            return
        if now - self._failing_since < RENEW_AFTER_FAILING_S:
            return
        log.warning(
            "every publish failed for %.0f s; replacing the Kafka producer",
            now - self._failing_since,
        )
        self._failing_since = None
        # Requests go on with the old producer until the new one runs (a broker still away
        # makes start() fail: the old one stays and the next failures try again).
        fresh = await self._new_producer()
        old, self._producer = self._producer, fresh
        if old is not None:
            stopping = asyncio.get_running_loop().create_task(old.stop())
            self._retired.add(stopping)
            stopping.add_done_callback(self._retired.discard)
