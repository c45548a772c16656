"""Keeps the Redis read model equal to the catalog topics, and rebuilds it after a wipe.

`run` reads every catalog topic and `auth.keys` from the beginning without a consumer
group, and follows them; run again after a failure, it goes on from where it was.
`rebuild` reads the catalog topics again into an empty model. The platform's
`keep_projected` runs the one and calls the other when the model's `built` marker is gone
(Redis flushed, or a Redis that came back empty); a failure (Redis gone) ends both, and
the API starts them again (`bootstrap`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from lumbung.catalog.adapters.redis_model import RedisReadModel
from lumbung.catalog.domain import KINDS, Kind
from lumbung.catalog.service import KEYS_TOPIC
from lumbung.contracts import ApiKeyChanged, Registry
from lumbung.contracts.events.catalog import OutletChanged
from lumbung.platform.broker import client_security
from lumbung.platform.kernel import read_to_end
from lumbung.platform.metrics import EVENTS_IN
from lumbung.platform.views import parse_or_skip

log = logging.getLogger(__name__)


class CatalogProjector:
    def __init__(
        self,
        bootstrap_servers: str,
        registry: Registry,
        model: RedisReadModel,
        on_key: Callable[[ApiKeyChanged], None],
        on_outlet: Callable[[OutletChanged], None] = lambda _: None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._registry = registry
        self._model = model
        self._on_key = on_key
        self._on_outlet = on_outlet
        self._kinds: dict[str, Kind] = {registry.name(k.topic): k for k in KINDS}
        self._keys_topic = registry.name(KEYS_TOPIC)
        self._partitions = [TopicPartition(t, 0) for t in [*self._kinds, self._keys_topic]]
        self._positions: dict[TopicPartition, int] = {}
        """Where `run` goes on from, once it has read anything."""
        self.caught_up = asyncio.Event()
        """Set once `run` has read what was there at the start, and marked the model built."""
        self.rebuilds = 0

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            **client_security(),
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        try:  # stopped even when cancelled while starting (Redis gone at that moment)
            await consumer.start()
            consumer.assign(self._partitions)
            await consumer.seek_to_beginning(*self._partitions)
            for tp, position in self._positions.items():
                consumer.seek(tp, position)
            ends = await consumer.end_offsets(self._partitions)
            pending = {tp: end for tp, end in ends.items() if end > 0}
            while True:
                batches = await consumer.getmany(timeout_ms=300)
                for tp, records in batches.items():
                    for record in records:
                        await self._apply(tp.topic, record.value)
                    self._positions[tp] = records[-1].offset + 1
                for tp in list(pending):
                    if await consumer.position(tp) >= pending[tp]:
                        del pending[tp]
                if not pending and not self.caught_up.is_set():
                    await self._model.mark_built()
                    self.caught_up.set()
        finally:
            await consumer.stop()

    async def is_built(self) -> bool:
        """Built, or being built by `run`'s first reading (no rebuild beside that)."""
        return not self.caught_up.is_set() or await self._model.is_built()

    async def rebuild(self) -> None:
        """Every catalog entity into the model again (it keeps the newest version of each,
        so `run` writing meanwhile is never undone), then the `built` marker."""
        self.rebuilds += 1
        for topic, kind in self._kinds.items():

            async def put(records: list[Any], topic: str = topic, kind: Kind = kind) -> None:
                for record in records:
                    if record.value is None:
                        continue
                    event = parse_or_skip(self._registry, record.value, "catalog", topic)
                    if event is not None:
                        await self._model.put(kind, event.data)

            await read_to_end(self._bootstrap, topic, 1, put)
        await self._model.mark_built()

    async def _apply(self, topic: str, raw: bytes | None) -> None:
        if raw is None:
            return
        event = parse_or_skip(self._registry, raw, "catalog", topic)
        if event is None:
            return
        data = event.data
        EVENTS_IN.labels("catalog", topic).inc()
        if topic == self._keys_topic:
            self._on_key(data)
        else:
            await self._model.put(self._kinds[topic], data)
            if isinstance(data, OutletChanged):
                self._on_outlet(data)
