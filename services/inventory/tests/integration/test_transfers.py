"""A transfer between outlets on different partitions, with the worker killed between
dispatch at the source and the count at the destination: in transit until counted, and
counted once."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kafka.partitioner import murmur2

from lumbung.contracts.events import inventory as inv

pytestmark = pytest.mark.broker


def partition_of(key: str, partitions: int = 6) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def test_a_transfer_interrupted_by_kill_9_arrives_exactly_once(
    events: Any, workers: Any, read_model: Any
) -> None:
    source = "GUDANG-A"
    destination = next(
        f"BOOTH-{i}" for i in range(100) if partition_of(f"BOOTH-{i}") != partition_of(source)
    )
    worker = workers()
    for outlet, qty in ((source, 50), (destination, 5)):
        count = inv.StockCounted(
            count_id=f"OPEN-{outlet}",
            outlet_id=outlet,
            kind=inv.CountKind.OPENING,
            counted_at=events.clock,
            lines=[inv.CountedLine(sku="KOPI", counted=qty)],
        )
        events.send("inventory.commands", outlet, events.envelope(count))
    events.flush()
    assert read_model.wait_for(lambda: len(read_model.on_hand([source, destination])) == 2)

    for n in range(3):
        transfer = inv.TransferRequested(
            transfer_id=f"T-{n}",
            from_outlet_id=source,
            to_outlet_id=destination,
            lines=[inv.TransferLine(sku="KOPI", qty=4)],
        )
        events.send("inventory.commands", source, events.envelope(transfer))
        events.flush()
        dispatched = 50 - 4 * (n + 1)
        read_model.wait_for(
            lambda d=dispatched: read_model.outlet(source)["KOPI"]["on_hand"] == d, seconds=30
        )
        worker.kill()
        worker = workers()
    # In transit: nothing at the destination until it counts what came (the count of
    # T-2 may come before its dispatch reaches the destination: the same outcome).
    time.sleep(3)
    assert read_model.on_hand([destination]) == {(destination, "KOPI"): 5}
    for n in range(3):
        counted = inv.TransferArrived(
            transfer_id=f"T-{n}",
            from_outlet_id=source,
            to_outlet_id=destination,
            lines=[inv.TransferLine(sku="KOPI", qty=4)],
            received_at=events.clock,
        )
        events.send("inventory.commands", destination, events.envelope(counted))
        events.flush()
        if n == 1:
            worker.kill()
            worker = workers()

    assert read_model.wait_for(
        lambda: (
            read_model.on_hand([source, destination])
            == {(source, "KOPI"): 38, (destination, "KOPI"): 17}
        ),
        seconds=90,
    )
    time.sleep(3)
    assert read_model.on_hand([source, destination]) == {
        (source, "KOPI"): 38,
        (destination, "KOPI"): 17,
    }
