"""The stream kernel: batches in, one Kafka transaction out, handlers as plain functions.

A service declares a `Stream`: the input topics (co-partitioned), a handler per event
payload type, and optional ticks. The kernel does the rest, once for every worker:

- it consumes batches (`getmany`) with `read_committed` and decodes each record once;
- a record that cannot be parsed, or that no handler takes, or that its handler refuses
  (`Unprocessable`), goes to `<service>.dlq`, and its partition keeps flowing;
- per input partition ("task") and batch, ONE transaction holds the derived events, the
  state changes (deltas on a compacted changelog topic, coalesced per key), the dead
  letters and the input offsets: on the changelog beside the state (`~offsets|<topic>`),
  or with `send_offsets_to_transaction` for a stream without state; a batch that would
  commit nothing but its input offsets (events of no concern to the stream) waits up to
  `OFFSETS_ONLY_EVERY_S` and goes with the task's next transaction;
- a task's state and input offsets are restored from its committed changelog partition
  when it is assigned; after a `kill -9` the successor's `init_transactions` aborts what
  was open; the consumer group gets the committed offsets too, after each commit and
  outside it, for whoever watches the group's lag;
- one `transactional_id` per task fences a zombie (aiokafka 0.14 lacks KIP-447, so a
  producer per task, as Kafka Streams' first exactly-once mode did);
- event ids of the inputs named in `remember_ids` are kept (`IdMemory`: append-only
  chunks on the changelog, a bounded number per input key, none past `id_horizon`), so
  a sale resent later at a new offset is applied once; a handler may keep a small named
  note beside its event's id (`Outcome.note`: what a sale sold, for its returns), which
  later handlers read at `note_key(name)` and which goes when the id goes;
- ticks reach handlers inside their task's transaction, so timers are as safe as events,
  and only once the task has applied everything its inputs held (a timeout is not
  decided while its answer may wait in a backlog).

Handlers are pure: `(state, event, now) -> Outcome`. They read the task's state (a
mapping they must not change) and return the changed keys and the events to send.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import os
import signal
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.coordinator.protocol import (
    ConsumerProtocolMemberAssignment,
    ConsumerProtocolMemberMetadata,
)
from aiokafka.errors import KafkaError, ProducerFenced
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer import sender as aiokafka_sender
from kafka.admin import NewTopic

from lumbung.contracts import ContractError, Registry, cloudevents
from lumbung.contracts.registry import DLQ_SUFFIX
from lumbung.platform.broker import (
    client_security,
    create_missing,
    lingering,
    set_topic_config,
    topic_config,
)
from lumbung.platform.clock import Clock, SystemClock
from lumbung.platform.dlq import DeadLetter
from lumbung.platform.metrics import (
    BATCH_RECORDS,
    BATCH_SECONDS,
    CONSUMER_LAG,
    DEAD_LETTERS,
    EVENTS_IN,
    EVENTS_OUT,
    TICK_SECONDS,
)

log = logging.getLogger(__name__)

ID_PREFIX = "~ids|"
"""Changelog keys of remembered event ids; handlers' keys never start with it."""
ID_PREFIX_BYTES = ID_PREFIX.encode()
NOTE_PREFIX = "~n|"
"""State keys of the notes kept beside remembered ids (`Outcome.note`, `note_key`)."""
OFFSET_PREFIX = "~offsets|"
"""Changelog keys of a task's input offsets, one per input topic: `~offsets|<topic>`."""
OFFSET_PREFIX_BYTES = OFFSET_PREFIX.encode()
SHARE_OFFSETS_EVERY_S = 0.5
"""How often the offsets committed on changelogs are also committed to the group."""
SHARE_ON_STOP_S = 5.0
ID_SWEEP_EVERY_S = 600.0
OFFSETS_ONLY_EVERY_S = 1.0
"""How long the input offsets of batches that wrote nothing else may wait for the task's
next transaction (Kafka Streams commits every `commit.interval.ms`, 100 ms under
exactly-once). Re-read after a crash, those records write nothing again against the same
state, and a transaction for each of them cost the broker a commit per event: the
notifications worker's router committed one per off-price flag on `inventory.alerts`
(147 a second at 200 sales a second, docs/PERFORMANCE.md)."""
RETRY_AFTER_S = 5.0
YIELD_EVERY = 500
"""Records a batch applies before it lets the event loop run other tasks' sends."""
# A commit's round trips, one after the other: AddPartitionsToTxn, the produce, EndTxn
# (for a stream without state AddOffsetsToTxn and TxnOffsetCommit, beside the produce).
# The next transaction's AddPartitionsToTxn mostly finds the coordinator still writing
# the last one's commit markers (CONCURRENT_TRANSACTIONS), and aiokafka waits a fixed
# 20 ms before it asks again; its produce, checked against the same markers, waits
# `retry_backoff_ms` (100 ms by default: NotEnoughReplicas, the code an older produce
# version gets). On a quiet broker here the markers take a few ms: asking again after
# 5 ms and 20 ms took begin -> readable from p50 32.9 / p99 147.4 ms to 13.0 / 39.5 ms
# (`bench/commit_steps.py --offsets group`, docs/PERFORMANCE.md).
TXN_RETRY_BACKOFF_MS = 20
CONCURRENT_TXN_BACKOFF_S = 0.005
aiokafka_sender.BACKOFF_OVERRIDE = CONCURRENT_TXN_BACKOFF_S
CHANGELOG_CONFIG = {
    "cleanup.policy": "compact",
    "segment.bytes": str(2 * 1024 * 1024),
    "segment.ms": str(10 * 60 * 1000),
    "min.cleanable.dirty.ratio": "0.1",
    # Tombstones (evicted id chunks, a few hundred a second per task at 11,800 lines/s)
    # stay 24 h by default after compaction: a restore after a 30-minute soak read
    # them all (8 s). A restore takes seconds, so 10 minutes is plenty for a reader
    # that saw a key's value to see its delete too.
    "delete.retention.ms": str(10 * 60 * 1000),
}
"""A changelog the log cleaner keeps near its compacted size: it only cleans closed
segments (1 GB by default), and a task restores by reading its whole partition. After a
30-minute soak at 7,900 lines/s the restore read 14 million uncompacted records: 98 s.
With 16 MiB segments a restore after a 30-minute soak still read the active segment of
each partition (about 200,000 records): 9 s of a 13.6 s kill -9 to output; 2 MiB
segments roll every 10-15 s at 11,800 lines/s, and the cleaner keeps up."""
FENCED_RETRY_S = 15.0
"""How long a fenced task waits before it opens again, if this worker still has it then.
Fenced means another producer took the task's transactional id: a worker the group gave
it to (this one is a zombie: it learns of the rebalance and drops the task well within
this time, rather than fence the owner back), or no one, when the transaction
coordinator aborted a transaction it thought too old (the broker away for long); then
the task must come back by itself, since no rebalance will bring it."""
CRASH_BEFORE_COMMIT = "LUMBUNG_KERNEL_CRASH_BEFORE_COMMIT"
"""Test-only: the worker SIGKILLs itself after the sends of its Nth transaction that sends
events, before the commit (tests/.. crash between produce and commit)."""


