"""Where the worker reads each input topic-partition, kept with its state, not in faust.

faust commits the offsets of acked events, and it acks some events it never hands to
the agent (those fetched around a rebalance or a restart, see faust-streaming issue #596
and its neighbours), so its committed offsets can run ahead of the state on the broker:
after a `kill -9`, those events would never be applied. A worker therefore writes,
last in every batch and into the same changelog partition as the records it covers, the
highest offset it applied per input topic-partition. That position is the truth:

- an event below it was applied already (a redelivery): skipped;
- the event right after it is applied, and moves it on;
- an event beyond it means a hole (faust skipped or committed past something): the
  consumer is sought back to the position, and events are dropped until the missing one
  arrives, so that every outlet still sees its events in offset order.

Topics written by the stream kernel have holes of their own: each transaction ends with a
commit marker that takes an offset and is handed to no reader. So before a hole is taken
for a skip, the offsets in it are looked up (`next_record`): when no record lies there,
the hole is a marker and the position moves past it. Offsets deleted by retention while
the worker was away are skipped with an error in the log.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from faust.streams import _current_event
from faust.types import TP

from lumbung.platform.metrics import EVENTS_IN

log = logging.getLogger(__name__)


def where_of(event: Any) -> str:
    """ "topic:partition" of a faust event's message."""
    return f"{event.message.topic}:{event.message.partition}"


@dataclass
class Accepted:
    """The events of a batch to apply, in order, and the last one per input."""

    events: list[Any] = field(default_factory=list)
    last: dict[str, Any] = field(default_factory=dict)


def position_key(where: str) -> bytes:
    """The state-table key of a topic-partition's position ("topic:partition|offset")."""
    return f"{where}|offset".encode()


class Positions:
    def __init__(
        self,
        load: Callable[[str], int | None],
        seek: Callable[[str, int], Awaitable[None]],
        earliest: Callable[[str], Awaitable[int]],
        assigned: Callable[[], Iterable[str]] = tuple,
        position: Callable[[str], Awaitable[int | None]] | None = None,
        next_record: Callable[[str, int], Awaitable[int | None]] | None = None,
    ) -> None:
        self._load = load
        self._seek = seek
        self._earliest = earliest
        self._assigned = assigned
        self._position = position
        self._next_record = next_record
        self._next: dict[str, int] = {}
        self._waiting: set[str] = set()
        self._at_last_check: dict[str, int] = {}

    def forget(self) -> None:
        """After a rebalance: read every position again from the state table."""
        self._next.clear()
        self._waiting.clear()
        self._at_last_check.clear()

    async def accept(self, where: str, offset: int) -> bool:
        """True when the event at `offset` is the next one to apply for `where`."""
        expected = self._next.get(where)
        if expected is None:
            applied = self._load(where)
            expected = await self._earliest(where) if applied is None else applied + 1
            self._next[where] = expected
        if offset == expected:
            self._next[where] = offset + 1
            self._waiting.discard(where)
            return True
        if offset < expected:
            return False
        if await self._no_record_between(where, expected, offset):
            self._next[where] = offset + 1
            self._waiting.discard(where)
            return True
        if where not in self._waiting:
            self._waiting.add(where)
            earliest = await self._earliest(where)
            if earliest > expected:
                log.error(
                    "%s: offsets %s to %s are gone from the topic (retention); skipping them",
                    where,
                    expected,
                    earliest - 1,
                )
                expected = self._next[where] = earliest
                if offset == expected:
                    self._next[where] = offset + 1
                    self._waiting.discard(where)
                    return True
            log.warning(
                "%s: got offset %s while %s is next (skipped by the consumer); seeking back",
                where,
                offset,
                expected,
            )
            await self._seek(where, expected)
        return False

    async def recheck(self, topics: set[str]) -> None:
        """Call now and then, for the inputs of `topics` that made no progress since the
        last call:

        - one waiting for a missing event since a seek back: the seek can be undone. faust
          goes on handing out the rest of the batch it fetched before the seek, moves its
          own read offset past the missing event with it, and then drops the event when it
          is fetched again. Seek back once more.
        - one whose consumer reads beyond its next offset: events were skipped at the end
          of the log, where no later event shows the hole. Seek back to them."""
        for where in self._assigned():
            if where.rsplit(":", 1)[0] not in topics:
                continue
            expected = self._next.get(where)
            if expected is None:
                applied = self._load(where)
                if applied is None:
                    continue
                expected = applied + 1
            stalled = self._at_last_check.get(where) == expected
            self._at_last_check[where] = expected
            if stalled and where in self._waiting:
                log.warning("%s: still waiting for offset %s; seeking back again", where, expected)
                await self._seek(where, expected)
                continue
            if self._position is None or where in self._waiting:
                continue
            at = await self._position(where) if stalled else None
            if (
                at is not None
                and at > expected
                and await self._no_record_between(where, expected, at)
            ):
                self._next[where] = at
                continue
            if at is not None and at > expected:
                log.warning(
                    "%s: the consumer is at %s while %s is next (skipped); seeking back",
                    where,
                    at,
                    expected,
                )
                self._next[where] = expected
                self._waiting.add(where)
                await self._seek(where, expected)

    async def _no_record_between(self, where: str, start: int, end: int) -> bool:
        """True when no record lies at offsets start..end-1 (a transaction's markers)."""
        if self._next_record is None:
            return False
        try:
            first = await self._next_record(where, start)
        except Exception:  # not known: take it for a skip, which is always safe
            log.warning("%s: could not look at offset %s", where, start, exc_info=True)
            return False
        return first is None or first >= end

    async def select(self, batch: Iterable[Any], service: str) -> Accepted:
        """The events of a faust batch that come next, counted in the service's metrics."""
        accepted = Accepted()
        for event in batch:
            EVENTS_IN.labels(service, event.message.topic).inc()
            where = where_of(event)
            if await self.accept(where, event.message.offset):
                accepted.events.append(event)
                accepted.last[where] = event
        return accepted


