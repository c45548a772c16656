"""What the stream kernel relies on from Kafka's transactions, proved on the project's own
broker with aiokafka (docs/decisions.md, "The stream kernel"): commit and abort as
`read_committed` and `read_uncommitted` readers see them, input offsets committed inside
the transaction, a crashed producer's open transaction aborted by its successor, and a
second producer with the same `transactional_id` fencing the first."""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError, ProducerFenced
from kafka.admin import NewTopic

from lumbung.platform.broker import create_missing

pytestmark = pytest.mark.broker


def new_topic(bootstrap: str, partitions: int = 1) -> str:
    name = f"spike-{uuid.uuid4().hex[:10]}"
    create_missing(bootstrap, [NewTopic(name, partitions, 1)])
    return name


def transactional(bootstrap: str, transactional_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, transactional_id=transactional_id, enable_idempotence=True
    )


async def values(bootstrap: str, topic: str, isolation: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, isolation_level=isolation, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        out: list[bytes] = []
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(tp, timeout_ms=1000)).values():
                out += [r.value for r in records if r.value is not None]
        return out
    finally:
        await consumer.stop()


async def test_committed_writes_are_seen_and_aborted_ones_only_by_uncommitted_readers(
    kafka_bootstrap: str,
) -> None:
    topic = new_topic(kafka_bootstrap)
    producer = transactional(kafka_bootstrap, f"spike-{uuid.uuid4().hex}")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send(topic, b"kept")
        await producer.begin_transaction()
        await producer.send_and_wait(topic, b"aborted")
        await producer.abort_transaction()
    finally:
        await producer.stop()
    assert await values(kafka_bootstrap, topic, "read_committed") == [b"kept"]
    assert await values(kafka_bootstrap, topic, "read_uncommitted") == [b"kept", b"aborted"]


async def test_input_offsets_commit_with_the_transaction_and_not_without_it(
    kafka_bootstrap: str,
) -> None:
    topic, group = new_topic(kafka_bootstrap), f"spike-{uuid.uuid4().hex}"
    tp = TopicPartition(topic, 0)
    producer = transactional(kafka_bootstrap, f"spike-{uuid.uuid4().hex}")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_offsets_to_transaction({tp: 7}, group)
        await producer.begin_transaction()
        await producer.send_offsets_to_transaction({tp: 9}, group)
        await producer.abort_transaction()
    finally:
        await producer.stop()
    reader = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group)
    await reader.start()
    try:
        assert await reader.committed(tp) == 7
    finally:
        await reader.stop()


CRASH_MID_TRANSACTION = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from aiokafka import AIOKafkaProducer

    async def main():
        bootstrap, topic, tid = sys.argv[1:4]
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=tid)
        await producer.start()
        await producer.begin_transaction()
        await producer.send_and_wait(topic, b"never committed")
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
    """
)


async def test_a_successor_aborts_the_open_transaction_of_a_killed_producer(
    kafka_bootstrap: str,
) -> None:
    topic, tid = new_topic(kafka_bootstrap), f"spike-{uuid.uuid4().hex}"
    crashed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASH_MID_TRANSACTION, kafka_bootstrap, topic, tid
    )
    assert await asyncio.wait_for(crashed.wait(), timeout=60) == -signal.SIGKILL
    successor = transactional(kafka_bootstrap, tid)
    await successor.start()  # init_transactions: bumps the epoch, aborts what was open
    try:
        async with successor.transaction():
            await successor.send(topic, b"after the crash")
    finally:
        await successor.stop()
    # A read_committed reader is not held at the crashed transaction's start until it
    # times out: the successor ended it, and only its own write is seen.
    assert await asyncio.wait_for(values(kafka_bootstrap, topic, "read_committed"), timeout=30) == [
        b"after the crash"
    ]
    assert b"never committed" in await values(kafka_bootstrap, topic, "read_uncommitted")


async def zombie_writes_again(zombie: AIOKafkaProducer, topic: str) -> None:
    await zombie.send_and_wait(topic, b"zombie again")
    await zombie.commit_transaction()


async def test_a_second_producer_with_the_same_id_fences_the_first(kafka_bootstrap: str) -> None:
    topic, tid = new_topic(kafka_bootstrap), f"spike-{uuid.uuid4().hex}"
    zombie, successor = transactional(kafka_bootstrap, tid), transactional(kafka_bootstrap, tid)
    await zombie.start()
    try:
        await zombie.begin_transaction()
        await zombie.send_and_wait(topic, b"zombie")
        await successor.start()
        async with successor.transaction():
            await successor.send(topic, b"successor")
        with pytest.raises((ProducerFenced, KafkaError)):
            await zombie_writes_again(zombie, topic)
    finally:
        await successor.stop()
        await zombie.stop()
    assert await values(kafka_bootstrap, topic, "read_committed") == [b"successor"]