@dataclass(frozen=True)
class Emit:
    """An event to send: a registry topic (logical name), its key, the event's bytes
    (`lumbung.contracts.event_json`, or an envelope's JSON)."""

    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass
class Outcome:
    """What a handler or a tick returns: changed state keys (None deletes), events, and
    effects outside Kafka (`after`: a message to deliver), which the kernel hands to the
    worker's `after_commit` once the transaction that decided them has committed: at
    least once, so each carries an id its receiver deduplicates by."""

    changes: dict[str, Any] = field(default_factory=dict)
    events: list[Emit] = field(default_factory=list)
    after: list[Any] = field(default_factory=list)
    note: tuple[str, Any] | None = None
    """(name, a small JSON value) kept beside the event's remembered id (inputs in
    `remember_ids` only), in the id's changelog chunk rather than a record of its own:
    later handlers read it at `state[note_key(name)]`; it goes when the id goes
    (`ids_per_key`, `id_horizon`)."""


def note_key(name: str) -> str:
    """The state key of a note kept beside a remembered event's id (`Outcome.note`)."""
    return NOTE_PREFIX + name


class Unprocessable(Exception):
    """Raised by a handler for an input it cannot apply: the kernel dead-letters it."""


Record = tuple[str, bytes, bytes, list[tuple[str, bytes]] | None]
"""A record to send: physical topic, key, value, headers."""
Handler = Callable[..., Outcome]
"""(state, event, now) -> Outcome; with `Stream.with_record`, (state, event, now, record)."""
Tick = Callable[[Mapping[str, Any], datetime], Outcome]


@dataclass(frozen=True)
class Stream:
    """A worker's declarations: what it reads, what handles each event, what it keeps."""

    service: str
    name: str
    inputs: tuple[str, ...]
    handlers: Mapping[type[Any], Handler]
    remember_ids: frozenset[str] = frozenset()
    """Inputs whose event ids are kept, so a resend at a new offset is applied once."""
    id_horizon: timedelta = timedelta(days=7)
    ids_per_key: int = 2000
    """At most this many remembered ids per input key (an outlet), the oldest dropped."""
    ticks: tuple[tuple[float, Tick], ...] = ()
    with_record: bool = False
    """Handlers take the consumed record as a fourth argument (its topic, partition,
    offset, key, value and headers): for a worker that forwards an event as it came."""
    key_of: Callable[[Any], str] | None = None
    """The key an input's payload must carry (its partition decides which task owns
    that state): a record keyed otherwise is dead-lettered."""
    stateful: bool = True
    linger_ms: int = 0
    """How long the broker may hold a fetch of the inputs for more records (0: answer as
    soon as there is one). A stream nobody waits on (the books) lingers, and so takes
    fewer, larger batches: fewer transactions on the cores the latency path shares. Its
    ticks may then run with up to `linger_ms` of input still held at the broker ("caught
    up" is as of the last fetch): a stream whose ticks decide from what did not come
    (a timeout) should not linger."""
    ticks_wait_for_inputs: bool = True
    """Ticks run only once the task has applied all its inputs held (see
    `Kernel._caught_up`); False for ticks that decide nothing from what did not happen
    (closing a digest whose window passed, handing pending messages over again)."""


@dataclass
class _Task:
    """One input partition index (across the co-partitioned inputs) this worker owns."""

    partition: int
    producer: AIOKafkaProducer
    state: dict[str, Any] = field(default_factory=dict)
    ids: IdMemory = field(default_factory=lambda: IdMemory(2000, timedelta(days=7)))
    next_sweep: float = 0.0
    next_ticks: dict[int, float] = field(default_factory=dict)
    pending: int = 0
    """Its transactions begun and not ended: at most one committing and the next one."""
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    """The input offsets its last committed transaction wrote on the changelog."""
    deferred: dict[TopicPartition, int] = field(default_factory=dict)
    """Input offsets of batches that wrote nothing else, for its next transaction."""
    last_commit: float = 0.0


def _hour(moment: datetime) -> int:
    return int(moment.timestamp()) // 3600


