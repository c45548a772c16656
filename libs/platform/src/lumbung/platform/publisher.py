"""Publishing contract events from an API: acknowledged by every in-sync replica
(acks=all, idempotent producer) before the caller answers 2xx."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer

from lumbung.contracts import Envelope, Registry, encode
from lumbung.platform.metrics import EVENTS_OUT


class EventPublisher:
    def __init__(self, bootstrap_servers: str, registry: Registry, service: str) -> None:
        self._bootstrap = bootstrap_servers
        self._registry = registry
        self._service = service
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=15_000,
            linger_ms=2,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def publish(self, logical_topic: str, key: str, event: Envelope[Any]) -> None:
        await self.publish_many([(logical_topic, key, event)])

    async def publish_many(self, events: list[tuple[str, str, Envelope[Any]]]) -> None:
        """Returns once Kafka acknowledged every one of `events`; raises if any failed."""
        assert self._producer is not None, "start() the publisher first"
        sends = [
            await self._producer.send(self._registry.name(topic), encode(event), key=key.encode())
            for topic, key, event in events
        ]
        await asyncio.gather(*sends)
        for topic, _, _ in events:
            EVENTS_OUT.labels(self._service, topic).inc()
