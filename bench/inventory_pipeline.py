"""Benchmark: sale lines per second through the inventory worker (the stream kernel), beside
the raw aiokafka consume + parse rate of the same topic, with the worker's memory and, in a
soak, its memory over time and its restart after `kill -9` (issue 14's targets).

    make bench-inventory                 (a private Kafka and Redis, 200,000 lines, then gone)
    scripts/with-stack.sh .venv/bin/python bench/inventory_pipeline.py --lines 5000
    scripts/with-stack.sh .venv/bin/python bench/inventory_pipeline.py --soak 30 [--rate R]
    scripts/with-stack.sh .venv/bin/python bench/inventory_pipeline.py --profile

What it does, on a fresh registry prefix:

1. set-up: 500 products on `catalog.products` (so every SKU is known) and an opening count
   of every (outlet, SKU) on `inventory.commands`; a first worker applies them and stops;
2. pre-load: N sale lines (one line a sale) onto `pos.sales` with aiokafka (acks=all,
   idempotent), in batches (`send_batch`) while no worker runs: the load outruns the worker;
3. the ceiling: plain aiokafka consumes and orjson-parses that `pos.sales` (3 runs);
4. the worker starts; a separate `read_committed` consumer on `inventory.stock` counts the
   sales' `StockChanged` (one per sale line) as they commit. Sale lines/s =
   N / (last StockChanged seen - first seen); the wall time runs from the worker's start.
   The worker's VmRSS is sampled every second;
5. with `--soak MINUTES`: sales at `--rate` lines/s (default: half the rate of step 4) for
   that long, RSS first/last/peak/min; then `kill -9`, a restart, and the time from the
   restart to the first `StockChanged` of a sale produced after the kill.

Prints every figure with the command, commit and date; docs/PERFORMANCE.md quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import pstats
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from lumbung.contracts import Registry, derived_event_id, encode, make_event, sale_event_id
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.contracts.events.catalog import ProductChanged
from lumbung.platform.broker import ensure_topics

WITA = ZoneInfo("Asia/Makassar")
MAX_BATCH = 20_000
"""The kernel's `max_records` a poll: a run of N lines is at least N / MAX_BATCH batches."""
ROOT = Path(__file__).resolve().parent.parent
SALE_CHANGE = b'"reason":"sale"'
"""In a StockChanged's JSON: the change a sale line made (one per line)."""


def out(text: str = "") -> None:
    print(text, flush=True)


def git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


# -- events, encoded fast -------------------------------------------------------------------


class Sales:
    """SaleRecorded events of one line each, encoded from a validated template (pydantic
    builds one, orjson writes the rest), so a soak can produce thousands a second."""

    def __init__(self, registry: Registry) -> None:
        now = datetime.now(WITA)
        sale = pos.SaleRecorded(
            sale_id="T",
            outlet_id="OUT-000",
            sold_at=now,
            lines=[pos.SaleLine(sku="SKU-000", qty=1, unit_price_idr=10_000)],
        )
        event = make_event(
            sale,
            event_id=sale_event_id("OUT-000", "T"),
            occurred_at=now,
            producer="bench",
            correlation_id="T",
        )
        self.template: dict[str, Any] = orjson.loads(encode(event))
        self.stamp(now)
        check = registry.parse(self.encode("OUT-001", "SKU-001", "CHECK")[1])
        assert isinstance(check.data, pos.SaleRecorded), check
        assert check.data.lines[0].sku == "SKU-001", check
        assert check.data.outlet_id == "OUT-001", check

    def stamp(self, moment: datetime) -> None:
        """The time the next sales carry (a soak moves it on as it goes)."""
        when = moment.isoformat()
        self.template["occurred_at"] = when
        self.template["data"]["sold_at"] = when

    def encode(self, outlet: str, sku: str, sale_id: str) -> tuple[str, bytes]:
        """(event id, JSON) of a one-line sale."""
        event = self.template
        event_id = str(sale_event_id(outlet, sale_id))
        event["event_id"] = event_id
        event["correlation_id"] = sale_id
        data = event["data"]
        data["sale_id"] = sale_id
        data["outlet_id"] = outlet
        data["lines"][0]["sku"] = sku
        return event_id, orjson.dumps(event)