class IdMemory:
    """The event ids a task applied from the inputs it remembers, so a resend at a new
    offset (a POS sending a sale again after a lost answer) is applied once.

    Kept per input key (an outlet), at most `per_key` ids each and none older than the
    horizon. On the changelog they are append-only: one record per key and batch holding
    that batch's new ids and the notes kept beside them (`~ids|KEY|SEQ` -> [hour
    applied, [ids], {name: note}]); the oldest chunk of a key is tombstoned when the key
    holds `per_key` ids without it, or when it passes the horizon. So a sale line costs no changelog
    record of its own, and memory stays flat however long the worker runs (`per_key` ids
    of 16 bytes per outlet, and their notes).

    The notes live in `notes`, which a `Batch` (and the kernel's restore) points at the
    task's state, at `note_key(name)`: handlers read them like any other state."""

    def __init__(self, per_key: int, horizon: timedelta) -> None:
        self.per_key = per_key
        self.horizon = horizon
        self.notes: dict[str, Any] = {}
        self._known: set[bytes] = set()
        self._chunks: dict[str, deque[tuple[int, int, list[bytes], list[str]]]] = {}
        """key -> its chunks, oldest first: (seq, hour applied, ids, the state keys of
        their notes)."""
        self._count: dict[str, int] = {}
        self._new: dict[str, list[bytes]] = {}
        self._new_notes: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._known)

    def seen(self, event_id: bytes) -> bool:
        return event_id in self._known

    def add(self, key: str, event_id: bytes, note: tuple[str, Any] | None = None) -> None:
        self._known.add(event_id)
        self._new.setdefault(key, []).append(event_id)
        if note is not None:
            name, value = note
            if NOTE_PREFIX + name in self.notes:
                self._disown(key, NOTE_PREFIX + name)
            self.notes[NOTE_PREFIX + name] = value
            self._new_notes.setdefault(key, {})[name] = value

    def flush(self, now: datetime) -> dict[str, Any]:
        """The changelog records for this batch's new ids, and tombstones for the chunks
        that fell out."""
        out: dict[str, Any] = {}
        hour = _hour(now)
        for key, new in self._new.items():
            chunks = self._chunks.setdefault(key, deque())
            seq = chunks[-1][0] + 1 if chunks else 0
            notes = self._new_notes.get(key)
            chunks.append((seq, hour, new, [NOTE_PREFIX + name for name in notes or ()]))
            self._count[key] = self._count.get(key, 0) + len(new)
            record: list[Any] = [hour, [i.hex() for i in new]]
            if notes is not None:
                record.append(notes)
            out[f"{ID_PREFIX}{key}|{seq}"] = record
            while len(chunks) > 1 and self._count[key] - len(chunks[0][2]) >= self.per_key:
                out[self._evict(key)] = None
        self._new = {}
        self._new_notes = {}
        return out

    def expire(self, now: datetime) -> dict[str, Any]:
        """Tombstones for the chunks older than the horizon."""
        horizon = _hour(now - self.horizon)
        out: dict[str, Any] = {}
        for key, chunks in self._chunks.items():
            while chunks and chunks[0][1] < horizon:
                out[self._evict(key)] = None
        return out

    def restore(self, changelog_key: str, value: Any) -> None:
        key, _, seq = changelog_key[len(ID_PREFIX) :].rpartition("|")
        chunks = self._chunks.setdefault(key, deque())
        if value is None:
            while chunks and chunks[0][0] <= int(seq):
                self._evict(key)
            return
        ids = [bytes.fromhex(i) for i in value[1]]
        notes = value[2] if len(value) > 2 else {}
        for name in notes:
            if NOTE_PREFIX + name in self.notes:
                self._disown(key, NOTE_PREFIX + name)
        chunks.append((int(seq), int(value[0]), ids, [NOTE_PREFIX + name for name in notes]))
        for name, note in notes.items():
            self.notes[NOTE_PREFIX + name] = note
        self._known.update(ids)
        self._count[key] = self._count.get(key, 0) + len(ids)

    def _disown(self, key: str, state_key: str) -> None:
        """A note named again (two events of one sale): the older chunks no longer hold
        it, so evicting them keeps the newer one (rare: a scan of the key's chunks)."""
        for chunk in self._chunks.get(key, ()):
            if state_key in chunk[3]:
                chunk[3].remove(state_key)

    def _evict(self, key: str) -> str:
        seq, _, ids, noted = self._chunks[key].popleft()
        self._count[key] -= len(ids)
        self._known.difference_update(ids)
        for state_key in noted:
            self.notes.pop(state_key, None)
        return f"{ID_PREFIX}{key}|{seq}"


