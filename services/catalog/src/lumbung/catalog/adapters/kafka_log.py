"""The catalog's writes as events on its compacted topics, acknowledged by all replicas."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from lumbung.contracts import Registry, derived_event_id, encode, make_event
from lumbung.contracts.events.catalog import Revision
from lumbung.platform.metrics import EVENTS_OUT


class KafkaEntityLog:
    def __init__(self, bootstrap_servers: str, registry: Registry) -> None:
        self._registry = registry
        self._bootstrap = bootstrap_servers
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=15_000,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def publish(self, logical_topic: str, key: str, entity: Revision, cause: str) -> None:
        # The id follows from what was written, so a retried write is a duplicate downstream.
        event = make_event(
            entity,
            event_id=derived_event_id(f"{logical_topic}:{key}", f"v{entity.version}"),
            occurred_at=entity.changed_at,
            producer="catalog",
            correlation_id=f"{logical_topic}:{key}",
            causation_id=cause,
        )
        assert self._producer is not None, "start() the log before publishing"
        await self._producer.send_and_wait(
            self._registry.name(logical_topic), encode(event), key=key.encode()
        )
        EVENTS_OUT.labels("catalog", logical_topic).inc()
