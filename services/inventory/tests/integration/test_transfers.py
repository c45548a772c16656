"""A transfer between outlets on different partitions, with the worker killed between
dispatch at the source and the count at the destination: in transit until counted, and
counted once."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
from kafka.partitioner import murmur2

from lumbung.contracts.events import inventory as inv
from lumbung.platform.clock import WITA

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


def test_a_transfer_never_received_is_flagged_to_ops_once(
    inventory_api: Any,
    demo_catalog: dict[str, str],
    workers: Any,
    shift_clock: Any,
    read_model: Any,
    on_topic: Any,
) -> None:
    """Sent from the rest area at KM 47 to the IKN kiosk (a few hours by road), and never
    counted there: a day later it is still in transit, and ops hear of it once."""
    workers()
    source, destination, sku = "RA-KM47", "IKN-01", "KERIPIK-PISANG-200"
    counted = inventory_api.post(
        f"/v1/outlets/{source}/counts",
        json={"count_id": "OPEN-RA", "kind": "opening", "lines": [{"sku": sku, "counted": 40}]},
    )
    assert counted.status_code == 202, counted.text
    sent = inventory_api.post(
        "/v1/transfers",
        json={
            "transfer_id": "TRF-LOST",
            "from_outlet_id": source,
            "to_outlet_id": destination,
            "lines": [{"sku": sku, "qty": 12}],
        },
    )
    assert sent.status_code == 202, sent.text
    assert read_model.wait_for(lambda: read_model.outlet(source).get(sku, {}).get("on_hand") == 28)
    [dispatched] = on_topic("inventory.commands", "inventory.TransferDispatched", wait_for=1)
    expected = datetime.fromisoformat(dispatched["data"]["expected_at"])
    assert on_topic("inventory.alerts", "inventory.TransferOverdue") == []

    shift_clock((expected - datetime.now(WITA)).total_seconds() + 3600)
    [overdue] = on_topic("inventory.alerts", "inventory.TransferOverdue", wait_for=1)
    assert (overdue["data"]["transfer_id"], overdue["data"]["to_outlet_id"]) == (
        "TRF-LOST",
        destination,
    )
    assert read_model.outlet(destination).get(sku, {}).get("on_hand", 0) == 0  # in transit
    time.sleep(12)  # the next ticks: not again
    assert len(on_topic("inventory.alerts", "inventory.TransferOverdue")) == 1