class Kernel:
    """Runs one `Stream` in this process, in the consumer group of its service."""

    def __init__(
        self,
        stream: Stream,
        registry: Registry,
        bootstrap_servers: str,
        *,
        clock: Clock | None = None,
        replication_factor: int = 1,
        max_records: int = 10000,
        instance_id: str = "",
        after_commit: Callable[[int, list[Any]], None] | None = None,
        on_dropped: Callable[[int], None] | None = None,
    ) -> None:
        self.stream = stream
        self.registry = registry
        self.bootstrap = bootstrap_servers
        self.clock = clock or SystemClock()
        self.replication = replication_factor
        self.max_records = max_records
        self.instance_id = instance_id or None
        """Static group membership (see `ServiceSettings.worker_instance`)."""
        self.after_commit = after_commit
        """Called with (task, effects) once the batch that decided them has committed."""
        self.on_dropped = on_dropped
        """Called with a task's number when this worker closes it (moved elsewhere,
        fenced, or stopping): its effects under way may stop."""
        base = f"lumbung-{stream.service}-{stream.name}"
        self.group_id = f"{registry.prefix}.{base}" if registry.prefix else base
        self.changelog = f"{self.group_id}-changelog"
        self._logical = {registry.name(t): t for t in stream.inputs}
        self._tasks: dict[int, _Task] = {}
        self._lost: dict[int, float] = {}
        """Tasks assigned but not open (new, fenced, or the broker away): when to open
        them; their inputs are paused until then."""
        self._buffered: dict[TopicPartition, deque[Any]] = {}
        """Fetched records of each input not applied yet (see `_ready`)."""
        self._partitions: dict[tuple[str, bytes], int] = {}
        """The partition of each (topic, key) sent to, as the default partitioner picks it."""
        self._seeks = 0
        self._sought: dict[TopicPartition, int] = {}
        """When each input was last sought back to its committed offset (counted in seeks),
        so a batch taken from the consumer before that is not applied (see `_apply`)."""
        self._behind: dict[int, int] = {}
        """Per task, the input records left after its latest batch (fetched or not)."""
        self._committing: dict[int, asyncio.Task[None]] = {}
        """Each task's latest transaction in flight (see `_transact`)."""
        self._lock = asyncio.Lock()
        self._assignment: set[TopicPartition] | None = None
        """The partitions of the latest rebalance, until the main loop takes them up."""
        self._consumer: AIOKafkaConsumer | None = None
        self._stopping = asyncio.Event()
        self._sharing: asyncio.Task[None] | None = None
        self._shared: dict[TopicPartition, int] = {}
        """The offsets last committed to the group by `_share_offsets`."""
        self._transactions = 0
        self.commits = 0
        """Transactions this kernel committed (benchmarks, tests)."""
        self._crash_at = int(os.environ.get(CRASH_BEFORE_COMMIT, "0"))
        self.committed = asyncio.Event()
        """Set once this process committed its first transaction (tests, readiness)."""

    # -- lifecycle ----------------------------------------------------------------------

    def declare(self) -> None:
        """Create the changelog before the worker starts, with the inputs' partitions."""
        if not self.stream.stateful:
            return
        partitions = self.registry.spec(self.stream.inputs[0]).partitions
        config = {**CHANGELOG_CONFIG, **topic_config(self.replication)}
        created = create_missing(
            self.bootstrap,
            [NewTopic(self.changelog, partitions, self.replication, topic_configs=config)],
        )
        if not created:
            set_topic_config(self.bootstrap, self.changelog, config)

    def consumer_options(self) -> dict[str, Any]:
        """The group consumer of the inputs."""
        return dict(
            **client_security(),
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            group_instance_id=self.instance_id,
            isolation_level="read_committed",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
            metadata_max_age_ms=5000,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            **lingering(self.stream.linger_ms),
            # One assignor only: aiokafka 0.14 sends a JoinGroup per assignor offered, each
            # with a longer protocol list, and the broker takes the second for changed
            # metadata and starts another rebalance. Two workers joining at once (after
            # the broker stalled) went on rebalancing each other for minutes.
            partition_assignment_strategy=(TaskAssignor,),
        )

    def producer_options(self, number: int) -> dict[str, Any]:
        """The transactional producer of task `number`: one per task, so that a new
        owner's `init_transactions` fences the last one."""
        return dict(
            **client_security(),
            bootstrap_servers=self.bootstrap,
            transactional_id=f"{self.group_id}-{number}",
            enable_idempotence=True,
            acks="all",
            linger_ms=0,
            retry_backoff_ms=TXN_RETRY_BACKOFF_MS,
            max_batch_size=512 * 1024,
            max_request_size=8 * 1024 * 1024,
        )

    async def run(self) -> None:
        """Consume and apply until `stop()`; a lost broker is waited out, not fatal."""
        self.declare()
        consumer = AIOKafkaConsumer(**self.consumer_options())
        self._consumer = consumer
        consumer.subscribe(list(self._logical), listener=_Rebalance(self))
        await consumer.start()
        next_lag = next_share = 0.0
        try:
            while not self._stopping.is_set():
                # While a transaction commits, poll briefly: its task's next batch starts
                # as soon as it is done.
                wait_ms = 5 if self._committing else 200
                batch = await consumer.getmany(timeout_ms=wait_ms, max_records=self.max_records)
                taken = self._seeks
                async with self._lock:
                    if self._assignment is not None:
                        await self._take_assignment()
                    await self._apply(batch, taken)
                if time.monotonic() >= next_lag:
                    next_lag = time.monotonic() + 1.0
                    await self._record_lag()
                if time.monotonic() >= next_share:
                    next_share = time.monotonic() + SHARE_OFFSETS_EVERY_S
                    self._share_offsets()
        finally:
            async with self._lock:
                await self._committed()
                await self._shared_all()
                for task in list(self._tasks.values()):
                    await self._drop(task)
            await consumer.stop()

    def stop(self) -> None:
        self._stopping.set()

    def _share_offsets(self) -> None:
        """Commit to the group, outside any transaction, the input offsets the tasks'
        transactions committed on their changelogs and the group lacks: the group's lag
        (readiness, `kafka-consumer-groups`) stays true. Never ahead of a changelog, so
        never past a record not applied; one commit at a time, its failure (a rebalance)
        only delays the next."""
        consumer = self._consumer
        if consumer is None or not self.stream.stateful:
            return
        if self._sharing is not None and not self._sharing.done():
            return
        assigned = consumer.assignment()
        offsets = {
            tp: at
            for task in self._tasks.values()
            for tp, at in task.offsets.items()
            if tp in assigned and self._shared.get(tp) != at
        }
        if offsets:
            self._sharing = asyncio.create_task(self._commit_to_group(consumer, offsets))

    async def _shared_all(self) -> None:
        """Before a worker stops: the group gets every offset its tasks committed."""
        for _ in range(2):  # the commit in flight, then whatever came after it
            self._share_offsets()  # nothing new while one is in flight
            if self._sharing is not None:
                # Not for long: a broker away would hold the stop for the request timeout.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._sharing, SHARE_ON_STOP_S)
                self._sharing = None

    async def _commit_to_group(
        self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]
    ) -> None:
        try:
            await consumer.commit(offsets)
        except Exception as exc:  # a rebalance, the broker away: the next try has them
            log.debug("sharing offsets with group %s failed: %r", self.group_id, exc)
        else:
            self._shared.update(offsets)

    def owns_tasks(self) -> bool:
        """Whether this worker has input partitions to apply (readiness)."""
        return bool(self._tasks)

    # -- tasks: assigned, restored, dropped -----------------------------------------------

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """Take note of a new assignment, and pause its inputs until the main loop takes
        it up (`_take_assignment`). The consumer calls this inside the rebalance and sends
        no heartbeat until it returns, so nothing here may wait: waiting for a
        transaction in flight or a task opening (after the broker stalled for 20 s, its
        commits and `init_transactions` took longer than the session timeout) got the
        worker dropped from the group, and again at every rejoin, for minutes."""
        self._assignment = set(partitions)
        if self._consumer is not None:
            self._consumer.pause(*partitions)

    async def _take_assignment(self) -> None:
        """Tasks kept across a rebalance keep their state; new ones restore it. Every
        assigned input resumes at its committed offset."""
        partitions, self._assignment = self._assignment or set(), None
        started = time.monotonic()
        # A transaction in flight commits first, so the offsets sought below are its.
        await self._committed()
        self._buffered.clear()
        wanted = {tp.partition for tp in partitions}
        for task in [t for n, t in self._tasks.items() if n not in wanted]:
            await self._drop(task)
        self._lost = {n: at for n, at in self._lost.items() if n in wanted}
        for tp in partitions:
            if tp.partition in self._tasks:
                await self._seek_committed(tp)
                if self._consumer is not None:
                    self._consumer.resume(tp)
        for number in wanted - set(self._tasks):
            self._lose(number, 0.0)  # opened in `_apply`, see `_retry_lost`
        log.info(
            "%s: %s tasks assigned, taken up in %.1f s",
            self.group_id,
            len(wanted),
            time.monotonic() - started,
        )

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        """Nothing to hand over: the batches in flight commit before the rebalance goes on."""
        async with self._lock:
            await self._committed()

    async def _committed(self) -> None:
        """Wait for every transaction in flight (each ends committed, or its task dropped)."""
        while self._committing:
            await asyncio.gather(*self._committing.values(), return_exceptions=True)

    async def _recover(self, number: int, partitions: set[TopicPartition]) -> None:
        """Open a task and seek its inputs to their committed offsets; if the broker is
        away, try again after a pause (its records are skipped until then)."""
        inputs = [tp for tp in partitions if tp.partition == number]
        try:
            await self._open(number)
            for tp in inputs:
                await self._seek_committed(tp)
        except KafkaError:
            log.exception("task %s of %s cannot open yet; trying again", number, self.group_id)
            task = self._tasks.get(number)
            if task is not None:
                await self._drop(task)
            self._lose(number, RETRY_AFTER_S)
        else:
            self._lost.pop(number, None)
            if self._consumer is not None:
                self._consumer.resume(*inputs)

    def _lose(self, number: int, pause_s: float) -> None:
        """A task whose state may be ahead of what committed: its inputs stop (a batch
        fetched before cannot be applied out of order) until it is opened again."""
        self._lost[number] = time.monotonic() + pause_s
        if self._consumer is not None:
            self._consumer.pause(
                *(tp for tp in self._consumer.assignment() if tp.partition == number)
            )

    async def _retry_lost(self) -> None:
        """Open the tasks assigned but not open, all at once (outside the rebalance, so a
        slow restore never makes the group drop this worker)."""
        consumer = self._consumer
        if not self._lost or consumer is None:
            return
        now = time.monotonic()
        assigned = consumer.assignment()
        due = [number for number, at in self._lost.items() if at <= now]
        await asyncio.gather(
            *(self._recover(n, {tp for tp in assigned if tp.partition == n}) for n in due)
        )

    async def _open(self, number: int) -> None:
        producer = AIOKafkaProducer(**self.producer_options(number))
        # init_transactions (in start) fences the last owner and ends its open transaction,
        # so the changelog and the committed offsets read below are stable.
        await producer.start()
        task = _Task(
            number, producer, ids=IdMemory(self.stream.ids_per_key, self.stream.id_horizon)
        )
        if self.stream.stateful:
            await self._restore(task)
        now = time.monotonic()
        task.next_ticks = {i: now + every for i, (every, _) in enumerate(self.stream.ticks)}
        self._tasks[number] = task
        log.info(
            "task %s of %s: %s keys and %s ids restored",
            number,
            self.group_id,
            len(task.state),
            len(task.ids),
        )

    async def _restore(self, task: _Task) -> None:
        reader = AIOKafkaConsumer(
            **client_security(),
            bootstrap_servers=self.bootstrap,
            isolation_level="read_committed",
            enable_auto_commit=False,
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        await reader.start()
        try:
            tp = TopicPartition(self.changelog, task.partition)
            reader.assign([tp])
            await reader.seek_to_beginning(tp)
            end = (await reader.end_offsets([tp]))[tp]
            ids = task.ids
            ids.notes = task.state
            # The newest value of each key, decoded once at the end: the part of the log
            # not compacted yet holds many values of the same key.
            raw: dict[bytes, bytes | None] = {}
            while await reader.position(tp) < end:
                for records in (await reader.getmany(tp, timeout_ms=1000)).values():
                    for record in records:
                        if record.key.startswith(ID_PREFIX_BYTES):
                            value = None if record.value is None else orjson.loads(record.value)
                            ids.restore(record.key.decode(), value)
                        elif record.key.startswith(OFFSET_PREFIX_BYTES):
                            if record.value is not None:
                                topic = record.key[len(OFFSET_PREFIX_BYTES) :].decode()
                                input_tp = TopicPartition(topic, task.partition)
                                task.offsets[input_tp] = orjson.loads(record.value)
                        else:
                            raw[record.key] = record.value
            state = task.state
            for key, value in raw.items():
                if value is not None:
                    state[key.decode()] = orjson.loads(value)
        finally:
            await reader.stop()

    async def _seek_committed(self, tp: TopicPartition) -> None:
        """To the offset the task's last transaction committed: on its changelog, or with
        the group (a stream without state; a task last committed by an older version).
        The later of the two: the group's is written either in the transaction that
        applied up to it, or after a changelog's commit, never ahead of what committed."""
        consumer = self._consumer
        assert consumer is not None
        task = self._tasks.get(tp.partition)
        on_changelog = task.offsets.get(tp) if task is not None else None
        with_group = await consumer.committed(tp)
        known = [at for at in (on_changelog, with_group) if at is not None]
        if not known:
            await consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, max(known))
        self._seeks += 1
        self._sought[tp] = self._seeks

    async def _drop(self, task: _Task, *, wait: bool = True) -> None:
        """Close a task; with `wait`, after its transactions in flight ended."""
        committing = self._committing.get(task.partition)
        if wait and committing is not None:
            await asyncio.gather(committing, return_exceptions=True)
        self._tasks.pop(task.partition, None)
        for tp in [tp for tp in self._buffered if tp.partition == task.partition]:
            del self._buffered[tp]
        if self.on_dropped is not None:
            self.on_dropped(task.partition)
        try:
            await task.producer.stop()
        except Exception:  # a fenced or broken producer: nothing more to lose
            log.debug("stopping the producer of task %s failed", task.partition, exc_info=True)

    # -- the batch ---------------------------------------------------------------------

    async def _apply(self, batch: dict[TopicPartition, list[Any]], taken: int) -> None:
        """Apply a batch taken from the consumer when `taken` seeks had been made. An input
        sought back to its committed offset since (a rebalance while the batch waited for
        the lock, or its task opened again just below) is left out: those records came
        from where its task stood before, past records never applied, and would commit
        offsets over them; fetched again from the committed offset, they come in order.
        A rebalance before the batch was taken is no reason to leave it out: the consumer
        hands out only records fetched from the positions sought (dropping them lost the
        records in between, the consumer having moved past them)."""
        await self._retry_lost()
        assigned = self._consumer.assignment() if self._consumer is not None else set()
        sought = self._sought
        for tp, records in batch.items():
            if tp.partition in self._tasks and tp in assigned and sought.get(tp, 0) <= taken:
                self._buffered.setdefault(tp, deque()).extend(records)
        now_mono = time.monotonic()
        for number, task in list(self._tasks.items()):
            if task.pending >= 2:
                continue  # its records wait in the buffer for a later batch
            ready = await self._ready(number)
            due = any(at <= now_mono for at in task.next_ticks.values())
            flush = bool(task.deferred) and now_mono >= task.last_commit + OFFSETS_ONLY_EVERY_S
            if ready or flush or (due and self._may_tick(number)):
                task.pending += 1
                before = self._committing.get(number)
                self._committing[number] = asyncio.create_task(self._transact(task, ready, before))
        self._hold_back()

    def _hold_back(self) -> None:
        """Pause an input whose buffer holds more than a batch (its task commits
        slower than the fetch), and resume it once it has drained."""
        consumer = self._consumer
        if consumer is None:
            return
        paused = consumer.paused()
        for tp, buffer in self._buffered.items():
            if len(buffer) > self.max_records:
                if tp not in paused:
                    consumer.pause(tp)
            elif tp in paused and tp.partition in self._tasks and tp.partition not in self._lost:
                consumer.resume(tp)

    async def _ready(self, number: int) -> list[tuple[TopicPartition, Any]]:
        """The task's buffered records to apply now, merged across its inputs by record
        time, as Kafka Streams does: while an input known to hold more records has none
        buffered, the task waits for it rather than go past its records. So a replay from
        the start (an upgrade, a new changelog) applies an opening count before the sales
        that came after it, though they sit on different topics."""
        consumer = self._consumer
        assert consumer is not None
        inputs = sorted(
            (tp for tp in consumer.assignment() if tp.partition == number),
            key=lambda tp: tp.topic,
        )
        lagging: dict[TopicPartition, int] = {}
        for tp in inputs:
            stable = consumer.last_stable_offset(tp)
            if stable is not None and stable > (at := await consumer.position(tp)):
                lagging[tp] = stable - at
        buffers = self._buffered
        if any(tp in lagging and not buffers.get(tp) for tp in inputs):
            self._behind[number] = sum(lagging.values())
            return []
        heap = [(buffers[tp][0].timestamp, i, tp) for i, tp in enumerate(inputs) if buffers.get(tp)]
        heapq.heapify(heap)
        out: list[tuple[TopicPartition, Any]] = []
        while heap and len(out) < self.max_records:
            _, i, tp = heapq.heappop(heap)
            buffer = buffers[tp]
            out.append((tp, buffer.popleft()))
            if buffer:
                heapq.heappush(heap, (buffer[0].timestamp, i, tp))
            elif tp in lagging:
                break
        self._behind[number] = sum(len(buffers.get(tp, ())) for tp in inputs) + sum(
            lagging.values()
        )
        return out

    def _may_tick(self, number: int) -> bool:
        return not self.stream.ticks_wait_for_inputs or self._caught_up(number)

    def _caught_up(self, number: int) -> bool:
        """Whether a task's latest batch reached the end of its inputs as last fetched.
        Its ticks wait until then: a tick decides from the state what has not happened in
        time (an answer that never came), and while the task works through a backlog (an
        upgrade, a restart after a long stop, more load than it keeps up with) that answer
        may be in the part not applied yet."""
        return self._behind.get(number, 0) == 0

    async def _transact(
        self,
        task: _Task,
        work: list[tuple[TopicPartition, Any]],
        before: asyncio.Task[None] | None,
    ) -> None:
        """One batch of a task: built (applied to the task's state) while the task's
        previous transaction still commits, then committed once that one has ended, since
        a producer has one transaction at a time. So the worker's CPU builds batches while
        the broker answers for others. If the previous one failed, its task was dropped
        with this batch's state: the records come again from the committed offsets when
        the task opens again."""
        try:
            started = time.perf_counter()
            batch, offsets = await self._build(task, work, self._may_tick(task.partition))
            work.clear()  # the records are applied: not kept while the commit waits
            if before is not None:
                await asyncio.gather(before, return_exceptions=True)
            if self._tasks.get(task.partition) is not task:
                return
            wrote = bool(batch.deltas or batch.out or batch.after)
            if not wrote and time.monotonic() < task.last_commit + OFFSETS_ONLY_EVERY_S:
                task.deferred.update(offsets)  # later batches hold later offsets
                return
            if task.deferred:
                offsets = {**task.deferred, **offsets}
            if wrote or offsets:
                if not await self._commit_or_drop(task, batch, offsets, started):
                    return
                task.deferred.clear()
                task.last_commit = time.monotonic()
            if batch.after and self.after_commit is not None:
                self.after_commit(task.partition, batch.after)
        finally:
            task.pending -= 1
            if self._committing.get(task.partition) is asyncio.current_task():
                del self._committing[task.partition]

    async def _build(
        self, task: _Task, work: list[tuple[TopicPartition, Any]], ticking: bool = True
    ) -> tuple[Batch, dict[TopicPartition, int]]:
        batch = Batch(self.stream, self.registry, task.state, task.ids, self.clock.now())
        offsets: dict[TopicPartition, int] = {}
        logical = self._logical
        for n, (tp, record) in enumerate(work, 1):
            offsets[tp] = record.offset + 1
            batch.add(logical[tp.topic], record)
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the other tasks' commits go on meanwhile
        for topic, count in Counter(tp.topic for tp, _ in work).items():
            EVENTS_IN.labels(self.stream.service, logical[topic]).inc(count)
        mono = time.monotonic()
        for i, (every, tick) in enumerate(self.stream.ticks):
            if ticking and task.next_ticks.get(i, 0.0) <= mono:
                task.next_ticks[i] = mono + every
                began = time.perf_counter()
                try:
                    outcome = tick(task.state, batch.now)
                except Exception:  # changes nothing: a tick returns its changes
                    log.exception("a tick of %s failed", self.group_id)
                    continue
                finally:
                    TICK_SECONDS.labels(self.stream.service, tick.__name__).observe(
                        time.perf_counter() - began
                    )
                batch.take(outcome)
        if task.next_sweep <= mono:
            task.next_sweep = mono + ID_SWEEP_EVERY_S
            batch.forget_old_ids()
        batch.finish()
        return batch, offsets

    async def _commit_or_drop(
        self, task: _Task, batch: Batch, offsets: dict[TopicPartition, int], started: float
    ) -> bool:
        """Whether the batch committed (else its task was dropped)."""
        try:
            await self._commit(task, batch, offsets)
        except Exception as exc:
            # The state in memory is ahead of what committed: drop it, and open the task
            # again from the changelog and the committed offsets. Fenced: after a pause
            # (`FENCED_RETRY_S`) in which a zombie learns that another worker owns the
            # task now, rather than fence the owner in turn (a zombie woken by SIGCONT
            # did, and both stalled for minutes). Not a Kafka error (a value that does
            # not serialise): the same, after a pause, instead of a batch lost while the
            # offsets after it commit.
            fenced = isinstance(exc, ProducerFenced)
            kafka = isinstance(exc, KafkaError)
            log.log(
                logging.WARNING if kafka else logging.ERROR,
                "transaction of task %s failed (%r)",
                task.partition,
                exc,
                exc_info=not kafka,
            )
            await self._drop(task, wait=False)  # its successor in flight waits for this
            self._lose(
                task.partition, FENCED_RETRY_S if fenced else 0.0 if kafka else RETRY_AFTER_S
            )
            return False
        self.commits += 1
        BATCH_RECORDS.labels(self.stream.service).observe(batch.count)
        BATCH_SECONDS.labels(self.stream.service).observe(time.perf_counter() - started)
        return True

    async def _commit(self, task: _Task, batch: Batch, offsets: dict[TopicPartition, int]) -> None:
        producer = task.producer
        await producer.begin_transaction()
        try:
            sends = _Sends(producer, self._partitions)
            for topic, key, value, headers in batch.out:
                await sends.add(topic, None, key, value, headers)
            changelog, number = self.changelog, task.partition
            for state_key, state_value in batch.deltas.items():
                raw = None if state_value is None else orjson.dumps(state_value)
                await sends.add(changelog, number, state_key.encode(), raw, None)
            if self.stream.stateful:
                # Beside the state, on a partition the transaction writes anyway: two
                # round trips fewer than `send_offsets_to_transaction` (AddOffsetsToTxn,
                # then TxnOffsetCommit), and no marker on `__consumer_offsets`.
                for tp, offset in offsets.items():
                    key = f"{OFFSET_PREFIX}{tp.topic}".encode()
                    await sends.add(changelog, number, key, orjson.dumps(offset), None)
            sent = await sends.close()
            if offsets and not self.stream.stateful:
                await producer.send_offsets_to_transaction(offsets, self.group_id)
            # Every send's outcome is taken, so none is left unretrieved when one fails.
            for outcome in await asyncio.gather(*sent, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    raise outcome
            self._transactions += 1 if batch.out else 0
            if self._crash_at and self._transactions >= self._crash_at:
                os.kill(os.getpid(), signal.SIGKILL)
        except BaseException:
            await _abort(producer)
            raise
        await producer.commit_transaction()
        task.offsets.update(offsets)
        self.committed.set()
        for topic, count in Counter(topic for topic, *_ in batch.out).items():
            EVENTS_OUT.labels(self.stream.service, topic).inc(count)

    async def _record_lag(self) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        # Every input is set, 0 when none of its partitions is here (any more).
        lag = dict.fromkeys(self._logical.values(), 0)
        for tp in consumer.assignment():
            end = consumer.last_stable_offset(tp)
            if end is None or tp.partition not in self._tasks:
                continue
            logical = self._logical.get(tp.topic, tp.topic)
            lag[logical] += max(0, end - await consumer.position(tp))
        for topic, behind in lag.items():
            CONSUMER_LAG.labels(self.stream.service, topic).set(behind)


class Batch:
    """What one transaction of a task holds, built without any I/O: each input record
    decoded once, applied by its handler to the task's state, its effects collected.
    Unit tests drive it directly (`lumbung.platform.kernel.Batch`)."""

    def __init__(
        self,
        stream: Stream,
        registry: Registry,
        state: dict[str, Any],
        ids: IdMemory,
        now: datetime,
    ) -> None:
        self.stream = stream
        self.registry = registry
        self.state = state
        self.ids = ids
        ids.notes = state
        self.now = now
        self.deltas: dict[str, Any] = {}
        """Changed state keys, the last value of each in this batch (None: deleted)."""
        self.out: list[Record] = []
        self.after: list[Any] = []
        """Effects outside Kafka, for the worker once this batch has committed."""
        self.count = 0
        self._remember = stream.remember_ids
        self._dlq = registry.name(f"{stream.service}.dlq")

    def add(self, topic: str, record: Any) -> None:
        """Apply one consumed record (with .topic, .partition, .offset, .key, .value) that
        came from the logical input `topic`."""
        self.count += 1
        try:
            event = self.registry.parse(record.value or b"")
        except ContractError as exc:
            self._dead_letter(record, str(exc))
            return
        stream = self.stream
        handler = stream.handlers.get(type(event.data))
        if handler is None:
            self._dead_letter(record, f"{stream.service} does not apply {event.event_type}")
            return
        if stream.key_of is not None:
            try:
                about = stream.key_of(event.data)
            except Exception as exc:  # a payload the stream cannot place must not stop it
                self._dead_letter(record, f"no key for {event.event_type}: {exc}")
                return
            # Bytes, not text: a key that is not UTF-8 would raise here and stop the partition.
            if record.key != about.encode():
                self._dead_letter(record, f"keyed {record.key!r} but about {about!r}")
                return
        remember = topic in self._remember
        if remember:
            event_id = event.event_id.bytes
            if self.ids.seen(event_id):
                log.debug("%s is a resend of an applied event: skipped", event.event_id)
                return
        try:
            if stream.with_record:
                outcome = handler(self.state, event, self.now, record)
            else:
                outcome = handler(self.state, event, self.now)
        except Unprocessable as exc:
            self._dead_letter(record, str(exc))
            return
        except Exception as exc:
            # A handler changes no state itself, so nothing is half done; stopping here
            # instead would stop the partition for good (the record comes back forever).
            log.exception("the handler of %s failed", event.event_type)
            self._dead_letter(record, f"{event.event_type} could not be applied: {exc!r}")
            return
        self.take(outcome)
        if remember:
            self.ids.add((record.key or b"").decode(errors="replace"), event_id, outcome.note)

    def finish(self) -> None:
        """The batch's remembered ids onto the changelog (call once, before its commit)."""
        self.deltas.update(self.ids.flush(self.now))

    def take(self, outcome: Outcome) -> None:
        """Apply a handler's or a tick's outcome to the state and collect its effects."""
        state, deltas = self.state, self.deltas
        for key, value in outcome.changes.items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
            deltas[key] = value
        name = self.registry.name
        for emit in outcome.events:
            raw_key = emit.key.encode()
            headers = list(emit.headers) if emit.headers else None
            if not emit.topic.endswith(DLQ_SUFFIX):  # an event: its CloudEvents headers
                headers = cloudevents.with_headers(headers, emit.value, raw_key)
            self.out.append((name(emit.topic), raw_key, emit.value, headers))
        self.after.extend(outcome.after)

    def forget_old_ids(self) -> None:
        """Remembered ids older than the stream's horizon are dropped (and tombstoned)."""
        self.deltas.update(self.ids.expire(self.now))

    def _dead_letter(self, record: Any, error: str) -> None:
        service = self.stream.service
        letter = DeadLetter(
            service, record.topic, record.partition, record.offset, record.key, record.value, error
        )
        DEAD_LETTERS.labels(service, record.topic).inc()
        log.warning(
            "dead-lettered %s:%s@%s: %s", record.topic, record.partition, record.offset, error
        )
        self.out.append((self._dlq, record.key or b"", record.value or b"", letter.headers()))


class _Sends:
    """A transaction's records, appended to one producer batch per partition and sent
    batch by batch (`send_batch`), not record by record: `producer.send` cost a future and
    a metadata look-up per record, a third of a worker's time per sale line. A keyed
    record goes to the partition aiokafka's own default partitioner picks (murmur2, as
    every other client here), computed once per topic and key."""

    def __init__(self, producer: AIOKafkaProducer, partitions: dict[tuple[str, bytes], int]):
        self.producer = producer
        self.partitions = partitions
        self.open: dict[tuple[str, int], Any] = {}
        self.sent: list[Awaitable[Any]] = []

    async def add(
        self,
        topic: str,
        partition: int | None,
        key: bytes,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None,
    ) -> None:
        if partition is None:
            partition = self.partitions.get((topic, key))
            if partition is None:
                partition = await self._partition_of(topic, key)
        builder = self.open.get((topic, partition))
        if builder is None:
            builder = self.open[(topic, partition)] = self.producer.create_batch()
        if builder.append(timestamp=None, key=key, value=value, headers=headers or []) is None:
            # Full: send it and start the next one (a record always fits an empty batch).
            self.sent.append(await self.producer.send_batch(builder, topic, partition=partition))
            builder = self.open[(topic, partition)] = self.producer.create_batch()
            if builder.append(timestamp=None, key=key, value=value, headers=headers or []) is None:
                raise KafkaError(f"a record of {len(value or b'')} bytes fits no batch of {topic}")

    async def close(self) -> list[Awaitable[Any]]:
        for (topic, partition), builder in self.open.items():
            self.sent.append(await self.producer.send_batch(builder, topic, partition=partition))
        self.open = {}
        return self.sent

    async def _partition_of(self, topic: str, key: bytes) -> int:
        every = sorted(await self.producer.partitions_for(topic))
        partition: int = DefaultPartitioner()(key, every, every)
        if len(self.partitions) > 100_000:  # order ids: keep the cache bounded
            self.partitions.clear()
        self.partitions[(topic, key)] = partition
        return partition


async def _abort(producer: AIOKafkaProducer) -> None:
    try:
        await producer.abort_transaction()
    except Exception:  # fenced or broken: the successor's init_transactions ends it
        log.debug("abort failed", exc_info=True)


class TaskAssignor(RoundRobinPartitionAssignor):  # type: ignore[misc]
    """Whole tasks to workers: partition N of every input goes to the same worker, task N
    to the Nth worker in turn. aiokafka's round robin deals out (topic, partition) pairs
    one by one, so partition 3 of two inputs met on one worker only while the partition
    count divided by the workers (6 inputs' partitions, 2 or 3 workers); with 4, a task's
    inputs went to two workers, and each one's producer fenced the other's."""

    name = "lumbung-tasks"
    version = 0

    @classmethod
    def assign(
        cls, cluster: Any, members: Mapping[str, ConsumerProtocolMemberMetadata]
    ) -> dict[str, ConsumerProtocolMemberAssignment]:
        workers = sorted(members)
        topics = sorted({topic for meta in members.values() for topic in meta.subscription})
        owned: dict[str, dict[str, list[int]]] = {m: {} for m in workers}
        for topic in topics:
            takers = [m for m in workers if topic in members[m].subscription]
            for number in sorted(cluster.partitions_for_topic(topic) or ()):
                owner = workers[number % len(workers)]
                if owner not in takers:  # subscriptions differ while a group upgrades
                    owner = takers[number % len(takers)]
                owned[owner].setdefault(topic, []).append(number)
        return {
            m: ConsumerProtocolMemberAssignment(cls.version, sorted(owned[m].items()), b"")
            for m in workers
        }


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.kernel.revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.kernel.assigned(assigned)


class Projection:
    """A read model fed from a derived topic, outside any worker's hot loop: its own
    consumer group, `read_committed` (an aborted transaction never shows), offsets
    committed after each batch is applied. At least once: `apply` must be idempotent
    (a read model keeps the newest version, or counts by event id).

    `topic` is a registry topic, or with `physical=True` a topic's own name: a kernel's
    changelog (`Kernel.changelog`), whose committed records are the state itself."""

    def __init__(
        self,
        service: str,
        name: str,
        registry: Registry,
        bootstrap_servers: str,
        topic: str,
        apply: Callable[[list[Any]], Awaitable[Any]],
        *,
        physical: bool = False,
        linger_ms: int = 0,
    ) -> None:
        base = f"lumbung-{service}-{name}"
        self.linger_ms = linger_ms
        self.group_id = f"{registry.prefix}.{base}" if registry.prefix else base
        self.bootstrap = bootstrap_servers
        self.topic = topic if physical else registry.name(topic)
        self.apply = apply
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            self.topic,
            **client_security(),
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            isolation_level="read_committed",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
            metadata_max_age_ms=5000,
            **lingering(self.linger_ms),
        )
        try:  # stopped even when cancelled while starting (`projected.keep_projected`)
            await consumer.start()
            while not self._stopping.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=5000)
                records = [r for part in batch.values() for r in part]
                if records:
                    await self.apply(records)
                    await consumer.commit(
                        {tp: part[-1].offset + 1 for tp, part in batch.items() if part}
                    )
        finally:
            await consumer.stop()

    def stop(self) -> None:
        self._stopping.set()


async def read_to_end(
    bootstrap_servers: str,
    topic: str,
    partitions: int,
    apply: Callable[[list[Any]], Awaitable[Any]],
) -> None:
    """Read a topic (its own name) from the beginning to its end as of now, committed
    records only, in batches to `apply`: a read model rebuilt after Redis lost it."""
    consumer = AIOKafkaConsumer(
        **client_security(),
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    try:  # stopped even when cancelled while starting
        await consumer.start()
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        pending = {tp for tp, end in ends.items() if end > 0}
        while pending:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            records = [r for part in batches.values() for r in part]
            if records:
                await apply(records)
            # By position, not by the last record's offset: a topic written in
            # transactions ends with a commit marker no record carries (compared by
            # record, a rebuild after a Redis wipe never ended).
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()
