"""End-to-end benchmark of the sale path, each figure beside the ceiling it is held to.

    make bench      (a private Kafka and Redis, the whole system as `make up` starts it
                     without the simulator, this script, then everything stopped)
    scripts/with-stack.sh .venv/bin/python bench/end_to_end.py --sales 20000 --clients 32

In one run on one machine:

1. the broker's ceiling: sale-sized messages produced (acks=all) and consumed through
   aiokafka, messages a second from the first send to the last one read;
2. a bare FastAPI endpoint (same uvicorn settings, no key, no validation, no Kafka) under
   the same HTTP client, requests a second: the ceiling of the HTTP ingest;
3. the HTTP ingest: `POST /v1/outlets/{id}/sales`, one sale of one line a request;
4. the sale pipeline's sustained rate: from the first POST until the dashboard's stream
   (`/v1/stream`, as a browser reads it) has shown the stock change of every sale, through
   `pos.sales`, the inventory worker and `inventory.stock`;
5. sale-to-dashboard latency p50/p95/p99 at half that rate (the time from a POST until its
   stock change arrives on the stream), beside aiokafka's own produce-to-consume latency at
   the same rate.

Prints the figures; docs/PERFORMANCE.md records them with the command that produced them.
The load generator runs on the same 2 cores as the system, as a sender on site would not:
every rate here is what the whole machine does, client included (on uvloop, as the
services). The latency of 5 comes after the floods of 3 and 4, with the broker's hot paths
compiled; `--latency-at` first sends `--warm-up` seconds at its first rate for the same.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import orjson
import uvloop
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from lumbung.contracts import Registry
from lumbung.inventory.handlers import FORECAST_EVERY_S

ROOT = Path(__file__).resolve().parent.parent
WITA = ZoneInfo("Asia/Makassar")
PARTITIONS = 6
OPENING = 1_000_000


# -- what a sale looks like on the wire ----------------------------------------------------


def demo_prices() -> dict[str, int]:
    from lumbung.catalog import demo

    return {sku: body["price_idr"] for sku, body in demo.products()}


PRICES = demo_prices()
"""The catalog's price of each SKU, as a till sends it: a line sold off the outlet's price
is flagged to ops (`inventory.PriceFlagged`), one alert per line, which a till at the
right price never causes (until 2026-12-04 every line here went at Rp 15.000 and most
were flagged: an alert per sale through the notifications and books workers)."""


def sale(sku: str) -> dict[str, Any]:
    return {
        "sale_id": f"B-{uuid.uuid4().hex[:16]}",
        "sold_at": datetime.now(WITA).isoformat(),
        "lines": [{"sku": sku, "qty": 1, "unit_price_idr": PRICES.get(sku, 15_000)}],
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def spread(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"p50 {percentile(ms, 50):7.1f} ms  p95 {percentile(ms, 95):7.1f} ms  "
        f"p99 {percentile(ms, 99):7.1f} ms  (n={len(ms)})"
    )


# -- 1. the broker's ceiling ---------------------------------------------------------------


async def topic_pair(
    bootstrap: str, name: str, linger_ms: int
) -> tuple[str, AIOKafkaProducer, AIOKafkaConsumer]:
    """A new topic of PARTITIONS partitions, an acks=all producer, and a consumer (no
    group) assigned to every partition from its start."""
    topic = f"bench-{name}-{uuid.uuid4().hex[:6]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=linger_ms)
    await producer.start()
    await _create(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return topic, producer, consumer


async def broker_ceiling(bootstrap: str, messages: int) -> float:
    """Messages a second from the first send to the last one read, producer (acks=all) and
    consumer running together on a topic of PARTITIONS partitions."""
    topic, producer, consumer = await topic_pair(bootstrap, "ceiling", linger_ms=5)
    # an envelope is about twice a sale
    payload = b"x" * len(orjson.dumps(sale("AMPLANG-IKAN-250"))) * 2

    async def read() -> None:
        got = 0
        while got < messages:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            got += sum(len(records) for records in batches.values())

    started = time.perf_counter()
    reading = asyncio.create_task(read())
    pending = []
    for i in range(messages):
        pending.append(await producer.send(topic, payload, key=f"OUT-{i % 50}".encode()))
        if len(pending) >= 5000:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)
    await reading
    elapsed = time.perf_counter() - started
    await producer.stop()
    await consumer.stop()
    return messages / elapsed


async def broker_latency(bootstrap: str, rate: float, seconds: float) -> list[float]:
    """aiokafka's produce-to-consume latency of single messages sent at `rate` a second."""
    topic, producer, consumer = await topic_pair(bootstrap, "latency", linger_ms=0)
    total = int(rate * seconds)
    latencies: list[float] = []

    async def read() -> None:
        while len(latencies) < total:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                now = time.perf_counter()
                latencies.extend(now - float(r.value) for r in records)

    reading = asyncio.create_task(read())
    sends = []
    started = time.perf_counter()
    for i in range(total):
        await _until(started + i / rate)
        sends.append(
            asyncio.ensure_future(
                producer.send_and_wait(topic, str(time.perf_counter()).encode(), key=b"%d" % i)
            )
        )
    await asyncio.gather(*sends)
    await asyncio.wait_for(reading, 60)
    await producer.stop()
    await consumer.stop()
    return latencies


