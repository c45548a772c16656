"""Where the stream kernel keeps a task's input offsets, on a real broker: on the task's
changelog, in the transaction that applied up to them (two round trips fewer a commit than
`send_offsets_to_transaction`), then with the consumer group for whoever watches its lag.
A worker started again resumes exactly there; a group ahead of the changelog (a task last
committed by an older version, which kept them only with the group) wins."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from lumbung.contracts import Registry
from lumbung.contracts.events import pos
from lumbung.platform.kernel import OFFSET_PREFIX, Kernel, Outcome, Stream
from lumbung.platform.testing import encoded_sale, read_records

NOW = datetime(2026, 7, 14, 10, 0, tzinfo=UTC)


def count_units(state: Mapping[str, Any], event: Any, now: datetime) -> Outcome:
    units = state.get("units", 0) + sum(line.qty for line in event.data.lines)
    return Outcome({"units": units})


async def send_sales(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for _ in range(count):
            value = encoded_sale(uuid.uuid4().hex, qty=1, at=NOW)
            await producer.send(topic, value, key=b"IKN-01", partition=0)
        await producer.flush()
    finally:
        await producer.stop()


async def run_until(kernel: Kernel, units: int, seconds: float = 60) -> None:
    """Run the kernel until its changelog holds `units` and its group has the offsets
    beside them (shared after the commit), then stop it as a worker stops. The changelog
    is read in a thread: the kernel's loop goes on meanwhile."""
    running = asyncio.create_task(kernel.run())
    deadline = time.monotonic() + seconds
    try:
        while not await reached(kernel, units):
            assert not running.done(), running.exception()
            assert time.monotonic() < deadline, "the kernel did not get there in time"
            await asyncio.sleep(0.1)
    finally:
        kernel.stop()
        await asyncio.wait_for(running, 30)


async def reached(kernel: Kernel, units: int) -> bool:
    held, offsets = await asyncio.to_thread(units_on, kernel.bootstrap, kernel.changelog)
    if held < units:
        return False
    for topic, offset in offsets.items():
        tp = TopicPartition(topic, 0)
        if await group_offset(kernel.bootstrap, kernel.group_id, tp) != offset:
            return False
    return True


def units_on(bootstrap: str, changelog: str) -> tuple[int, dict[str, int]]:
    """The last committed `units` of partition 0, and the offsets beside it."""
    units, offsets = 0, {}
    for record in read_records(bootstrap, changelog):
        key = record.key.decode()
        if record.partition != 0 or record.value is None:
            continue
        if key == "units":
            units = orjson.loads(record.value)
        elif key.startswith(OFFSET_PREFIX):
            offsets[key[len(OFFSET_PREFIX) :]] = orjson.loads(record.value)
    return units, offsets


async def group_offset(bootstrap: str, group: str, tp: TopicPartition) -> int | None:
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await reader.start()
    try:
        at = await reader.committed(tp)
        return None if at is None else int(at)
    finally:
        await reader.stop()


def counting(registry: Registry) -> tuple[Stream, str, TopicPartition]:
    """A stream of its own counting units sold, its input, and that input's partition 0."""
    name = f"offsets-{uuid.uuid4().hex[:6]}"
    stream = Stream("inventory", name, ("pos.sales",), {pos.SaleRecorded: count_units})
    sales = registry.name("pos.sales")
    return stream, sales, TopicPartition(sales, 0)


def test_offsets_commit_on_the_changelog_and_a_restarted_worker_resumes_there(
    kafka_bootstrap: str, registry: Registry
) -> None:
    stream, sales, tp = counting(registry)

    async def scenario() -> None:
        await send_sales(kafka_bootstrap, sales, 30)
        first = Kernel(stream, registry, kafka_bootstrap)
        await run_until(first, 30)
        units, offsets = units_on(kafka_bootstrap, first.changelog)
        assert (units, offsets) == (30, {sales: 30})
        # Shared with the group after the commit.
        assert await group_offset(kafka_bootstrap, first.group_id, tp) == 30

        await send_sales(kafka_bootstrap, sales, 12)
        second = Kernel(stream, registry, kafka_bootstrap)
        await run_until(second, 42)
        await asyncio.sleep(1.0)  # anything applied twice would have committed by now
        assert units_on(kafka_bootstrap, second.changelog) == (42, {sales: 42})
        assert await group_offset(kafka_bootstrap, second.group_id, tp) == 42

    asyncio.run(scenario())


