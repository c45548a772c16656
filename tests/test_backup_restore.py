"""Backups (docs/operations.md, "Backups"): a stack's Kafka data copied with `stack.py
backup` and started again with `stack.py restore` as a new stack on other ports gives the
inventory worker the same stock, and its Redis read model is rebuilt to match."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pytest
from kafka.admin import ConfigResource, ConfigResourceType

from lumbung.contracts import Registry
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.platform.broker import admin_client, durable_producer, ensure_topics
from stack.stack import topic_configs
from tests.support.chaos import inventory_state
from tests.support.fixtures import Events, PrivateStack, ReadModel, Worker, log_tail

pytestmark = pytest.mark.broker

OUTLETS = ["IKN-01", "RA-KM47", "BOOTH-STADION"]
SKUS = ["AMPLANG-IKAN-250", "MADU-KELULUT-250", "KOPI-LIBERIKA-200"]
OPENING = 40
TEN_DAYS_MS = "864000000"


class BackedUpStack(PrivateStack):
    """A private stack that is backed up with `stack.py backup`, or made with `restore`."""

    def backup(self, to: Path) -> None:
        done = self._run("backup", "--to", str(to))
        assert done.returncode == 0, done.stderr

    def restore(self, source: Path) -> BackedUpStack:
        done = self._run("restore", "--from", str(source))
        assert done.returncode == 0, done.stderr
        for line in done.stdout.splitlines():
            if line.startswith("export "):
                key, _, value = line.removeprefix("export ").partition("=")
                self.env[key] = value
        return self

    def kafka_runs(self) -> bool:
        return "kafka: running" in self._run("status").stdout


def start_worker(stack: PrivateStack, registry: Registry, tmp_path: Path, label: str) -> Worker:
    env = {
        **os.environ,
        **stack.env,
        "LUMBUNG_TOPIC_PREFIX": registry.prefix,
        "LUMBUNG_DATA_DIR": str(tmp_path / f"data-{label}"),
        "LUMBUNG_LOG_LEVEL": "WARNING",
    }
    worker = Worker(env, tmp_path / f"inventory-worker-{label}.log")
    worker.start()
    return worker


def sell(events: Events, outlet: str, sale_id: str, lines: list[tuple[str, int]]) -> None:
    sale = pos.SaleRecorded(
        sale_id=sale_id,
        outlet_id=outlet,
        sold_at=events.clock,
        lines=[pos.SaleLine(sku=sku, qty=qty, unit_price_idr=25_000) for sku, qty in lines],
    )
    events.send("pos.sales", outlet, events.envelope(sale, events.sale_event_id(outlet, sale_id)))


def open_and_sell(
    bootstrap: str, registry: Registry, model: ReadModel
) -> dict[tuple[str, str], int]:
    """Opening counts at each outlet, then, once the worker has applied them, a few sales;
    returns the on hand they lead to."""
    events = Events(durable_producer(bootstrap), registry)
    expected = {}
    try:
        for outlet in OUTLETS:
            count = inv.StockCounted(
                count_id=f"OPEN-{outlet}",
                outlet_id=outlet,
                kind=inv.CountKind.OPENING,
                counted_at=events.clock,
                lines=[inv.CountedLine(sku=sku, counted=OPENING) for sku in SKUS],
            )
            events.send("inventory.commands", outlet, events.envelope(count))
        # Counts and sales travel on different topics: let the counts land before selling,
        # or a count applied after a sale would put its units back.
        events.flush()
        opened = {(outlet, sku): OPENING for outlet in OUTLETS for sku in SKUS}
        assert model.wait_for(lambda: model.on_hand(OUTLETS) == opened, 90), model.on_hand(OUTLETS)
        for n, outlet in enumerate(OUTLETS):
            for m, sku in enumerate(SKUS):
                sell(events, outlet, f"S-{n}-{m}", [(sku, n + m + 1)])
                expected[(outlet, sku)] = OPENING - (n + m + 1)
        events.flush()
    finally:
        events.producer.close()
    return expected


def held(bootstrap: str, registry: Registry) -> dict[tuple[str, str], int]:
    """On hand per (outlet, SKU) in the worker's committed state, none reserved."""
    state = inventory_state(bootstrap, registry)
    assert all(reserved == 0 for _, reserved in state.values()), state
    return {key: on_hand for key, (on_hand, _) in state.items()}