async def _create(bootstrap: str, topic: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()


async def _until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


# -- 2. a bare FastAPI endpoint ------------------------------------------------------------


def serve_bare(port: int) -> None:
    """The bare endpoint: FastAPI and uvicorn as the services run them, nothing else."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/v1/outlets/{outlet_id}/sales", status_code=202)
    async def sales(outlet_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"accepted": [{"id": body.get("sale_id"), "event_id": outlet_id}]}

    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


# -- the HTTP load and the dashboard stream ------------------------------------------------


@dataclass
class Post:
    """A sender of sales to one base URL with `clients` connections."""

    url: str
    headers: dict[str, str]
    clients: int
    session: aiohttp.ClientSession | None = None
    refused: int = 0

    async def __aenter__(self) -> Post:
        connector = aiohttp.TCPConnector(limit=self.clients)
        self.session = aiohttp.ClientSession(
            connector=connector, headers={"Content-Type": "application/json", **self.headers}
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.session is not None
        await self.session.close()

    async def sales(
        self, outlet: str, skus: list[str], posted: dict[str, float] | None = None
    ) -> None:
        """POST the sales; with `posted`, note each sale id's wall-clock time first."""
        assert self.session is not None
        body = [sale(sku) for sku in skus]
        if posted is not None:
            now = time.time()
            posted.update((one["sale_id"], now) for one in body)
        data = orjson.dumps(body[0] if len(body) == 1 else {"sales": body})
        async with self.session.post(f"{self.url}/v1/outlets/{outlet}/sales", data=data) as answer:
            await answer.read()
            if answer.status != 202:
                self.refused += len(skus)

    async def flood(
        self, cells: list[tuple[str, str]], count: int, seed: int, batch: int = 1
    ) -> float:
        """`count` sales, `batch` of one outlet a request, from `clients` senders as fast
        as they are answered; sales a second."""
        rng = random.Random(seed)
        skus = by_outlet(cells)
        outlets = sorted(skus)
        left = iter(range(count // batch))

        async def sender() -> None:
            for _ in left:
                outlet = rng.choice(outlets)
                await self.sales(outlet, [rng.choice(skus[outlet]) for _ in range(batch)])

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(self.clients)))
        return count // batch * batch / (time.perf_counter() - started)


@dataclass
class Stream:
    """The dashboard's stream as a page reads it; calls `on_sale` for every stock change a
    sale made: (outlet, SKU, arrival time)."""

    url: str
    key: str
    on_sale: Callable[[str, str, float], None]
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    frames: dict[tuple[str, str, int], float] | None = None
    """(outlet, SKU, version) -> wall-clock arrival of each sale's stock frame (--hops)."""

    async def follow(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"{self.url}/v1/stream", params={"key": self.key}) as answer,
        ):
            kind, data = "", b""
            async for raw in answer.content:
                line = raw.rstrip(b"\n")
                if line.startswith(b"event: "):
                    kind = line[7:].decode()
                elif line.startswith(b"data: "):
                    data = line[6:]
                elif not line and kind:
                    if kind == "snapshot":
                        self.ready.set()
                    elif kind == "stock":
                        change = orjson.loads(data)
                        if change["reason"] == "sale":
                            self.on_sale(change["outlet_id"], change["sku"], time.perf_counter())
                            if self.frames is not None:
                                at = (change["outlet_id"], change["sku"], change["version"])
                                self.frames[at] = time.time()
                    kind, data = "", b""


