"""In-memory views of compacted topics: a service's own copy of the catalog and the keys.

A view reads its topic from the beginning without a consumer group, keeps the newest
version per key, and follows the topic while the service runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

from lumbung.contracts import ContractError, Registry
from lumbung.platform.broker import client_security, lingering
from lumbung.platform.metrics import ERRORS

if TYPE_CHECKING:
    from lumbung.contracts import (
        CalendarEventChanged,
        OutletChanged,
        ProductChanged,
        SupplierChanged,
    )

log = logging.getLogger(__name__)


class Follower:
    """Reads registry topics without a consumer group (every process sees everything),
    committed records only, hands every record to `handle(physical topic, value)`, and
    follows them while the service runs; `caught_up` is set once everything that was there
    at the start has been handed over.

    Topics are read from the beginning, or those in `since` from the first record at or
    after that moment (epoch ms; from their end if none is). `after_batch` is awaited after
    each fetch (the dashboard notes how fresh its data is)."""

    def __init__(
        self,
        bootstrap_servers: str,
        registry: Registry,
        logical_topics: list[str],
        handle: Callable[[str, bytes], None],
        *,
        since: Mapping[str, int] | None = None,
        after_batch: Callable[[], Awaitable[None]] | None = None,
        linger_ms: int = 0,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._linger_ms = linger_ms
        self._partitions = [
            TopicPartition(registry.name(logical), p)
            for logical in logical_topics
            for p in range(registry.spec(logical).partitions)
        ]
        self._since = {registry.name(logical): ms for logical, ms in (since or {}).items()}
        self._handle = handle
        self._after_batch = after_batch
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.caught_up = asyncio.Event()

    @property
    def partitions(self) -> list[TopicPartition]:
        return list(self._partitions)

    @property
    def consumer(self) -> AIOKafkaConsumer | None:
        """The consumer once started (positions, end offsets); None before."""
        return self._consumer

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            **client_security(),
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            group_id=None,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            **lingering(self._linger_ms),
        )
        await consumer.start()
        consumer.assign(self._partitions)
        await consumer.seek_to_beginning(*self._partitions)
        ends = await consumer.end_offsets(self._partitions)
        timed = [tp for tp in self._partitions if tp.topic in self._since]
        if timed:
            found = await consumer.offsets_for_times({tp: self._since[tp.topic] for tp in timed})
            for tp in timed:
                offset = found.get(tp)
                consumer.seek(tp, offset.offset if offset is not None else ends[tp])
        starts = {tp: await consumer.position(tp) for tp in self._partitions}
        self._consumer = consumer
        names = ",".join(sorted({tp.topic for tp in self._partitions}))
        pending = {tp: end for tp, end in ends.items() if end > starts[tp]}
        self._task = asyncio.create_task(self._follow(pending), name=f"view:{names}")

    async def _follow(self, pending: dict[TopicPartition, int]) -> None:
        assert self._consumer is not None
        if not pending:
            self.caught_up.set()
        while True:
            batches = await self._consumer.getmany(timeout_ms=500, max_records=2000)
            for tp, records in batches.items():
                for record in records:
                    if record.value is not None:
                        self._handle(tp.topic, record.value)
            # By position, not by the last record's offset: a topic written in transactions
            # ends with a commit marker that no record carries (compared by record, an API
            # never caught up with restock.events after a restart, and did not start).
            for tp in list(pending):
                if await self._consumer.position(tp) >= pending[tp]:
                    del pending[tp]
            if self._after_batch is not None:
                await self._after_batch()
            if not pending and not self.caught_up.is_set():
                self.caught_up.set()

    async def wait_caught_up(self, timeout_s: float = 30.0) -> None:
        await asyncio.wait_for(self.caught_up.wait(), timeout_s)

    async def stop(self) -> None:
        await stop_following(self._task, self._consumer)


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)


class CompactedView(Generic[V]):
    def __init__(
        self,
        bootstrap_servers: str,
        registry: Registry,
        logical_topic: str,
        key_of: Callable[[V], str],
        service: str,
        on_change: Callable[[V], None] | None = None,
    ) -> None:
        self._registry = registry
        self._topic = registry.name(logical_topic)
        self._logical = logical_topic
        self._key_of = key_of
        self._service = service
        self._on_change = on_change
        self._items: dict[str, V] = {}
        self._follower = Follower(
            bootstrap_servers, registry, [logical_topic], lambda _, raw: self._apply_raw(raw)
        )
        self.caught_up = self._follower.caught_up

    def get(self, key: str) -> V | None:
        return self._items.get(key)

    def values(self) -> list[V]:
        return list(self._items.values())

    def apply(self, item: V) -> None:
        current = self._items.get(self._key_of(item))
        if current is None or item.version >= current.version:
            self._items[self._key_of(item)] = item
            if self._on_change is not None:
                self._on_change(item)

    async def start(self) -> None:
        await self._follower.start()

    def _apply_raw(self, raw: bytes | None) -> None:
        if raw is None:
            return
        event = parse_or_skip(self._registry, raw, self._service, self._topic)
        if event is not None:
            self.apply(event.data)

    async def wait_caught_up(self, timeout_s: float = 30.0) -> None:
        await asyncio.wait_for(self.caught_up.wait(), timeout_s)

    async def stop(self) -> None:
        await self._follower.stop()


def parse_or_skip(registry: Registry, raw: bytes, service: str, topic: str) -> Any:
    """The event in `raw`, or None (counted and logged) when a compacted record does not
    parse: a view reads topics its service does not own, so it has no DLQ to send to."""
    try:
        return registry.parse(raw)
    except ContractError as exc:
        ERRORS.labels(service, "unparseable_view_record").inc()
        log.warning("skipped a record on %s that does not parse: %s", topic, exc)
        return None


async def stop_following(
    task: asyncio.Task[None] | None, consumer: AIOKafkaConsumer | None
) -> None:
    """Stop a task that follows topics, then its consumer."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    if consumer is not None:
        await consumer.stop()