def set_topic_config(bootstrap: str, topic: str, key: str, value: str) -> None:
    """A topic config changed by hand, as ops would with kafka-configs."""
    admin = admin_client(bootstrap)
    try:
        answers = admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {key: value})]
        )
    finally:
        admin.close()
    assert answers["topic"][topic] == "OK", answers


def test_a_backup_restored_into_a_new_stack_gives_the_worker_and_read_model_the_same_stock(
    tmp_path: Path,
) -> None:
    registry = Registry(prefix=f"tbak{uuid.uuid4().hex[:8]}")
    alerts = registry.name("inventory.alerts")
    backup = tmp_path / "backup"
    source, restored = BackedUpStack(), BackedUpStack()
    workers: list[Worker] = []
    try:
        source.up()
        bootstrap = source.env["KAFKA_BOOTSTRAP_SERVERS"]
        ensure_topics(bootstrap, registry)
        set_topic_config(bootstrap, alerts, "retention.ms", TEN_DAYS_MS)
        workers.append(start_worker(source, registry, tmp_path, "source"))
        model = ReadModel(source.env["REDIS_URL"], registry.prefix)
        expected = open_and_sell(bootstrap, registry, model)
        assert model.wait_for(lambda: model.on_hand(OUTLETS) == expected, 90), model.on_hand(
            OUTLETS
        )
        assert held(bootstrap, registry) == expected
        workers[0].stop()

        source.backup(backup)

        manifest = json.loads((backup / "manifest.json").read_text())
        assert manifest["clean_shutdown"], "the copy is of a broker that stopped cleanly"
        dump = json.loads((backup / "topic-configs.json").read_text())
        assert dump[alerts]["configs"]["retention.ms"] == TEN_DAYS_MS
        sales = registry.name("pos.sales")
        assert dump[sales]["partitions"] == registry.spec("pos.sales").partitions
        assert dump[sales]["configs"]["retention.ms"] == "-1", "facts are kept forever"
        assert source.kafka_runs(), "the backup started the broker it stopped again"
        assert held(bootstrap, registry) == expected

        restored.restore(backup)
        new_bootstrap = restored.env["KAFKA_BOOTSTRAP_SERVERS"]
        assert new_bootstrap != bootstrap
        assert restored.env["REDIS_URL"] != source.env["REDIS_URL"]
        assert topic_configs(new_bootstrap) == dump

        workers.append(start_worker(restored, registry, tmp_path, "restored"))
        model = ReadModel(restored.env["REDIS_URL"], registry.prefix)
        assert model.wait_for(lambda: model.on_hand(OUTLETS) == expected, 120), model.on_hand(
            OUTLETS
        )
        assert held(new_bootstrap, registry) == expected

        # The restored stack carries on from the copied stock, not from nothing.
        events = Events(durable_producer(new_bootstrap), registry)
        sell(events, "IKN-01", "S-AFTER-RESTORE", [(SKUS[0], 2)])
        events.flush()
        events.producer.close()
        expected[("IKN-01", SKUS[0])] -= 2
        assert model.wait_for(lambda: model.on_hand(OUTLETS) == expected, 60), model.on_hand(
            OUTLETS
        )
        assert held(new_bootstrap, registry) == expected
    except AssertionError:
        for worker in workers:
            print(f"--- {worker.log.name} (last lines) ---\n{log_tail(worker.log)}")
        raise
    finally:
        for worker in workers:
            worker.stop()
        restored.down()
        source.down()
        shutil.rmtree(backup, ignore_errors=True)