# -- the system ----------------------------------------------------------------------------


@dataclass
class System:
    stack: str
    env: dict[str, str]

    def apps(self, command: str) -> None:
        subprocess.run(
            [sys.executable, str(ROOT / "stack" / "apps.py"), command, "--name", self.stack]
            + (["--ports", "auto"] if command == "up" else []),
            env={**self.env, "LUMBUNG_SIMULATE": "0", "LUMBUNG_LOG_LEVEL": "WARNING"},
            check=True,
        )

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self._file(f'{service}.port')}"

    @property
    def key(self) -> str:
        return self._file("ops.key")

    def worker_port(self, service: str) -> str:
        """Where the service's worker answers /metrics."""
        return self._file(f"{service}-worker.port")

    def _file(self, name: str) -> str:
        return (ROOT / ".stack" / self.stack / name).read_text().strip()


def by_outlet(cells: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for outlet, sku in cells:
        grouped[outlet].append(sku)
    return grouped


def demo_cells() -> list[tuple[str, str]]:
    from lumbung.catalog import demo

    return [
        (outlet, item["sku"])
        for outlet, body in demo.outlets(date.today())
        for item in body["assortment"]
    ]


async def open_stock(system: System, cells: list[tuple[str, str]]) -> None:
    """An opening count of OPENING units in every cell, applied before the clock starts."""
    grouped = by_outlet(cells)
    headers = {"X-API-Key": system.key}
    url = system.url("inventory")
    async with aiohttp.ClientSession(headers=headers) as session:
        for outlet, skus in grouped.items():
            body = {
                "count_id": f"BENCH-{uuid.uuid4().hex[:8]}",
                "kind": "opening",
                "lines": [{"sku": s, "counted": OPENING} for s in skus],
            }
            async with session.post(f"{url}/v1/outlets/{outlet}/counts", json=body) as answer:
                assert answer.status == 202, await answer.text()
        deadline = time.monotonic() + 120
        for outlet, skus in grouped.items():
            while True:
                async with session.get(f"{url}/v1/outlets/{outlet}/stock") as answer:
                    stock = await answer.json()
                counted = {sku: cell["on_hand"] for sku, cell in stock["stock"].items()}
                if all(counted.get(s) == OPENING for s in skus):
                    break
                assert time.monotonic() < deadline, f"opening stock of {outlet} not applied"
                await asyncio.sleep(0.5)


@dataclass
class Figures:
    ceiling: float = 0.0
    bare: float = 0.0
    ingest: float = 0.0
    pipeline: float = 0.0
    batched_ingest: float = 0.0
    batched_pipeline: float = 0.0
    latency: list[float] = field(default_factory=list)
    broker_latency: list[float] = field(default_factory=list)
    refused: int = 0
    forecast_ticks: tuple[int, float, float] = (0, 0.0, 0.0)


@dataclass
class Seen:
    """What the dashboard stream showed: sales counted, the last arrival, latencies of the
    sales in `pending` ((outlet, SKU) -> send times, oldest first)."""

    sales: int = 0
    last: float = 0.0
    pending: dict[tuple[str, str], deque[float]] = field(default_factory=lambda: defaultdict(deque))
    latencies: list[float] = field(default_factory=list)
    posted: dict[str, float] = field(default_factory=dict)
    """sale id -> wall-clock time of its POST (--hops)."""
    frames: dict[tuple[str, str, int], float] = field(default_factory=dict)
    """(outlet, SKU, version) -> wall-clock arrival of its stock frame (--hops)."""
    timeline: list[tuple[float, float]] = field(default_factory=list)
    """(arrival, latency) of each sale in `latencies` (--profile: when the slow ones came)."""

    def __call__(self, outlet: str, sku: str, at: float) -> None:
        self.sales += 1
        self.last = at
        sent = self.pending.get((outlet, sku))
        if sent:
            self.latencies.append(at - sent.popleft())
            self.timeline.append((at, self.latencies[-1]))

    async def drain(self, count: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.sales < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"the dashboard showed {self.sales} of {count} sales")
            await asyncio.sleep(0.05)


async def pipeline(
    ingest: Post, seen: Seen, cells: list[tuple[str, str]], count: int, batch: int, seed: int
) -> tuple[float, float]:
    """(ingest rate, pipeline rate) of `count` sales sent as fast as they are taken."""
    seen.sales = 0
    started = time.perf_counter()
    taken = await ingest.flood(cells, count, seed=seed, batch=batch)
    await seen.drain(count // batch * batch, 600)
    return taken, count // batch * batch / (seen.last - started)


async def latency(
    ingest: Post, seen: Seen, cells: list[tuple[str, str]], rate: float, seconds: float
) -> list[float]:
    """Seconds from each POST of one sale, sent at `rate` a second, until its stock change
    is on the dashboard stream."""
    total = int(rate * seconds)
    seen.sales, seen.latencies, seen.timeline = 0, [], []
    sends = []
    rng = random.Random(5)
    began = time.perf_counter()
    for i in range(total):
        await _until(began + i / rate)
        outlet, sku = rng.choice(cells)
        seen.pending[(outlet, sku)].append(time.perf_counter())
        sends.append(asyncio.ensure_future(ingest.sales(outlet, [sku], seen.posted)))
    await asyncio.gather(*sends)
    await seen.drain(total, 300)
    return seen.latencies


@contextlib.asynccontextmanager
async def watching(system: System, cells: list[tuple[str, str]]) -> AsyncIterator[Seen]:
    """Opening stock in every cell, then the dashboard's stream followed into a Seen."""
    await open_stock(system, cells)
    seen = Seen()
    stream = Stream(system.url("dashboard"), system.key, seen, frames=seen.frames)
    following = asyncio.create_task(stream.follow())
    await asyncio.wait_for(stream.ready.wait(), 60)
    try:
        yield seen
    finally:
        following.cancel()


class Hops:
    """--hops: where a sale's time goes on its way to the dashboard, from the record
    timestamps (CreateTime: when the ingest's and the worker's producers sent), the moment
    a `read_committed` reader of `inventory.stock` (like the dashboard's) got each change,
    and the wall-clock times of each POST and of each stock frame on the page's stream:
    posted -> ingest sent (the HTTP request: a free connection, the API, its checks),
    ingest sent -> worker sent (the worker's fetch, its batch, the wait for the task's
    previous transaction), worker sent -> readable (the transaction's commit) and
    readable -> on the page (the dashboard's fetch, its board, the SSE frame)."""

    def __init__(self, bootstrap: str) -> None:
        registry = Registry(prefix=os.environ.get("LUMBUNG_TOPIC_PREFIX", ""))
        self.sales = registry.name("pos.sales")
        stock = registry.name("inventory.stock")
        self.stock = [TopicPartition(stock, p) for p in range(PARTITIONS)]
        self.bootstrap = bootstrap
        self.changes: list[tuple[str, int, float, tuple[str, str, int]]] = []
        """(causing sale's event id, record timestamp ms, arrival ms, (outlet, SKU,
        version)) of each sale's stock change."""
        self._reading: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Hops:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, isolation_level="read_committed"
        )
        await consumer.start()
        consumer.assign(self.stock)
        await consumer.seek_to_end(*self.stock)

        async def read() -> None:
            try:
                while True:
                    batches = await consumer.getmany(timeout_ms=200)
                    now = time.time() * 1000
                    for records in batches.values():
                        for record in records:
                            event = orjson.loads(record.value)
                            data = event["data"]
                            if data.get("reason") == "sale":
                                cell = (data["outlet_id"], data["sku"], data["version"])
                                self.changes.append(
                                    (event["causation_id"], record.timestamp, now, cell)
                                )
            finally:
                await consumer.stop()

        self._reading = asyncio.create_task(read())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._reading is not None
        self._reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reading

    async def report(self, seen: Seen) -> str:
        sent: dict[str, int] = {}
        sale_ids: dict[str, str] = {}
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        await consumer.start()
        partitions = [TopicPartition(self.sales, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    event = orjson.loads(record.value)
                    sent[event["event_id"]] = record.timestamp
                    sale_ids[event["event_id"]] = event["data"]["sale_id"]
        await consumer.stop()
        posted = seen.posted
        to_ingest = [
            sent[c] / 1000 - posted[sale_ids[c]]
            for c, *_ in self.changes
            if c in sent and sale_ids[c] in posted
        ]
        to_worker = [(ts - sent[c]) / 1000 for c, ts, *_ in self.changes if c in sent]
        to_reader = [(at - ts) / 1000 for _, ts, at, _ in self.changes]
        frames = seen.frames
        to_page = [frames[cell] - at / 1000 for *_, at, cell in self.changes if cell in frames]
        self.changes.clear()
        posted.clear()
        frames.clear()
        return (
            f"   posted -> ingest sent:        {spread(to_ingest)}\n"
            f"   ingest sent -> worker sent:   {spread(to_worker)}\n"
            f"   worker sent -> readable:      {spread(to_reader)}\n"
            f"   readable -> on the page:      {spread(to_page)}"
        )


class Profile:
    """--profile: what the machine did in each measured window: the transactions and the
    events in and out a second of each worker (from their /metrics: the kernel's
    `lumbung_stream_batch_seconds_count`, `lumbung_events_in_total`,
    `lumbung_events_out_total`), and the CPU of each process of the stack (the broker,
    Redis, every API and worker, this load generator) from /proc, in % of one core."""

    WORKERS = ("inventory", "orders", "notifications", "books")
    TICKS = os.sysconf("SC_CLK_TCK")

    def __init__(self, system: System) -> None:
        self.system = system
        self._counters: dict[str, float] = {}
        self._cpu: dict[str, float] = {}
        self._at = 0.0

    async def start(self) -> None:
        """(In a thread: the sales' sends and the page's stream go on in this loop.)"""
        self._counters = await asyncio.to_thread(self._counted)
        self._cpu = await asyncio.to_thread(self._cpu_now)
        self._at, self._began = time.monotonic(), time.perf_counter()

    async def report(self, seen: Seen) -> str:
        return await asyncio.to_thread(self._workers) + "\n" + self._slowest(seen)

    def _slowest(self, seen: Seen) -> str:
        """When the slowest 1 % of the window's sales reached the page, in seconds since
        the window began, a count per second: a tail in a few seconds is a stall (a
        pause, a rebalance, a compaction), a tail spread evenly is queueing."""
        timeline = [(at, took) for at, took in seen.timeline if at >= self._began]
        if not timeline:
            return ""
        bound = percentile([took for _, took in timeline], 99)
        when = Counter(int(at - self._began) for at, took in timeline if took >= bound)
        spread_out = " ".join(f"{second}s:{n}" for second, n in sorted(when.items()))
        began = datetime.now() - timedelta(seconds=time.perf_counter() - self._began)
        by_five: dict[int, list[float]] = defaultdict(list)
        for at, took in timeline:
            by_five[int(at - self._began) // 5 * 5].append(took)
        series = " ".join(
            f"{second}s:{1000 * percentile(took, 99):.0f}"
            for second, took in sorted(by_five.items())
        )
        return (
            f"  slowest 1 % (>= {1000 * bound:.0f} ms) reached the page, seconds after "
            f"{began:%H:%M:%S}: {spread_out}\n"
            f"  p99 (ms) of each 5 s from then: {series}"
        )

    def _workers(self) -> str:
        seconds = time.monotonic() - self._at
        counters, cpu = self._counted(), self._cpu_now()
        rows = []
        for name in sorted(counters):
            rate = (counters[name] - self._counters.get(name, 0.0)) / seconds
            if rate >= 0.05 or (" gc" in name and rate > 0):
                rows.append(f"    {name:<62}{rate:9.3f} /s")
        rows.append("  CPU, % of one core:")
        for name in sorted(cpu, key=lambda n: -(cpu[n] - self._cpu.get(n, 0.0))):
            share = 100 * (cpu[name] - self._cpu.get(name, 0.0)) / seconds
            if share >= 0.5:
                rows.append(f"    {name:<62}{share:7.1f} %")
        return "  worker counters:\n" + "\n".join(rows)

    def _counted(self) -> dict[str, float]:
        wanted = (
            "lumbung_stream_batch_seconds_count",
            "lumbung_events_in_total",
            "lumbung_events_out_total",
            "lumbung_gc_seconds_count",
            "lumbung_gc_seconds_sum",
            'lumbung_gc_seconds_bucket{generation="2"',
        )
        counted: dict[str, float] = {}
        pages = [(f"{s}-worker", f"127.0.0.1:{self.system.worker_port(s)}") for s in self.WORKERS]
        apis = ("inventory", "dashboard")
        pages += [(s, self.system.url(s).removeprefix("http://")) for s in apis]
        for process, where in pages:
            try:
                text = urllib.request.urlopen(f"http://{where}/metrics", timeout=10).read()
            except OSError:
                continue
            for line in text.decode().splitlines():
                if not line.startswith(wanted) or 'generation="0"' in line:
                    continue
                name, value = line.rsplit(" ", 1)
                if "_bucket" in name and 'le="0.05"' not in name and 'le="+Inf"' not in name:
                    continue
                name = name.replace("lumbung_stream_batch_seconds_count", "transactions")
                name = name.replace("lumbung_events_", "events_").replace("_total", "")
                name = name.replace("lumbung_gc_seconds", "gc").replace(f'service="{process}",', "")
                counted[f"{process} {name}"] = float(value)
        return counted

    def _cpu_now(self) -> dict[str, float]:
        """Seconds of CPU so far of each process of the stack, named by its command."""
        used: dict[str, float] = defaultdict(float)
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            name = self._named(argv)
            if name:
                used[name] += (int(fields[11]) + int(fields[12])) / self.TICKS
        return used

    @staticmethod
    def _named(argv: list[bytes]) -> str | None:
        line = b" ".join(argv).decode(errors="replace")
        if "kafka.Kafka" in line:
            return "broker"
        if "redis-server" in line:
            return "redis"
        for i, arg in enumerate(argv):
            base = os.path.basename(arg.decode(errors="replace"))
            if base.startswith("lumbung-") and i + 1 < len(argv):
                return f"{base} {argv[i + 1].decode()}"
        if "end_to_end.py" in line:
            return "load generator (this script)"
        return None


async def latency_curve(system: System, args: argparse.Namespace) -> None:
    """--latency-at 50,100,150: only the latency, at each of those rates (with --hops,
    split in its hops)."""
    cells = demo_cells()
    async with (
        watching(system, cells) as seen,
        Post(system.url("inventory"), {"X-API-Key": system.key}, args.clients) as ingest,
        Hops(system.env["KAFKA_BOOTSTRAP_SERVERS"]) as hops,
    ):
        profile = Profile(system)
        if args.warm_up:
            # A broker just started compiles its hot paths (C2) for a minute or more and
            # the latency then is the JIT's, not the pipeline's (docs/PERFORMANCE.md).
            await latency(ingest, seen, cells, args.latency_at[0], args.warm_up)
            if args.hops:
                await hops.report(seen)
        for rate in args.latency_at:
            if args.profile:
                await profile.start()
            measured = await latency(ingest, seen, cells, rate, args.latency_seconds)
            print(f"sale -> dashboard at {rate:,.0f} /s: {spread(measured)}", flush=True)
            if args.profile:
                print(await profile.report(seen), flush=True)
            if args.hops:
                print(await hops.report(seen), flush=True)


async def measure(system: System, args: argparse.Namespace, bare_url: str) -> Figures:
    figures = Figures()
    bootstrap = system.env["KAFKA_BOOTSTRAP_SERVERS"]
    figures.ceiling = await broker_ceiling(bootstrap, args.messages)
    print(f"1. broker ceiling: {figures.ceiling:,.0f} messages/s", flush=True)

    cells = demo_cells()
    async with Post(bare_url, {}, args.clients) as bare:
        await bare.flood(cells, 500, seed=0)  # warm up
        figures.bare = await bare.flood(cells, args.sales, seed=1)
    print(f"2. bare FastAPI: {figures.bare:,.0f} requests/s", flush=True)

    async with (
        watching(system, cells) as seen,
        Post(system.url("inventory"), {"X-API-Key": system.key}, args.clients) as ingest,
    ):
        await pipeline(ingest, seen, cells, 200, 1, seed=2)  # warm up
        figures.ingest, figures.pipeline = await pipeline(
            ingest, seen, cells, args.sales, 1, seed=3
        )
        print(
            f"3-4. one sale a request: {figures.ingest:,.0f} taken/s, "
            f"{figures.pipeline:,.0f} on the dashboard/s",
            flush=True,
        )
        # Latency before the batched run: after it, the workers still have work left for a
        # while (the median was 1 s there), and a backlog is not what this figure is about.
        await asyncio.sleep(5)
        rate = figures.pipeline / 2
        figures.latency = await latency(ingest, seen, cells, rate, args.latency_seconds)
        print(f"5. latency at {rate:,.0f} sales/s measured", flush=True)
        figures.batched_ingest, figures.batched_pipeline = await pipeline(
            ingest, seen, cells, args.sales, args.batch, seed=4
        )
        print(
            f"3-4. {args.batch} sales a request: {figures.batched_ingest:,.0f} taken/s, "
            f"{figures.batched_pipeline:,.0f} on the dashboard/s",
            flush=True,
        )
        figures.refused = ingest.refused
    figures.broker_latency = await broker_latency(bootstrap, rate, args.latency_seconds)
    figures.forecast_ticks = forecast_ticks(system)
    return figures


def forecast_ticks(system: System) -> tuple[int, float, float]:
    """The inventory worker's forecast ticks so far (issue 17), from its /metrics: how
    many ran, their mean seconds, and the bound their slowest stayed under (the
    histogram's bucket). A tick holds up its task's sales while it runs."""
    url = f"http://127.0.0.1:{system.worker_port('inventory')}/metrics"
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    label = 'service="inventory",tick="forecast"'
    count = total = 0.0
    buckets: list[tuple[float, float]] = []
    for line in text.splitlines():
        if label not in line:
            continue
        name, value = line.rsplit(" ", 1)
        if name.startswith("lumbung_stream_tick_seconds_count"):
            count = float(value)
        elif name.startswith("lumbung_stream_tick_seconds_sum"):
            total = float(value)
        elif name.startswith("lumbung_stream_tick_seconds_bucket"):
            bound = name.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float(bound), float(value)))
    slowest = min((b for b, n in buckets if n >= count), default=float("inf"))
    return int(count), total / count if count else 0.0, slowest


def report(figures: Figures, args: argparse.Namespace) -> str:
    f, batch = figures, f"{args.batch} sales a request"
    rates = [
        ("1. broker produce->consume, aiokafka acks=all", f.ceiling, "the ceiling"),
        ("2. bare FastAPI endpoint", f.bare, "the HTTP ceiling"),
        (
            "3. HTTP ingest, one sale a request",
            f.ingest,
            f"= {100 * f.ingest / f.bare:.0f} % of the bare endpoint",
        ),
        (
            f"   HTTP ingest, {batch}",
            f.batched_ingest,
            f"= {100 * f.batched_ingest / f.ceiling:.1f} % of the broker",
        ),
        (
            "4. pipeline to the dashboard, one sale a request",
            f.pipeline,
            f"= {100 * f.pipeline / f.ceiling:.1f} % of the broker, "
            f"{100 * f.pipeline / f.bare:.0f} % of the bare endpoint",
        ),
        (
            f"   pipeline to the dashboard, {batch}",
            f.batched_pipeline,
            f"= {100 * f.batched_pipeline / f.ceiling:.1f} % of the broker",
        ),
    ]
    p50 = statistics.median(f.latency) / statistics.median(f.broker_latency)
    rows = [
        f"{args.sales} sales of one line, {args.clients} HTTP clients, the demo catalog "
        f"({len(demo_cells())} outlet x SKU cells), {PARTITIONS} partitions, one broker",
        *(f"{label:<50}{rate:8,.0f} /s  {ratio}" for label, rate, ratio in rates),
        f"5. sale -> dashboard at {f.pipeline / 2:,.0f} /s:        {spread(f.latency)}",
        f"   aiokafka produce -> consume, same rate: {spread(f.broker_latency)}",
        f"   median = {p50:.0f} x the broker's",
    ]
    runs, mean, slowest = f.forecast_ticks
    rows.append(
        f"6. forecast tick (every {FORECAST_EVERY_S:.0f} s, each task): {runs} ran, "
        f"mean {1000 * mean:.1f} ms, all under {1000 * slowest:,.0f} ms: a forecast is at "
        f"most {FORECAST_EVERY_S + slowest:.1f} s old"
    )
    if f.refused:
        rows.append(f"refused sales (not 202): {f.refused}")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sales", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=200_000, help="for the broker ceiling")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--batch", type=int, default=25, help="sales a request, second run")
    parser.add_argument("--latency-seconds", type=float, default=30.0)
    parser.add_argument(
        "--latency-at",
        type=lambda text: [float(r) for r in text.split(",")],
        help="only the latency, at these rates (sales a second, comma-separated)",
    )
    parser.add_argument(
        "--hops", action="store_true", help="with --latency-at: the latency split in its hops"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="with --latency-at: each worker's transactions and events, each process's CPU",
    )
    parser.add_argument(
        "--warm-up",
        type=float,
        default=60.0,
        help="with --latency-at: seconds at the first rate before any is measured",
    )
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0

    free_port = importlib.import_module("stack").free_port  # stack/stack.py

    system = System(os.environ.get("LUMBUNG_STACK_NAME", "dev"), dict(os.environ))
    port = free_port()
    bare = subprocess.Popen(
        [sys.executable, __file__, "--serve-bare", str(port)], stdin=subprocess.DEVNULL
    )
    system.apps("up")
    try:
        if args.latency_at:
            uvloop.run(latency_curve(system, args))
            return 0
        _wait_for(f"http://127.0.0.1:{port}/docs")
        figures = uvloop.run(measure(system, args, f"http://127.0.0.1:{port}"))
    finally:
        system.apps("down")
        bare.terminate()
        bare.wait(timeout=30)
    print()
    print(report(figures, args))
    return 0


def _wait_for(url: str) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "stack"))
    sys.exit(main())