class Followed(Protocol):
    caught_up: asyncio.Event


def views_ready(*views: Followed) -> Callable[[], Any]:
    async def check() -> bool:
        return all(view.caught_up.is_set() for view in views)

    return check


class FoldedView:
    """Every event of some topics handed to `apply` as it is read, from the beginning and
    on while the service runs: the in-memory views a service folds from topics it does not
    own (restock requests, stockout predictions). A record that does not parse is skipped
    and counted (`parse_or_skip`)."""

    def __init__(
        self,
        bootstrap_servers: str,
        registry: Registry,
        service: str,
        logical_topics: list[str],
        apply: Callable[[Any], None],
    ) -> None:
        self._registry = registry
        self._service = service
        self._apply = apply
        self._follower = Follower(bootstrap_servers, registry, logical_topics, self._handle)
        self.caught_up = self._follower.caught_up

    async def start(self, timeout_s: float = 60.0) -> None:
        await self._follower.start()
        await self._follower.wait_caught_up(timeout_s)

    async def stop(self) -> None:
        await self._follower.stop()

    def ready(self) -> Any:
        return views_ready(self)

    def _handle(self, topic: str, raw: bytes) -> None:
        event = parse_or_skip(self._registry, raw, self._service, topic)
        if event is not None:
            self._apply(event)


class CatalogView:
    """A service's own copy of the catalog, from the compacted catalog topics."""

    def __init__(self, bootstrap_servers: str, registry: Registry, service: str) -> None:
        self.products: CompactedView[ProductChanged] = CompactedView(
            bootstrap_servers, registry, "catalog.products", lambda p: p.sku, service
        )
        self.suppliers: CompactedView[SupplierChanged] = CompactedView(
            bootstrap_servers, registry, "catalog.suppliers", lambda s: s.supplier_id, service
        )
        self.outlets: CompactedView[OutletChanged] = CompactedView(
            bootstrap_servers, registry, "catalog.outlets", lambda o: o.outlet_id, service
        )
        self.calendar: CompactedView[CalendarEventChanged] = CompactedView(
            bootstrap_servers, registry, "catalog.calendar", lambda c: c.calendar_id, service
        )
        self._views: tuple[CompactedView[Any], ...] = (
            self.products,
            self.suppliers,
            self.outlets,
            self.calendar,
        )

    async def start(self, timeout_s: float = 60.0) -> None:
        for view in self._views:
            await view.start()
        for view in self._views:
            await view.wait_caught_up(timeout_s)

    async def stop(self) -> None:
        for view in self._views:
            await view.stop()

    def ready(self) -> Callable[[], Any]:
        return views_ready(*self._views)

    def knows_outlet(self, outlet_id: str) -> bool:
        outlet = self.outlets.get(outlet_id)
        return outlet is not None and not outlet.retired

    def supplier_of(self, sku: str) -> str | None:
        product = self.products.get(sku)
        return None if product is None else product.supplier_id

    def supplier(self, supplier_id: str) -> SupplierChanged | None:
        return self.suppliers.get(supplier_id)

    def product(self, sku: str) -> ProductChanged | None:
        return self.products.get(sku)

    def outlet(self, outlet_id: str) -> OutletChanged | None:
        return self.outlets.get(outlet_id)

    def calendar_event(self, calendar_id: str) -> CalendarEventChanged | None:
        return self.calendar.get(calendar_id)

    def knows_sku(self, sku: str) -> bool:
        """Whether the catalog has ever known this SKU (retired ones included)."""
        return self.products.get(sku) is not None
