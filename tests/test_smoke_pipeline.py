"""Foundation smoke test: an envelope produced with kafka-python (idempotent, acks=all)
is consumed by aiokafka and by a faust-streaming worker process, validated by the
contracts, and its effect is read back from Redis; bad bytes land on the DLQ and the
partition keeps flowing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer

from lumbung.contracts import (
    Registry,
    SaleLine,
    SaleRecorded,
    encode,
    make_event,
    sale_event_id,
)
from lumbung.platform.broker import durable_producer
from lumbung.platform.dlq import HEADER_ERROR, HEADER_TOPIC, DeadLetter

pytestmark = pytest.mark.broker
WITA = ZoneInfo("Asia/Makassar")
WORKER = Path(__file__).parent / "support" / "smoke_worker.py"


def sale_event(outlet: str, sku: str, qty: int) -> bytes:
    sale_id = uuid.uuid4().hex[:12]
    sale = SaleRecorded(
        sale_id=sale_id,
        outlet_id=outlet,
        sold_at=datetime.now(WITA),
        lines=[SaleLine(sku=sku, qty=qty, unit_price_idr=15_000)],
    )
    return encode(
        make_event(
            sale,
            event_id=sale_event_id(outlet, sale_id),
            occurred_at=datetime.now(WITA),
            producer=f"outlet:{outlet}",
            correlation_id=sale_id,
        )
    )


@pytest.fixture
def smoke_worker(
    kafka_bootstrap: str, redis_url: str, registry: Registry, tmp_path: Path
) -> Iterator[None]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "REDIS_URL": redis_url,
        "LUMBUNG_TOPIC_PREFIX": registry.prefix,
    }
    with open(tmp_path / "worker.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), "worker", "-l", "warn", "--without-web"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        yield
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def read_all(bootstrap: str, topic: str, count: int, timeout_s: float = 30) -> list:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    got: list = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(got) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                got.extend(records)
    finally:
        await consumer.stop()
    return got


async def wait_for_hash(url: str, key: str, field: str, expected: int, timeout_s: float) -> int:
    client = aioredis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + timeout_s
        value = 0
        while time.monotonic() < deadline:
            value = int(await client.hget(key, field) or 0)
            if value == expected:
                return value
            await asyncio.sleep(0.2)
        return value
    finally:
        await client.aclose()


async def test_sale_reaches_aiokafka_and_a_faust_worker_that_writes_redis(
    kafka_bootstrap: str, redis_url: str, registry: Registry, smoke_worker: None
) -> None:
    producer = durable_producer(kafka_bootstrap)
    raw = sale_event("IKN-01", "AMPLANG-250", 3)
    producer.send(registry.name("pos.sales"), key=b"IKN-01", value=raw).get(timeout=15)

    [record] = await read_all(kafka_bootstrap, registry.name("pos.sales"), 1)
    parsed = registry.parse(record.value)
    assert parsed.event_type == "pos.SaleRecorded"
    assert parsed.data.lines[0].qty == 3
    assert record.key == b"IKN-01"

    sold = await wait_for_hash(
        redis_url, f"smoke:{registry.prefix}:sold", "IKN-01:AMPLANG-250", 3, timeout_s=90
    )
    assert sold == 3
    producer.close()


async def test_unparseable_bytes_go_to_the_dlq_and_the_partition_keeps_flowing(
    kafka_bootstrap: str, redis_url: str, registry: Registry, smoke_worker: None
) -> None:
    producer = durable_producer(kafka_bootstrap)
    topic = registry.name("pos.sales")
    producer.send(topic, key=b"RA-KM47", value=b"\x00not json{").get(timeout=15)
    producer.send(topic, key=b"RA-KM47", value=sale_event("RA-KM47", "MADU-KELULUT", 2)).get(15)

    sold = await wait_for_hash(
        redis_url, f"smoke:{registry.prefix}:sold", "RA-KM47:MADU-KELULUT", 2, timeout_s=90
    )
    [dead] = await read_all(kafka_bootstrap, registry.name("inventory.dlq"), 1)

    assert sold == 2
    letter = DeadLetter.from_headers(dead.key, dead.value, list(dead.headers))
    assert letter.value == b"\x00not json{"
    assert letter.topic == topic
    assert dict(dead.headers)[HEADER_TOPIC] == topic.encode()
    assert b"not valid JSON" in dict(dead.headers)[HEADER_ERROR]
    producer.close()
