"""Keeps the Redis read model equal to the catalog topics, and rebuilds it after a wipe.

It reads every catalog topic and `auth.keys` from the beginning without a consumer group.
When the read model's `built` marker disappears (Redis flushed), it reads them all again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from lumbung.catalog.adapters.redis_model import RedisReadModel
from lumbung.catalog.domain import KINDS, Kind
from lumbung.catalog.service import KEYS_TOPIC
from lumbung.contracts import ApiKeyChanged, Registry
from lumbung.contracts.events.catalog import OutletChanged
from lumbung.platform.broker import client_security
from lumbung.platform.metrics import EVENTS_IN
from lumbung.platform.views import parse_or_skip, stop_following

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
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.caught_up = asyncio.Event()
        self.rebuilds = 0

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            **client_security(),
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        await self._consumer.start()
        self._partitions = [TopicPartition(t, 0) for t in [*self._kinds, self._keys_topic]]
        self._consumer.assign(self._partitions)
        await self._rewind()
        self._task = asyncio.create_task(self._run(), name="catalog-projector")

    async def _rewind(self) -> None:
        assert self._consumer is not None
        await self._consumer.seek_to_beginning(*self._partitions)
        ends = await self._consumer.end_offsets(self._partitions)
        self._pending = {tp: end for tp, end in ends.items() if end > 0}
        self.caught_up.clear()

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=300)
            for tp, records in batches.items():
                for record in records:
                    await self._apply(tp.topic, record.value)
                    if record.offset + 1 >= self._pending.get(tp, 0):
                        self._pending.pop(tp, None)
            if not self._pending and not self.caught_up.is_set():
                await self._model.mark_built()
                self.caught_up.set()
            elif self.caught_up.is_set() and not await self._model.is_built():
                log.warning("the catalog read model is gone (Redis wiped?); rebuilding it")
                self.rebuilds += 1
                await self._rewind()

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

    async def stop(self) -> None:
        await stop_following(self._task, self._consumer)
