"""What one stream-kernel commit costs on the broker, step by step: transactions back to
back on one transactional producer, each one record out and the input offset, then the
time until a `read_committed` reader has the record.

    scripts/with-stack.sh .venv/bin/python bench/commit_steps.py [--transactions 400]
        [--offsets group|changelog] [--backoff aiokafka|kernel]

--offsets group: the offset with `send_offsets_to_transaction` (AddOffsetsToTxn, then
TxnOffsetCommit); changelog: as a record on a second partition, as the kernel keeps it.
--backoff aiokafka: its defaults (20 ms after CONCURRENT_TRANSACTIONS, `retry_backoff_ms`
100); kernel: the kernel's (5 ms and 20 ms). It prints the time of each step and of each
kind of request the producer sent (a request asked again counts each time).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.producer import sender
from kafka.admin import NewTopic

from lumbung.platform.broker import create_missing
from lumbung.platform.kernel import CONCURRENT_TXN_BACKOFF_S, TXN_RETRY_BACKOFF_MS

AIOKAFKA_CONCURRENT_TXN_BACKOFF_S = 0.02


def spread(values: list[float]) -> str:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return f"p50 {at(0.5):6.1f}  p95 {at(0.95):6.1f}  p99 {at(0.99):6.1f} ms  (n={len(ordered)})"


def count_requests() -> dict[str, list[float]]:
    """Every transactional request the producer's sender makes, timed by kind."""
    timed: dict[str, list[float]] = defaultdict(list)
    plain = sender.BaseHandler.do

    async def do(self: Any, node_id: int) -> Any:
        began = time.perf_counter()
        try:
            return await plain(self, node_id)
        finally:
            timed[type(self).__name__].append((time.perf_counter() - began) * 1000)

    sender.BaseHandler.do = do
    return timed


async def main(args: argparse.Namespace) -> None:
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    name = f"bench-commit-{uuid.uuid4().hex[:8]}"
    inputs, out = f"{name}-in", f"{name}-out"
    create_missing(bootstrap, [NewTopic(inputs, 1, 1), NewTopic(out, 2, 1)])
    if args.backoff == "aiokafka":
        sender.BACKOFF_OVERRIDE = AIOKAFKA_CONCURRENT_TXN_BACKOFF_S
        retry_backoff_ms = 100
    else:
        sender.BACKOFF_OVERRIDE = CONCURRENT_TXN_BACKOFF_S
        retry_backoff_ms = TXN_RETRY_BACKOFF_MS
    timed = count_requests()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        transactional_id=name,
        enable_idempotence=True,
        acks="all",
        linger_ms=0,
        retry_backoff_ms=retry_backoff_ms,
    )
    await producer.start()
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, isolation_level="read_committed", group_id=None
    )
    await reader.start()
    reader.assign([TopicPartition(out, 0)])
    await reader.seek_to_end(TopicPartition(out, 0))
    readable: dict[bytes, float] = {}

    async def read() -> None:
        while True:
            for records in (await reader.getmany(timeout_ms=1000)).values():
                now = time.perf_counter()
                for record in records:
                    readable[record.value] = now

    reading = asyncio.create_task(read())
    await asyncio.sleep(1.0)
    timed.clear()  # InitProducerId and the first look-ups are not a commit's
    steps: dict[str, list[float]] = defaultdict(list)
    began_at: dict[bytes, float] = {}
    for n in range(args.transactions):
        value = str(n).encode()
        began = time.perf_counter()
        await producer.begin_transaction()
        sent = await producer.send(out, value, partition=0)
        if args.offsets == "group":
            await producer.send_offsets_to_transaction({TopicPartition(inputs, 0): n + 1}, name)
        else:
            await producer.send(out, str(n + 1).encode(), key=b"~offsets|in", partition=1)
        await sent
        sends_done = time.perf_counter()
        await producer.commit_transaction()
        done = time.perf_counter()
        began_at[value] = began
        steps["sends and offsets"].append((sends_done - began) * 1000)
        steps["EndTxn"].append((done - sends_done) * 1000)
        steps["whole commit"].append((done - began) * 1000)
    await asyncio.sleep(2.0)
    steps["begin -> readable"] = [
        (readable[v] - at) * 1000 for v, at in began_at.items() if v in readable
    ]
    reading.cancel()
    await reader.stop()
    await producer.stop()
    print(
        f"{args.transactions} transactions, offsets on the {args.offsets}, {args.backoff} backoff:"
    )
    for step, values in steps.items():
        print(f"  {step:20s} {spread(values)}")
    for kind, values in sorted(timed.items()):
        per = len(values) / args.transactions
        print(f"  {kind:28s} {per:4.2f} a transaction, {spread(values)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transactions", type=int, default=400)
    parser.add_argument("--offsets", choices=("group", "changelog"), default="changelog")
    parser.add_argument("--backoff", choices=("aiokafka", "kernel"), default="kernel")
    asyncio.run(main(parser.parse_args()))
