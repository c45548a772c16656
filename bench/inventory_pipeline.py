"""Benchmark: sale lines per second through the inventory worker into the Redis read
model, beside the raw aiokafka consume rate of the same events on the same broker.

    make bench                      (starts a private Kafka and Redis, runs this, stops them)
    .venv/bin/python bench/inventory_pipeline.py --events 50000 --outlets 200 --skus 500

Prints the figures; docs/PERFORMANCE.md records them with the command that produced them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import redis
from aiokafka import AIOKafkaConsumer, TopicPartition

from lumbung.contracts import Registry, encode, make_event, sale_event_id
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.platform.broker import durable_producer, ensure_topics

WITA = ZoneInfo("Asia/Makassar")


def sale_events(n: int, outlets: list[str], skus: list[str], seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    now = datetime.now(WITA)
    out = []
    for i in range(n):
        outlet = rng.choice(outlets)
        sale = pos.SaleRecorded(
            sale_id=f"B{i}",
            outlet_id=outlet,
            sold_at=now,
            lines=[pos.SaleLine(sku=rng.choice(skus), qty=1, unit_price_idr=10_000)],
        )
        out.append(
            (
                outlet,
                encode(
                    make_event(
                        sale,
                        event_id=sale_event_id(outlet, f"B{i}"),
                        occurred_at=now,
                        producer="bench",
                        correlation_id=f"B{i}",
                    )
                ),
            )
        )
    return out


async def raw_rate(bootstrap: str, topic: str, expected: int) -> float:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, max_poll_records=5000
    )
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(6)]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    got = 0
    started = time.perf_counter()
    while got < expected:
        for records in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
            for record in records:
                orjson.loads(record.value)
                got += 1
    elapsed = time.perf_counter() - started
    await consumer.stop()
    return got / elapsed


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--outlets", type=int, default=200)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    bootstrap, redis_url = os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["REDIS_URL"]
    registry = Registry(prefix=f"bench{uuid.uuid4().hex[:6]}")
    ensure_topics(bootstrap, registry)
    outlets = [f"OUT-{i:03d}" for i in range(args.outlets)]
    skus = [f"SKU-{i:03d}" for i in range(args.skus)]
    producer = durable_producer(bootstrap)
    store = redis.Redis.from_url(redis_url)

    with tempfile.TemporaryDirectory() as data, open(Path(data) / "worker.log", "wb") as log:
        env = {
            **os.environ,
            "LUMBUNG_TOPIC_PREFIX": registry.prefix,
            "LUMBUNG_DATA_DIR": data,
            "LUMBUNG_LOG_LEVEL": "WARNING",
        }
        profile = (
            ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]]
            if os.environ.get("BENCH_PROFILE")
            else []
        )
        worker = subprocess.Popen(
            [sys.executable, *profile, "-m", "lumbung.inventory", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            now = datetime.now(WITA)
            for outlet in outlets:
                count = inv.StockCounted(
                    count_id="OPEN",
                    outlet_id=outlet,
                    kind="opening",
                    counted_at=now,
                    lines=[inv.CountedLine(sku=s, counted=1000) for s in skus],
                )
                producer.send(
                    registry.name("inventory.commands"),
                    key=outlet.encode(),
                    value=encode(
                        make_event(
                            count,
                            event_id=uuid.uuid4(),
                            occurred_at=now,
                            producer="bench",
                            correlation_id="open",
                        )
                    ),
                )
            producer.flush()
            key = f"{registry.prefix}:inv:outlet:{outlets[-1]}"
            while store.hlen(key) < len(skus):
                time.sleep(0.5)
            print(f"opening stock applied: {args.outlets} outlets x {args.skus} SKUs")

            events = sale_events(args.events, outlets, skus, args.seed)
            expected_versions = {o: 0 for o in outlets}
            for outlet, _ in events:
                expected_versions[outlet] += 1
            started = time.perf_counter()
            for outlet, raw in events:
                producer.send(registry.name("pos.sales"), key=outlet.encode(), value=raw)
            producer.flush()
            produced = time.perf_counter() - started

            def applied() -> int:
                total = 0
                for outlet in outlets:
                    values = store.hvals(f"{registry.prefix}:inv:outlet:{outlet}")
                    total += sum(orjson.loads(v)["version"] for v in values) - len(values)
                return total

            while applied() < args.events:
                time.sleep(0.2)
            pipeline = time.perf_counter() - started
            memory = peak_rss_mib(worker.pid)
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    ceiling = asyncio.run(raw_rate(bootstrap, registry.name("pos.sales"), args.events))
    rate = args.events / pipeline
    print(
        f"events: {args.events} sale lines, {args.outlets} outlets x {args.skus} SKUs, 6 partitions"
    )
    print(f"produce (kafka-python, acks=all):           {args.events / produced:10.0f} /s")
    print(f"raw consume + JSON parse (aiokafka):        {ceiling:10.0f} /s  (the ceiling)")
    print(
        f"pipeline POS event -> worker -> Redis:      {rate:10.0f} /s  "
        f"= {100 * rate / ceiling:.1f} % of the ceiling"
    )
    print(f"worker peak memory (VmHWM):                 {memory:10.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