def cell(i: int, outlets: list[str], skus: list[str]) -> tuple[str, str]:
    """The i-th sale's (outlet, SKU): a fixed walk over every cell, the same in every run
    (a stride prime to the number of cells, so consecutive sales touch different cells)."""
    c = (i * 7919) % (len(outlets) * len(skus))
    return outlets[c % len(outlets)], skus[c // len(outlets)]


def product_events(skus: list[str]) -> list[tuple[str, bytes]]:
    now = datetime.now(WITA)
    events = []
    for sku in skus:
        product = ProductChanged(
            sku=sku,
            name=f"Bench product {sku}",
            supplier_id="SUP-BENCH",
            category="bench",
            unit="pcs",
            price_idr=10_000,
            version=1,
            changed_at=now,
        )
        event = make_event(
            product,
            event_id=derived_event_id(f"catalog.products:{sku}", "v1"),
            occurred_at=now,
            producer="bench",
            correlation_id=f"catalog.products:{sku}",
        )
        events.append((sku, encode(event)))
    return events


def opening_counts(outlets: list[str], skus: list[str], units: int) -> list[tuple[str, bytes]]:
    now = datetime.now(WITA)
    events = []
    for outlet in outlets:
        count = inv.StockCounted(
            count_id="OPEN",
            outlet_id=outlet,
            kind="opening",
            counted_at=now,
            lines=[inv.CountedLine(sku=s, counted=units) for s in skus],
        )
        event = make_event(
            count, event_id=uuid.uuid4(), occurred_at=now, producer="bench", correlation_id="open"
        )
        events.append((outlet, encode(event)))
    return events


# -- Kafka clients ---------------------------------------------------------------------------


def producer_for(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
        max_request_size=8 * 1024 * 1024,
    )


class Sender:
    """Sends keyed records in aiokafka batches built here (`create_batch`/`send_batch`),
    partitioned as `send` would (murmur2 of the key): far less per record than a future
    per `send`, so the load generator outruns the worker."""

    def __init__(self, producer: AIOKafkaProducer, partitions: int) -> None:
        self.producer = producer
        self.all = list(range(partitions))
        self._places: dict[bytes, int] = {}

    def place(self, key: bytes) -> int:
        found = self._places.get(key)
        if found is None:
            found = self._places[key] = DefaultPartitioner()(key, self.all, self.all)
        return found

    async def send(self, topic: str, records: list[tuple[str, bytes]]) -> None:
        """Send every (key, value) to `topic`; returns when all are acknowledged."""
        producer = self.producer
        open_batches: dict[int, Any] = {}
        sent = []
        for key, value in records:
            raw_key = key.encode()
            partition = self.place(raw_key)
            batch = open_batches.get(partition)
            if batch is None:
                batch = open_batches[partition] = producer.create_batch()
            if batch.append(key=raw_key, value=value, timestamp=None) is None:
                sent.append(await producer.send_batch(batch, topic, partition=partition))
                batch = open_batches[partition] = producer.create_batch()
                batch.append(key=raw_key, value=value, timestamp=None)
        for partition, batch in open_batches.items():
            if batch.record_count():
                sent.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sent)


def partitions(registry: Registry, logical: str) -> list[TopicPartition]:
    name = registry.name(logical)
    return [TopicPartition(name, p) for p in range(registry.spec(logical).partitions)]