def test_a_group_ahead_of_the_changelog_wins_so_an_older_version_s_commits_are_not_redone(
    kafka_bootstrap: str, registry: Registry
) -> None:
    """An older kernel committed input offsets only with the group. A task it committed
    last has offsets on its changelog older than the group's (or none): applying from the
    changelog's would apply its last records twice."""
    stream, sales, tp = counting(registry)

    async def scenario() -> None:
        await send_sales(kafka_bootstrap, sales, 10)
        first = Kernel(stream, registry, kafka_bootstrap)
        await run_until(first, 10)
        # The older version: 5 more applied, the state and the group's offset in one
        # transaction, nothing on the changelog's offsets key.
        await send_sales(kafka_bootstrap, sales, 5)
        older = AIOKafkaProducer(
            bootstrap_servers=kafka_bootstrap, transactional_id=f"{first.group_id}-0"
        )
        await older.start()
        try:
            async with older.transaction():
                await older.send(first.changelog, orjson.dumps(15), key=b"units", partition=0)
                await older.send_offsets_to_transaction({tp: 15}, first.group_id)
        finally:
            await older.stop()
        await send_sales(kafka_bootstrap, sales, 3)
        second = Kernel(stream, registry, kafka_bootstrap)
        await run_until(second, 18)
        await asyncio.sleep(1.0)
        assert units_on(kafka_bootstrap, second.changelog) == (18, {sales: 18})

    asyncio.run(scenario())


def ignore(state: Mapping[str, Any], event: Any, now: datetime) -> Outcome:
    return Outcome()


def test_events_of_no_concern_share_a_transaction_a_second_and_their_offsets_still_commit(
    kafka_bootstrap: str, registry: Registry
) -> None:
    """A stream without state that writes nothing for what it reads (the notifications
    router and the flags it does not route) commits their offsets with its next
    transaction, at most `OFFSETS_ONLY_EVERY_S` later: not one transaction each. The
    group's offset still reaches the end, so a restart reads again at most that much."""
    name = f"ignoring-{uuid.uuid4().hex[:6]}"
    stream = Stream(
        "notifications", name, ("pos.sales",), {pos.SaleRecorded: ignore}, stateful=False
    )
    sales = registry.name("pos.sales")
    tp = TopicPartition(sales, 0)

    async def scenario() -> None:
        kernel = Kernel(stream, registry, kafka_bootstrap)
        running = asyncio.create_task(kernel.run())
        try:
            await send_sales(kafka_bootstrap, sales, 1)  # the topic exists, offsets known
            start = await group_offset_when(kafka_bootstrap, kernel, tp, lambda at: at >= 1)
            began = time.monotonic()
            for _ in range(30):  # a trickle: a batch each, were they committed one by one
                await send_sales(kafka_bootstrap, sales, 1)
                await asyncio.sleep(0.05)
            await group_offset_when(kafka_bootstrap, kernel, tp, lambda at: at == start + 30)
            seconds = time.monotonic() - began
            assert not running.done(), running.exception()
        finally:
            kernel.stop()
            await asyncio.wait_for(running, 30)
        # One commit for the first event, then about one a second (OFFSETS_ONLY_EVERY_S):
        # never one an event.
        assert kernel.commits <= 2 + seconds, (kernel.commits, seconds)

    asyncio.run(scenario())


async def group_offset_when(
    bootstrap: str, kernel: Kernel, tp: TopicPartition, good: Any, seconds: float = 60
) -> int:
    deadline = time.monotonic() + seconds
    while True:
        at = await group_offset(bootstrap, kernel.group_id, tp)
        if at is not None and good(at):
            return at
        assert time.monotonic() < deadline, f"the group's offset stayed at {at}"
        await asyncio.sleep(0.2)
