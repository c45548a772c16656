"""The stream kernel's tasks, without a broker: which worker gets which input partitions,
and which fetched records a batch may apply after inputs were sought back."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from aiokafka import TopicPartition
from aiokafka.coordinator.protocol import ConsumerProtocolMemberMetadata

from lumbung.contracts import Registry
from lumbung.contracts.events import pos
from lumbung.platform.kernel import Kernel, Stream, TaskAssignor, _Task

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

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    def paused(self) -> set[TopicPartition]:
        return set()

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