async def end_offsets(bootstrap: str, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


async def read_since(bootstrap: str, start: dict[TopicPartition, int]) -> list[tuple[str, bytes]]:
    """(topic, value) of every committed record from `start` to the end now."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        consumer.assign(list(start))
        ends = await consumer.end_offsets(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        found = []
        for tp, end in ends.items():
            while await consumer.position(tp) < end:
                for records in (await consumer.getmany(tp, timeout_ms=500)).values():
                    found += [(tp.topic, r.value) for r in records]
        return found
    finally:
        await consumer.stop()


async def raw_rate(bootstrap: str, tps: list[TopicPartition], expected: int) -> tuple[float, float]:
    """Plain aiokafka: consume `topic` from the beginning and orjson-parse every value;
    (records per second, records per CPU-second of this process)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, max_poll_records=5000
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        got = 0
        started, cpu = time.perf_counter(), time.process_time()
        while got < expected:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
                for record in records:
                    orjson.loads(record.value)
                    got += 1
        return got / (time.perf_counter() - started), got / (time.process_time() - cpu)
    finally:
        await consumer.stop()


@dataclass
class Counter:
    """A read_committed consumer on `inventory.stock` counting the sales' StockChanged,
    with the monotonic time it first and last saw one; `watch` holds sale event ids whose
    first StockChanged is timed (`watched_at`)."""

    bootstrap: str
    topic: str
    start: dict[TopicPartition, int]
    count: int = 0
    first_at: float | None = None
    first_poll: int = 0
    last_at: float | None = None
    watch: set[str] = field(default_factory=set)
    watched_at: float | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _consumer: AIOKafkaConsumer | None = None

    async def begin(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            fetch_max_wait_ms=100,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await consumer.start()
        consumer.assign(list(self.start))
        for tp, offset in self.start.items():
            consumer.seek(tp, offset)
        self._consumer = consumer
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=200, max_records=20_000)
            seen = 0
            watching = bool(self.watch) and self.watched_at is None
            for records in batch.values():
                for record in records:
                    if SALE_CHANGE in record.value:
                        seen += 1
                        if watching and orjson.loads(record.value)["causation_id"] in self.watch:
                            self.watched_at = time.monotonic()
                            watching = False
            if seen:
                now = time.monotonic()
                if self.first_at is None:
                    self.first_at, self.first_poll = now, seen
                self.last_at = now
                self.count += seen
                self._changed.set()

    async def wait(
        self, done: Callable[[], bool], alive: Callable[[], None], limit_s: float
    ) -> None:
        """Until `done()`; `alive()` raises when the worker died; TimeoutError after limit."""
        deadline = time.monotonic() + limit_s
        while not done():
            alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.count} sale lines counted after {limit_s:.0f} s")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 1.0)

    async def end(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()


# -- the worker process --------------------------------------------------------------------


async def projected(
    registry: Registry, outlets: list[str], skus: int, worker: WorkerProcess
) -> None:
    """Until the worker's Redis read model holds every (outlet, SKU) cell."""
    client = aioredis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        waiting = list(outlets)
        while waiting:
            worker.alive()
            pipe = client.pipeline(transaction=False)
            for outlet in waiting:
                pipe.hlen(f"{registry.prefix}:inv:outlet:{outlet}")
            sizes = await pipe.execute()
            waiting = [o for o, size in zip(waiting, sizes, strict=True) if size < skus]
            if waiting:
                await asyncio.sleep(0.5)
    finally:
        await client.aclose()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_kib(pid: int, field_name: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class WorkerProcess:
    """`python -m lumbung.inventory worker` on the bench's prefix, its VmRSS sampled every
    second while `sampling`."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        profile_to: Path | None = None,
        jobs: str | None = None,
        instance: str = "",
    ) -> None:
        profile = ["-m", "cProfile", "-o", str(profile_to)] if profile_to else []
        # A restart under the same name takes its partitions back at once (static
        # membership); every live worker has a name of its own.
        env = {**env, "LUMBUNG_WORKER_INSTANCE": instance} if instance else env
        only = ["--jobs", jobs] if jobs else []
        self.log = log
        self.started = time.monotonic()
        self.started_wall = time.time()
        with log.open("w") as output:
            self.proc = subprocess.Popen(
                [sys.executable, *profile, "-m", "lumbung.inventory", "worker", *only],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.samples: list[tuple[float, float]] = []
        """(monotonic time, VmRSS MiB)"""
        self._sampler = asyncio.create_task(self._sample())

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def _sample(self) -> None:
        while self.proc.poll() is None:
            kib = vm_kib(self.pid, "VmRSS")
            if kib is not None:
                self.samples.append((time.monotonic(), kib / 1024))
            await asyncio.sleep(1.0)

    def alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"the worker exited with {self.proc.returncode}; its log: {self.log}"
            )

    def peak_mib(self) -> float:
        hwm = vm_kib(self.pid, "VmHWM")
        sampled = max((rss for _, rss in self.samples), default=0.0)
        return max(sampled, hwm / 1024 if hwm else 0.0)

    async def stop(self, sig: int = signal.SIGTERM, patience_s: float = 60.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                await asyncio.to_thread(self.proc.wait, patience_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sampler


def startup(worker: WorkerProcess, until: float) -> list[str]:
    """The worker's telling log lines (its own, warnings, groups joined) from its start to
    `until` (monotonic), each with the seconds since the start (the log has whole seconds)."""
    lines = []
    for line in worker.log.read_text(errors="replace").splitlines():
        try:
            entry = orjson.loads(line)
            at = datetime.strptime(entry["ts"], "%Y-%m-%dT%H:%M:%S%z").timestamp()
        except (orjson.JSONDecodeError, KeyError, ValueError, TypeError):
            continue
        since = at - worker.started_wall
        telling = (
            entry.get("level") != "INFO"
            or str(entry.get("logger", "")).startswith("lumbung")
            or "Joined group" in str(entry.get("msg"))
        )
        if telling and since <= until - worker.started + 1:
            lines.append(f"   +{max(since, 0):4.0f} s  {entry['level']:7} {entry['msg'][:110]}")
    return lines


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# -- the run ---------------------------------------------------------------------------------


def rate_of(n: float, seconds: float) -> str:
    return f"{n / seconds:10,.0f} /s" if seconds > 0 else "         - /s"


def fmt(n: float) -> str:
    return f"{n:,.0f}"


async def run(args: argparse.Namespace) -> int:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    registry = Registry(prefix=f"bench{uuid.uuid4().hex[:6]}")
    ensure_topics(bootstrap, registry)
    outlets = [f"OUT-{i:03d}" for i in range(args.outlets)]
    skus = [f"SKU-{i:03d}" for i in range(args.skus)]
    sales_topic = registry.name("pos.sales")
    stock_topic = registry.name("inventory.stock")
    sales = Sales(registry)
    tmp = Path(tempfile.mkdtemp(prefix="bench-inventory-"))
    logs = iter(tmp / f"worker-{n}.log" for n in range(1, 100))
    env = {
        **os.environ,
        "LUMBUNG_TOPIC_PREFIX": registry.prefix,
        "LUMBUNG_DATA_DIR": str(tmp),
        "LUMBUNG_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",  # its log lines in the file as they happen
    }
    figures: list[str] = []

    def figure(text: str) -> None:
        figures.append(text)
        out(text)

    producer = producer_for(bootstrap)
    await producer.start()

    def sender(logical: str) -> Sender:
        return Sender(producer, registry.spec(logical).partitions)

    worker: WorkerProcess | None = None
    replicas: list[WorkerProcess] = []
    projector: WorkerProcess | None = None
    counter: Counter | None = None
    try:
        # 1. set-up: the catalog knows every SKU; every (outlet, SKU) has stock.
        started = time.monotonic()
        await sender("catalog.products").send(
            registry.name("catalog.products"), product_events(skus)
        )
        await sender("inventory.commands").send(
            registry.name("inventory.commands"), opening_counts(outlets, skus, args.opening)
        )
        stock_partitions = partitions(registry, "inventory.stock")
        opened = 0

        async def opening_done() -> None:
            """Every StockChanged of the opening counts, read_committed."""
            nonlocal opened
            consumer = AIOKafkaConsumer(
                bootstrap_servers=bootstrap, group_id=None, isolation_level="read_committed"
            )
            await consumer.start()
            try:
                consumer.assign(stock_partitions)
                await consumer.seek_to_beginning(*stock_partitions)
                while opened < args.outlets * args.skus:
                    assert worker is not None
                    worker.alive()
                    for records in (await consumer.getmany(timeout_ms=500)).values():
                        opened += len(records)
            finally:
                await consumer.stop()

        worker = WorkerProcess(env, next(logs), instance="stock-0")
        await asyncio.wait_for(opening_done(), args.timeout)
        # The worker's Redis projection too, so the measured worker has no backlog of it.
        await asyncio.wait_for(projected(registry, outlets, len(skus), worker), args.timeout)
        await worker.stop()
        out(
            f"set-up: {args.skus} products, opening counts of {args.outlets} outlets x "
            f"{args.skus} SKUs applied ({fmt(opened)} StockChanged, and in Redis) in "
            f"{time.monotonic() - started:.1f} s; set-up worker stopped"
        )

        # 2. pre-load the sales, no worker running.
        records = []
        for i in range(args.lines):
            outlet, sku = cell(i, outlets, skus)
            records.append((outlet, sales.encode(outlet, sku, f"B{i}")[1]))
        started = time.perf_counter()
        await sender("pos.sales").send(sales_topic, records)
        produced_s = time.perf_counter() - started
        del records
        figure(
            f"pre-load, aiokafka send_batch (acks=all, idempotent): {fmt(args.lines)} lines in "
            f"{produced_s:.2f} s = {rate_of(args.lines, produced_s).strip()}"
        )

        # 3. the ceiling: plain aiokafka consume + orjson parse of the same topic.
        raw = [
            await raw_rate(bootstrap, partitions(registry, "pos.sales"), args.lines)
            for _ in range(3)
        ]
        ceiling, ceiling_cpu = max(r for r, _ in raw), max(c for _, c in raw)
        figure(
            "raw consume + orjson parse (aiokafka), 3 runs: "
            + ", ".join(f"{r:,.0f}" for r, _ in raw)
            + f" /s; ceiling (best) = {ceiling:,.0f} /s"
        )
        figure(f"   per CPU-second of the consumer (best): {ceiling_cpu:,.0f} records")

        # 4. the worker on a full topic; a read_committed counter on inventory.stock.
        counter = Counter(bootstrap, stock_topic, await end_offsets(bootstrap, stock_partitions))
        await counter.begin()
        profile_to = tmp / "worker.prof" if args.profile else None
        load_before = os.getloadavg()
        side = [*partitions(registry, "inventory.alerts"), *partitions(registry, "inventory.dlq")]
        side_start = await end_offsets(bootstrap, side)
        # The stream jobs in the measured process(es); the Redis read model in a process
        # of its own beside them, as a larger deployment runs it (--projection-inside: in
        # the same process, as `make up` runs it).
        jobs = None if args.projection_inside else "stock,route-orders"
        worker = WorkerProcess(env, next(logs), profile_to, jobs, "stock-0")
        # More replicas of the worker in its consumer group share the partitions.
        replicas = [
            WorkerProcess(env, next(logs), None, jobs, f"stock-{n}")
            for n in range(1, args.replicas)
        ]
        if jobs:
            projector = WorkerProcess(env, next(logs), None, "read-model")
        every = [worker, *replicas]
        cpu_first: float | None = None

        def cpu_now() -> float:
            return sum(cpu_seconds(w.pid) for w in every)

        projector_cpu_first: float | None = None

        window: list[tuple[float, int, float]] = []
        """(time, lines counted, worker CPU-s) when the count first passed 20 % and 80 %."""

        def applied() -> bool:
            nonlocal cpu_first, projector_cpu_first
            if cpu_first is None and counter.first_at is not None:
                cpu_first = cpu_now()
                if projector is not None:
                    projector_cpu_first = cpu_seconds(projector.pid)
            for share in (0.2, 0.8)[len(window) :]:
                if counter.count >= share * args.lines:
                    window.append((time.monotonic(), counter.count, cpu_now()))
            return bool(counter.count >= args.lines)

        def alive() -> None:
            for each in every:
                each.alive()

        await counter.wait(applied, alive, args.timeout)
        cpu_used = cpu_now() - (cpu_first or 0.0)
        load_after = os.getloadavg()
        assert counter.first_at is not None
        assert counter.last_at is not None
        span = counter.last_at - counter.first_at
        wall = counter.last_at - worker.started
        rate = args.lines / span
        peak = max(w.peak_mib() for w in every)
        figure(
            f"worker start -> first committed StockChanged:      "
            f"{counter.first_at - worker.started:8.2f} s"
        )
        out("   the worker's log from its start to its first output (whole seconds):")
        for line in startup(worker, counter.first_at)[-30:]:
            out(line)
        figure(
            f"worker, sale lines/s = lines / (last - first seen): {rate:10,.0f} /s  "
            f"({fmt(args.lines)} in {span:.2f} s)"
        )
        steady: float | None = None
        if len(window) == 2 and window[1][0] > window[0][0]:
            (t_lo, n_lo, cpu_lo), (t_hi, n_hi, cpu_hi) = window
            steady = (n_hi - n_lo) / (t_hi - t_lo)
            figure(
                f"steady state, lines/s from 20 % to 80 % counted: {steady:10,.0f} /s  "
                f"= {100 * steady / ceiling:.1f} % of the ceiling; "
                f"{(n_hi - n_lo) / max(cpu_hi - cpu_lo, 1e-9):,.0f} lines per worker CPU-second "
                f"({100 * (cpu_hi - cpu_lo) / (t_hi - t_lo):.0f} % of one core)"
            )
        figure(
            f"   = {100 * rate / ceiling:.1f} % of the ceiling;  lines after the first poll "
            f"({fmt(counter.first_poll)} in it): "
            f"{(args.lines - counter.first_poll) / span:,.0f} /s"
        )
        if args.lines < 10 * MAX_BATCH:
            figure(
                f"   (a smoke run: under 10 worker batches of {MAX_BATCH:,}, so first-to-last "
                "misses most of the work and overstates; quote runs of >= 200,000 lines)"
            )
        figure(
            f"wall, worker start -> last StockChanged:           {wall:8.2f} s  "
            f"= {args.lines / wall:,.0f} lines/s"
        )
        if projector is not None:
            figure(
                f"   the read model in a process of its own beside it: "
                f"{cpu_seconds(projector.pid) - (projector_cpu_first or 0.0):.2f} CPU-s"
            )
        if replicas:
            figure(
                f"   with {args.replicas} worker processes in the group (CPU summed over "
                "them, RSS of the largest)"
            )
        figure(
            f"worker CPU from first to last StockChanged:        {cpu_used:8.2f} s = "
            f"{100 * cpu_used / span:.0f} % of one core; {args.lines / cpu_used:,.0f} lines per "
            f"worker CPU-second = {100 * args.lines / cpu_used / ceiling_cpu:.1f} % of the "
            "consumer's records per CPU-second"
        )
        figure(f"worker peak RSS (VmRSS sampled 1/s, VmHWM):        {peak:8.0f} MiB")
        figure(f"StockChanged counted (read_committed):             {fmt(counter.count):>8}")
        side_records = await read_since(bootstrap, side_start)
        alerts = [orjson.loads(r)["data"]["alert"] for t, r in side_records if "alerts" in t]
        kinds = ", ".join(f"{k} {alerts.count(k)}" for k in sorted(set(alerts))) or "none"
        dead = sum(1 for t, _ in side_records if t.endswith("dlq"))
        figure(f"alerts / dead letters from the sales:              {kinds} / {dead}")
        figure(
            f"load average (1 min) at worker start / at last line: "
            f"{load_before[0]:.2f} / {load_after[0]:.2f}"
        )

        if args.profile:
            await worker.stop()
            show_profile(tmp / "worker.prof", args.profile_top)
        elif args.soak:
            # Half the sustained rate: the steady state when the run measured one (the
            # first-to-last rate overstates large batches).
            sustained = steady if steady is not None else rate
            soak_rate = args.rate or max(1, round(sustained / 2))
            load = Load(
                sender("pos.sales"), sales_topic, sales, outlets, skus, soak_rate, args.lines
            )
            restart = lambda: WorkerProcess(env, next(logs), None, jobs, "stock-0")  # noqa: E731
            await soak(args, load, worker, counter, restart, figure)
    except BaseException:
        if worker is not None:
            out(f"--- the worker's log (tail of {worker.log}) ---")
            out(log_tail(worker.log))
        raise
    finally:
        if worker is not None:
            await worker.stop()
        for replica in replicas:
            await replica.stop()
        if projector is not None:
            await projector.stop()
        if counter is not None:
            await counter.end()
        await producer.stop()
    out()
    out("=== figures for docs/PERFORMANCE.md ===")
    out(args.header)
    for line in figures:
        out(line)
    return 0


class Load:
    """Sales at a steady rate from a moment on, sent in aiokafka batches."""

    def __init__(
        self,
        sender: Sender,
        topic: str,
        sales: Sales,
        outlets: list[str],
        skus: list[str],
        rate: int,
        first: int,
    ) -> None:
        self.sender, self.topic, self.sales = sender, topic, sales
        self.outlets, self.skus, self.rate = outlets, skus, rate
        self.sequence = first
        """Sales sent so far in the run (the walk over the cells goes on from there)."""

    async def send_due(self, since: float, sent: int, tag: str, ids: set[str] | None) -> int:
        """The sales due at `rate` from `since` beyond `sent` already sent; how many."""
        due = int((time.monotonic() - since) * self.rate) - sent
        if due <= 0:
            return 0
        self.sales.stamp(datetime.now(WITA))
        records = []
        for _ in range(due):
            outlet, sku = cell(self.sequence, self.outlets, self.skus)
            event_id, raw = self.sales.encode(outlet, sku, f"{tag}{self.sequence}")
            self.sequence += 1
            if ids is not None:
                ids.add(event_id)
            records.append((outlet, raw))
        await self.sender.send(self.topic, records)
        return due


async def soak(
    args: argparse.Namespace,
    load: Load,
    worker: WorkerProcess,
    counter: Counter,
    respawn: Callable[[], WorkerProcess],
    figure: Callable[[str], None],
) -> None:
    """Sales at `load.rate` for `args.soak` minutes with the worker's RSS; then `kill -9`,
    sales still coming, a restart, and the time to its first committed output."""
    out(f"soak: {args.soak:g} min at {load.rate:,} lines/s (worker pid {worker.pid})")
    started = time.monotonic()
    until = started + args.soak * 60
    sent, capped = 0, False
    next_report = started + 60
    while time.monotonic() < until:
        sent += await load.send_due(started, sent, "S", None)
        worker.alive()
        rss = worker.samples[-1][1] if worker.samples else 0.0
        if rss > args.rss_cap_mib:
            capped = True
            out(f"  stopped early: worker RSS {rss:.0f} MiB is past --rss-cap-mib")
            break
        if time.monotonic() >= next_report:
            next_report += 60
            out(
                f"  {(time.monotonic() - started) / 60:5.1f} min: RSS {rss:6.0f} MiB, "
                f"produced {fmt(sent)}, behind {fmt(load.sequence - counter.count)} lines"
            )
        await asyncio.sleep(0.05)
    window = [rss for at, rss in worker.samples if at >= started]
    figure(
        f"soak: {(time.monotonic() - started) / 60:.1f} min at {load.rate:,} lines/s "
        f"({fmt(sent)} lines)" + (" - STOPPED at the RSS cap" if capped else "")
    )
    if window:
        first, last, peak, low = window[0], window[-1], max(window), min(window)
        figure(
            f"   worker RSS first / last / peak / min: {first:.0f} / {last:.0f} / {peak:.0f} / "
            f"{low:.0f} MiB; last vs first {100 * (last - first) / first:+.1f} %, "
            f"(peak - min) / first {100 * (peak - low) / first:.1f} % (target: flat, 10 %)"
        )
    figure(f"   behind at the end of the soak: {fmt(load.sequence - counter.count)} lines")

    # kill -9 while sales keep coming; the restarted worker's first committed output of a
    # sale produced after the kill.
    await worker.stop(signal.SIGKILL)
    killed = time.monotonic()
    after_kill: set[str] = set()
    counter.watch, counter.watched_at = after_kill, None
    since = killed - 1 / load.rate  # one sale is due at once
    sent = await load.send_due(since, 0, "K", after_kill)
    restarted = respawn()
    try:
        while counter.watched_at is None:
            if time.monotonic() - restarted.started > args.timeout:
                figure("kill -9 -> restart: no committed output of a new sale in the timeout")
                return
            sent += await load.send_due(since, sent, "K", after_kill)
            restarted.alive()
            await asyncio.sleep(0.05)
        first_s = counter.watched_at - restarted.started
        figure(
            f"kill -9 -> restart -> first StockChanged of a sale produced after the kill: "
            f"{first_s:.2f} s (target <= 10 s; the process start included)"
        )
        total = load.sequence
        await counter.wait(lambda: counter.count >= total, restarted.alive, args.timeout)
        assert counter.last_at is not None
        figure(
            f"   caught up with every line produced ({fmt(total)}) "
            f"{counter.last_at - restarted.started:.2f} s after the restart"
        )
        await asyncio.sleep(3.0)
        figure(
            f"   StockChanged counted - sale lines produced, 3 s later: "
            f"{counter.count - total} (0: each line once, read_committed)"
        )
    finally:
        await restarted.stop()


def show_profile(path: Path, top: int) -> None:
    if not path.exists():
        out(f"no profile at {path}: the worker did not exit cleanly")
        return
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        stats = pstats.Stats(str(path), stream=text)
        stats.strip_dirs().sort_stats(order).print_stats(top)
        body = text.getvalue()
        start = body.find("   ncalls")
        out(f"--- worker profile (cProfile), top {top} by {order} ---")
        out(body[start:].rstrip() if start >= 0 else body.rstrip())
    out(f"(profile file: {path}; cProfile slows the worker, so its rate is not the figure)")


def header(args: argparse.Namespace) -> str:
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(ROOT)
    command = shlex.join([str(python), *sys.argv])
    dirty = [
        line[3:]
        for line in git("status", "--porcelain", "--", "libs", "services").splitlines()
        if line
    ]
    load = os.getloadavg()
    return "\n".join(
        [
            f"command: {command}",
            f"commit:  {git('rev-parse', '--short', 'HEAD')}"
            + (f" (+ {len(dirty)} uncommitted files under libs/ services/)" if dirty else ""),
            f"date:    {datetime.now(UTC):%Y-%m-%d %H:%M UTC}",
            f"machine: {os.cpu_count()} cores, SHARED with other engineers' test runs "
            f"(load average now {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}); one broker, "
            f"one Redis, worker and bench on the same cores",
            f"load:    {fmt(args.lines)} sale lines (1 line a sale), {args.outlets} outlets x "
            f"{args.skus} SKUs, 6 partitions",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--lines", "--sales", type=int, default=200_000, help="sale lines pre-loaded (200,000)"
    )
    parser.add_argument("--outlets", type=int, default=200)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--opening", type=int, default=10_000, help="opening count a cell")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a phase may take")
    parser.add_argument("--profile", action="store_true", help="run the worker under cProfile")
    parser.add_argument(
        "--projection-inside",
        action="store_true",
        help="the measured worker runs the Redis read model too (as `make up` does)",
    )
    parser.add_argument(
        "--replicas", type=int, default=1, help="worker processes in the group (default 1)"
    )
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument("--soak", type=float, default=0.0, metavar="MINUTES")
    parser.add_argument(
        "--rate", type=int, default=0, help="soak lines/s (default: half the measured rate)"
    )
    parser.add_argument(
        "--rss-cap-mib",
        type=float,
        default=2048.0,
        help="a soak stops early when the worker's RSS passes this (the machine is shared)",
    )
    args = parser.parse_args()
    if args.profile and args.soak:
        parser.error("--profile and --soak are separate runs")
    if args.replicas > 1 and args.soak:
        parser.error("--soak runs one worker")
    args.header = header(args)
    out(args.header)
    out()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
