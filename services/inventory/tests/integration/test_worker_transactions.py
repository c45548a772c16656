"""The inventory worker's transactions under the faults they exist for, on the real broker:
a crash between its sends and its commit, and a zombie that wakes up after its partitions
moved to another worker. Stock is checked against the recomputation from the facts
(`test_worker_invariants.recompute`), derived events against what each reader sees."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from lumbung.contracts import Registry
from lumbung.platform.broker import client_security
from lumbung.platform.kernel import CRASH_BEFORE_COMMIT
from services.inventory.tests.integration.test_worker_invariants import (
    converged,
    mismatches,
    open_outlets,
    run_mixed,
    send_opening,
)

pytestmark = pytest.mark.broker


def stock_changed(kafka_bootstrap: str, topic: str, isolation: str) -> list[dict[str, Any]]:
    """Every record on `topic` as a reader with `isolation` sees it: event ids and values."""
    import orjson

    consumer = KafkaConsumer(
        **client_security(),
        bootstrap_servers=kafka_bootstrap,
        enable_auto_commit=False,
        isolation_level=isolation,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        out: list[dict[str, Any]] = []
        while True:
            batch = consumer.poll(timeout_ms=3000)
            if not batch:
                return out
            for records in batch.values():
                out += [orjson.loads(r.value) for r in records if r.value]
    finally:
        consumer.close()


def once_each(events: list[dict[str, Any]]) -> dict[str, int]:
    """Derived event ids seen more than once (none, when every reader counts once)."""
    return {i: n for i, n in Counter(e["event_id"] for e in events).items() if n > 1}


def test_a_crash_between_the_sends_and_the_commit_shows_nothing_to_committed_readers(
    kafka_bootstrap: str,
    registry: Registry,
    events: Any,
    workers: Any,
    worker_env: dict[str, str],
    read_model: Any,
) -> None:
    send_opening(events)
    run_mixed(events, 1500, seed=31)
    # A static member (KIP-345), as `make up` runs it: the restart below, under the same
    # name, takes the crashed worker's partitions back without waiting for its session.
    worker_env["LUMBUNG_WORKER_INSTANCE"] = "inventory-0"
    worker_env[CRASH_BEFORE_COMMIT] = "3"
    first = workers()
    assert first.proc is not None
    first.proc.wait(timeout=120)
    assert first.proc.returncode == -signal.SIGKILL

    del worker_env[CRASH_BEFORE_COMMIT]
    workers()
    actual, expected = converged(kafka_bootstrap, registry, read_model)

    assert mismatches(actual, expected) == {}
    topic = registry.name("inventory.stock")
    committed = stock_changed(kafka_bootstrap, topic, "read_committed")
    everything = stock_changed(kafka_bootstrap, topic, "read_uncommitted")
    assert once_each(committed) == {}
    assert len(everything) > len(committed), "the crashed transaction left no aborted records"
    assert {e["event_id"] for e in everything} >= {e["event_id"] for e in committed}


def test_a_zombie_worker_that_wakes_up_late_never_shows_its_writes(
    kafka_bootstrap: str, registry: Registry, events: Any, workers: Any, read_model: Any
) -> None:
    zombie = workers()
    open_outlets(events, read_model)
    assert zombie.proc is not None
    load = threading.Thread(target=run_mixed, args=(events, 4000, 41), daemon=True)
    load.start()
    time.sleep(2.0)
    os.kill(zombie.proc.pid, signal.SIGSTOP)  # frozen mid-load, its batch in flight
    try:
        workers()  # takes every partition once the zombie's session has expired
        load.join(timeout=300)
        actual, expected = converged(kafka_bootstrap, registry, read_model)
        assert mismatches(actual, expected) == {}
    finally:
        os.kill(zombie.proc.pid, signal.SIGCONT)
    time.sleep(10.0)  # the zombie tries to commit what it held, and rejoins the group

    actual, expected = converged(kafka_bootstrap, registry, read_model)
    assert mismatches(actual, expected) == {}
    committed = stock_changed(kafka_bootstrap, registry.name("inventory.stock"), "read_committed")
    assert once_each(committed) == {}
    versions = Counter(
        (e["data"]["outlet_id"], e["data"]["sku"], e["data"]["version"]) for e in committed
    )
    assert [cell for cell, n in versions.items() if n > 1] == []


def test_a_worker_whose_tasks_were_fenced_by_no_other_worker_takes_them_up_again(
    kafka_bootstrap: str, registry: Registry, events: Any, workers: Any, read_model: Any
) -> None:
    """A transaction coordinator that aborts a transaction it thought too old (a broker
    away for long) fences its producer, though no other worker has the task: no
    rebalance will give it back, so the worker must open it again by itself."""
    import asyncio

    from aiokafka import AIOKafkaProducer

    workers()
    open_outlets(events, read_model)
    run_mixed(events, 200, seed=41)
    actual, expected = converged(kafka_bootstrap, registry, read_model)
    assert mismatches(actual, expected) == {}

    async def fence_every_task() -> None:
        group = f"{registry.prefix}.lumbung-inventory-stock"
        for number in range(registry.spec("pos.sales").partitions):
            usurper = AIOKafkaProducer(
                **client_security(),
                bootstrap_servers=kafka_bootstrap,
                transactional_id=f"{group}-{number}",
                enable_idempotence=True,
            )
            await usurper.start()  # init_transactions: the worker's producer is fenced
            await usurper.stop()

    asyncio.run(fence_every_task())
    run_mixed(events, 200, seed=42)
    actual, expected = converged(kafka_bootstrap, registry, read_model, seconds=120)

    assert mismatches(actual, expected) == {}
