"""The catalog's writes as events on its compacted topics, acknowledged by all replicas."""

from __future__ import annotations

from lumbung.contracts import Registry, derived_event_id, make_event
from lumbung.contracts.events.catalog import Revision
from lumbung.platform.publisher import EventPublisher


class KafkaEntityLog:
    def __init__(self, bootstrap_servers: str, registry: Registry) -> None:
        self._publisher = EventPublisher(bootstrap_servers, registry, "catalog")

    async def start(self) -> None:
        await self._publisher.start()

    async def stop(self) -> None:
        await self._publisher.stop()

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
        await self._publisher.publish(logical_topic, key, event)