def faust_positions(app: Any, table: Any) -> Positions:
    """Positions of a faust app whose state table is `table`: read from the table, seek
    and earliest offsets through the app's consumer."""

    def tp(where: str) -> TP:
        topic, partition = where.rsplit(":", 1)
        return TP(topic, int(partition))

    def load(where: str) -> int | None:
        raw = table.get(position_key(where))
        return None if raw is None else int(raw)

    async def seek(where: str, offset: int) -> None:
        await app.consumer.seek(tp(where), offset)

    async def earliest(where: str) -> int:
        partition = tp(where)
        return int((await app.consumer.earliest_offsets(partition))[partition])

    def assigned() -> list[str]:
        return [f"{tp.topic}:{tp.partition}" for tp in app.consumer.assignment()]

    async def position(where: str) -> int | None:
        at = await app.consumer.position(tp(where))
        return None if at is None else int(at)

    lookup = _RecordLookup(app)
    return Positions(load, seek, earliest, assigned, position, lookup.next_record)


class _RecordLookup:
    """Which offset holds the next record at or after an offset: a consumer of its own,
    outside the app's group, reading as the app's consumer does (read_uncommitted)."""

    PATIENCE_S = 10.0

    def __init__(self, app: Any) -> None:
        self._app = app
        self._consumer: Any = None

    async def next_record(self, where: str, offset: int) -> int | None:
        import asyncio
        import time

        from aiokafka import AIOKafkaConsumer, TopicPartition

        from lumbung.platform.broker import client_security

        if self._consumer is None:
            bootstrap = ",".join(f"{url.host}:{url.port}" for url in self._app.conf.broker)
            consumer = AIOKafkaConsumer(
                **client_security(), bootstrap_servers=bootstrap, enable_auto_commit=False
            )
            await consumer.start()
            self._consumer = consumer
        consumer = self._consumer
        topic, partition = where.rsplit(":", 1)
        tp = TopicPartition(topic, int(partition))
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        if end <= offset:
            return None
        consumer.seek(tp, offset)
        deadline = time.monotonic() + self.PATIENCE_S
        while time.monotonic() < deadline:
            records = (await consumer.getmany(tp, timeout_ms=1000, max_records=1)).get(tp)
            if records:
                return int(records[0].offset)
            if await consumer.position(tp) >= end:
                return None
            await asyncio.sleep(0)
        raise TimeoutError(f"{where}: nothing read from offset {offset} in time")


def write_positions(table: Any, last_of_input: dict[str, Any]) -> None:
    """Write, into the changelog partition of each input's last event, how far it was
    applied (`last_of_input`: "topic:partition" -> the last faust event applied)."""
    for where, event in last_of_input.items():
        _current_event.set(weakref.ref(event))
        table[position_key(where)] = str(event.message.offset).encode()
