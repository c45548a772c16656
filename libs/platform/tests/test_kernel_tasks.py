"""The stream kernel's tasks, without a broker: which worker gets which input partitions,
and which fetched records a batch may apply after inputs were sought back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aiokafka import TopicPartition
from aiokafka.coordinator.protocol import ConsumerProtocolMemberMetadata

from lumbung.contracts import Registry
from lumbung.contracts.events import pos
from lumbung.platform.kernel import Kernel, Stream, TaskAssignor, _Rebalance, _Task

INPUTS = ("pos.sales", "inventory.commands", "restock.acks", "inventory.orders-by-outlet")


class Cluster:
    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(6))


def test_every_input_partition_of_a_task_goes_to_one_worker_whatever_the_worker_count() -> None:
    for workers in range(1, 8):
        members = {
            f"worker-{n}": ConsumerProtocolMemberMetadata(0, list(INPUTS), b"")
            for n in range(workers)
        }
        assignment = TaskAssignor.assign(Cluster(), members)

        owners: dict[int, set[str]] = {}
        for member, given in assignment.items():
            for topic, partitions in given.assignment:
                assert topic in INPUTS
                for number in partitions:
                    owners.setdefault(number, set()).add(member)
        assert sorted(owners) == list(range(6))
        # One owner per task (round robin split tasks over 2 workers at 4 or 5 of them).
        assert all(len(owner) == 1 for owner in owners.values()), (workers, owners)
        counts = [sum(1 for owner in owners.values() if m in owner) for m in members]
        assert max(counts) - min(counts) <= 1


class Consumer:
    """What `Kernel._apply` asks of the consumer."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        self.stopped: set[TopicPartition] = set()

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    def pause(self, *partitions: TopicPartition) -> None:
        self.stopped.update(partitions)

    def paused(self) -> set[TopicPartition]:
        return set(self.stopped)

    def last_stable_offset(self, tp: TopicPartition) -> int | None:
        return None

    async def position(self, tp: TopicPartition) -> int:
        return 0


def records(tp: TopicPartition, first: int, count: int) -> list[Any]:
    return [
        SimpleNamespace(topic=tp.topic, partition=tp.partition, offset=o, timestamp=o, key=b"k")
        for o in range(first, first + count)
    ]


def test_a_batch_leaves_out_only_the_inputs_sought_back_after_it_was_taken() -> None:
    registry = Registry()
    stream = Stream("inventory", "stock", ("pos.sales",), {pos.SaleRecorded: lambda *a: None})
    kernel = Kernel(stream, registry, "127.0.0.1:1")
    sales = [TopicPartition(registry.name("pos.sales"), n) for n in range(3)]
    kernel._consumer = Consumer(set(sales))  # type: ignore[assignment]
    for n in range(3):
        # Two transactions in flight: the batch is only buffered, nothing is sent.
        kernel._tasks[n] = _Task(n, producer=None, pending=2)  # type: ignore[arg-type]
    taken = kernel._seeks
    kernel._seeks += 1
    kernel._sought[sales[0]] = kernel._seeks  # a rebalance once the batch was taken
    kernel._sought[sales[1]] = taken  # sought before: what came is from there

    batch = {tp: records(tp, 100, 5) for tp in sales}
    asyncio.run(kernel._apply(batch, taken))

    assert sales[0] not in kernel._buffered  # from before the seek: fetched again
    assert [r.offset for r in kernel._buffered[sales[1]]] == [100, 101, 102, 103, 104]
    assert [r.offset for r in kernel._buffered[sales[2]]] == [100, 101, 102, 103, 104]


def test_the_assignment_callback_returns_at_once_while_a_batch_holds_the_kernel() -> None:
    """aiokafka sends no heartbeat until `on_partitions_assigned` returns. The kernel waited
    there for its lock (a batch committing, tasks opening): after a 20 s broker stall that
    took longer than the session timeout, the worker was dropped from the group, rejoined
    and was dropped again, for minutes (CI, 2026-12-03). It only takes note now, and
    pauses the inputs until the main loop takes the assignment up."""
    registry = Registry()
    stream = Stream("inventory", "stock", ("pos.sales",), {pos.SaleRecorded: lambda *a: None})
    kernel = Kernel(stream, registry, "127.0.0.1:1")
    sales = {TopicPartition(registry.name("pos.sales"), n) for n in range(3)}
    consumer = Consumer(sales)
    kernel._consumer = consumer  # type: ignore[assignment]

    async def rebalance_during_a_batch() -> None:
        async with kernel._lock:  # the main loop, in a batch
            await asyncio.wait_for(_Rebalance(kernel).on_partitions_assigned(sales), 1.0)

    asyncio.run(rebalance_during_a_batch())
    assert kernel._assignment == sales
    assert consumer.paused() == sales


def test_the_kernel_offers_the_group_one_assignor() -> None:
    """aiokafka 0.14 sends one JoinGroup per assignor offered, each with a longer protocol
    list; the broker takes the second for changed metadata and rebalances again. With
    (TaskAssignor, RoundRobin), two workers joining at once after a broker stall
    rebalanced each other hundreds of times a minute (reproduced with SIGSTOP)."""
    registry = Registry()
    stream = Stream("inventory", "stock", ("pos.sales",), {pos.SaleRecorded: lambda *a: None})
    options = Kernel(stream, registry, "127.0.0.1:1").consumer_options()
    assert options["partition_assignment_strategy"] == (TaskAssignor,)


def test_a_lingering_stream_asks_the_broker_to_hold_its_fetch_and_others_do_not() -> None:
    """A stream nobody waits on (the books) takes fewer, larger batches; the sales' own
    path answers at once (aiokafka's defaults)."""
    from dataclasses import replace

    registry = Registry()
    stream = Stream("books", "ledgers", ("pos.sales",), {pos.SaleRecorded: lambda *a: None})
    eager = Kernel(stream, registry, "127.0.0.1:1").consumer_options()
    lazy = Kernel(replace(stream, linger_ms=1000), registry, "127.0.0.1:1").consumer_options()
    assert "fetch_max_wait_ms" not in eager
    assert "fetch_min_bytes" not in eager
    assert (lazy["fetch_max_wait_ms"], lazy["fetch_min_bytes"]) == (1000, 1024 * 1024)


def test_a_commit_asks_again_soon_when_the_last_one_s_markers_are_still_being_written() -> None:
    """A transaction started right after the last commit mostly finds its coordinator
    still writing that commit's markers; aiokafka waited 20 ms (AddPartitionsToTxn) and
    100 ms (the produce, answered NotEnoughReplicas) before asking again, a third of a
    commit's time. The kernel's producers ask again sooner. If an aiokafka upgrade renames
    the constant, this fails rather than the latency quietly coming back."""
    from aiokafka.producer import sender

    from lumbung.platform import kernel as kernel_module

    assert "return BACKOFF_OVERRIDE" in Path(sender.__file__).read_text()
    assert sender.BACKOFF_OVERRIDE == kernel_module.CONCURRENT_TXN_BACKOFF_S <= 0.005
    registry = Registry()
    stream = Stream("inventory", "stock", ("pos.sales",), {pos.SaleRecorded: lambda *a: None})
    options = Kernel(stream, registry, "127.0.0.1:1").producer_options(3)
    assert options["retry_backoff_ms"] == kernel_module.TXN_RETRY_BACKOFF_MS <= 20
    assert options["transactional_id"].endswith("-3")
