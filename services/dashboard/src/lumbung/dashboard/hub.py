"""One Kafka reader per dashboard process (the platform's `views.Follower`), fanned out to
every open page.

The hub reads without a consumer group (each dashboard process sees everything): sales and
stock changes from the start of today (WITA), alerts, orders and restocks from the
beginning of their topics (they are few, and a page shows what is still open). Every
update it folds (an event may make two: a refused return's reversal, then its alert)
gets a sequence number within this process (`epoch`), goes into a ring buffer and to each
subscriber's queue. A page that reconnects with the id of the last update it saw gets
what came after, when the buffer still holds it; else a new snapshot.

`freshness()` tells a page how old its data is: the wall-clock moment the hub last had
read everything its topics held, and how many events it is behind now. So ops can tell a
quiet outlet (fresh data, no sales) from a stalled pipeline (data minutes old).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as day_time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from lumbung.contracts import Registry
from lumbung.dashboard.board import Board
from lumbung.platform.clock import WITA
from lumbung.platform.metrics import CONSUMER_LAG, ERRORS, EVENTS_IN
from lumbung.platform.views import Follower, parse_or_skip

log = logging.getLogger(__name__)
SERVICE = "dashboard"
FROM_TODAY = ("pos.sales", "inventory.stock")
LINGER_MS = 10
"""How long the broker may hold the hub's fetch for more (`broker.lingering`). Its one
consumer reads every partition of six topics, and aiokafka encodes and decodes each
fetch's partitions in Python: answered at once, it fetched after almost every sale, and
that was half the dashboard's CPU. Holding it 10 ms cut the dashboard from 27 % to 12 %
of a core at 380 sales/s, and the sale-to-page p99 with it (docs/PERFORMANCE.md)."""
FROM_START = ("inventory.alerts", "orders.events", "restock.events", "restock.acks")
BUFFER = 50_000
FRESHNESS_ASK_S = 1.0
"""How often the hub asks the broker where its topics end (lag, and `freshness`)."""
QUEUE = 10_000


@dataclass(frozen=True)
class Update:
    seq: int
    kind: str
    data: dict[str, Any]


class Subscriber:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Update] = asyncio.Queue(QUEUE)
        self.overflowed = False


class Hub:
    def __init__(
        self, bootstrap_servers: str, registry: Registry, now: Callable[[], datetime]
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._registry = registry
        self._now = now
        self.epoch = uuid.uuid4().hex[:8]
        self.board = Board()
        self.seq = 0
        self._buffer: deque[Update] = deque(maxlen=BUFFER)
        self._subscribers: set[Subscriber] = set()
        self._follower = Follower(bootstrap_servers, registry, [], self._apply)
        """Replaced at `start` (its start positions depend on the day then)."""
        self._counted: dict[str, Any] = {}
        """The events-in counter of each topic, labelled once (`_apply` runs per record)."""
        self._lag_task: asyncio.Task[None] | None = None
        self._fresh_at: float | None = None
        """Wall-clock seconds when the hub last had read all its topics held."""
        self._behind = 0
        self._target: tuple[float, dict[TopicPartition, int]] | None = None
        """When the ends of the topics were last asked for, and the ends then."""

    def freshness(self) -> dict[str, Any]:
        """{"as_of": when the data was last whole (ISO, wall clock; None before the hub
        caught up once), "lag_s": seconds since then, "behind": events left to read}."""
        if self._fresh_at is None:
            return {"as_of": None, "lag_s": None, "behind": self._behind}
        lag = max(0.0, time.time() - self._fresh_at)
        return {
            "as_of": datetime.fromtimestamp(self._fresh_at, UTC).isoformat(),
            "lag_s": round(lag, 1),
            "behind": self._behind,
        }

    # -- pages -------------------------------------------------------------------------------

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber()
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def since(self, seq: int) -> list[Update] | None:
        """The updates after `seq`, or None when the buffer no longer holds them all."""
        if seq > self.seq:
            return None
        if seq == self.seq:
            return []
        if not self._buffer or self._buffer[0].seq > seq + 1:
            return None
        return [u for u in self._buffer if u.seq > seq]

    def buffered(self) -> list[Update]:
        return list(self._buffer)

    def _publish(self, kind: str, data: dict[str, Any]) -> None:
        self.seq += 1
        update = Update(self.seq, kind, data)
        self._buffer.append(update)
        for subscriber in list(self._subscribers):
            try:
                subscriber.queue.put_nowait(update)
            except asyncio.QueueFull:  # a page that stopped reading: it will reconnect
                subscriber.overflowed = True
                self._subscribers.discard(subscriber)

    # -- Kafka -------------------------------------------------------------------------------

    async def start(self) -> None:
        today = datetime.combine(self._now().astimezone(WITA).date(), day_time(), WITA)
        since = int(today.timestamp() * 1000)
        # read_committed, as every Follower: the stock ledger and the alerts are written in
        # transactions, and an aborted one (a worker killed mid-batch) never shows.
        self._follower = Follower(
            self._bootstrap,
            self._registry,
            [*FROM_TODAY, *FROM_START],
            self._apply,
            since=dict.fromkeys(FROM_TODAY, since),
            after_batch=self._note_freshness,
            linger_ms=LINGER_MS,
        )
        await self._follower.start()
        self._lag_task = asyncio.create_task(
            self._measure_lag(self._follower.partitions), name="hub-lag"
        )

    @property
    def _consumer(self) -> AIOKafkaConsumer | None:
        return self._follower.consumer

    @property
    def caught_up(self) -> asyncio.Event:
        return self._follower.caught_up

    async def wait_caught_up(self, timeout_s: float = 60.0) -> None:
        await self._follower.wait_caught_up(timeout_s)
        log.info("the dashboard caught up: %d updates", self.seq)

    def _apply(self, topic: str, raw: bytes) -> None:
        counter = self._counted.get(topic)
        if counter is None:
            counter = self._counted[topic] = EVENTS_IN.labels(SERVICE, topic)
        counter.inc()
        try:
            event = parse_or_skip(self._registry, raw, SERVICE, topic)
            if event is None:
                return
            folded = self.board.fold(event)
            for kind, data in [folded] if isinstance(folded, tuple) else folded or []:
                self._publish(kind, data)
        except Exception:  # one bad update must not stop the page's stream
            ERRORS.labels(SERVICE, "fold").inc()
            log.exception("could not fold a record of %s", topic)

    async def _note_freshness(self) -> None:
        """Once the hub has read up to the ends it last asked the broker for, its data is
        whole as of the moment it asked. A broker it cannot reach answers no more asks,
        so the moment stays where it was and the lag grows."""
        consumer, target = self._consumer, self._target
        if consumer is None or target is None:
            return
        asked_at, ends = target
        behind = 0
        for tp, end in ends.items():
            behind += max(0, end - await consumer.position(tp))
        self._behind = behind
        if behind == 0:
            self._fresh_at = asked_at
            self._target = None

    async def _measure_lag(self, partitions: list[TopicPartition]) -> None:
        assert self._consumer is not None
        while True:
            await asyncio.sleep(FRESHNESS_ASK_S)
            with contextlib.suppress(Exception):
                asked_at = time.time()
                ends = await self._consumer.end_offsets(partitions)
                if self._target is None:  # the last one reached: a new one to reach
                    self._target = (asked_at, ends)
                await self._note_freshness()
                lag: dict[str, int] = {}
                for tp in partitions:
                    position = await self._consumer.position(tp)
                    lag[tp.topic] = lag.get(tp.topic, 0) + max(0, ends[tp] - position)
                for topic, behind in lag.items():
                    CONSUMER_LAG.labels(SERVICE, topic).set(behind)

    def assigned(self) -> bool:
        return self._consumer is not None and bool(self._consumer.assignment())

    async def stop(self) -> None:
        if self._lag_task is not None:
            self._lag_task.cancel()
        await self._follower.stop()
