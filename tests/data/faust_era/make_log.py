"""Writes `log.jsonl.gz`: a day's log as the faust-era inventory worker (commit 1be429f,
the last before the stream kernel) left it, for the upgrade test
(services/inventory/tests/integration/test_upgrade_from_faust_worker.py).

Run from a checkout of that commit, on a running stack, with this project's venv:

    git worktree add /tmp/oldtree 1be429f
    cd /tmp/oldtree && PYTHONPATH=/tmp/oldtree/libs/contracts/src:/tmp/oldtree/libs/platform/src:\
/tmp/oldtree/services/inventory/src:/tmp/oldtree KAFKA_BOOTSTRAP_SERVERS=... REDIS_URL=... \
      /work/main/.venv/bin/python /work/main/tests/data/faust_era/make_log.py OUT.jsonl.gz

It opens 10 outlets by 30 SKUs, runs 3,000 mixed events through the old worker (sales,
returns, adjustments, receipts, transfers; about one in ten sent twice, some much later),
waits until its read model agrees with a recomputation from the facts, and writes every
record of the fact topics (and the transfer arrivals the old worker wrote) in partition
order with their times, then the old worker's stock per (outlet, SKU) as its read model held it.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import orjson

from lumbung.contracts import Registry
from lumbung.platform.broker import durable_producer, ensure_topics
from lumbung.platform.testing import read_records
from services.inventory.tests.integration.test_worker_invariants import (
    OUTLETS,
    converged,
    mismatches,
    open_outlets,
    run_mixed,
)
from tests.support.fixtures import Events, ReadModel

FACTS = ("pos.sales", "inventory.commands", "restock.acks", "orders.events")


def main(out: Path) -> None:
    bootstrap, redis_url = os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["REDIS_URL"]
    registry = Registry(prefix=f"faustera{uuid.uuid4().hex[:6]}")
    ensure_topics(bootstrap, registry)
    env = {**os.environ, "LUMBUNG_TOPIC_PREFIX": registry.prefix}
    with tempfile.TemporaryDirectory() as data:
        env["LUMBUNG_DATA_DIR"] = data
        worker = subprocess.Popen([sys.executable, "-m", "lumbung.inventory", "worker"], env=env)
        try:
            events = Events(durable_producer(bootstrap), registry)
            read_model = ReadModel(redis_url, registry.prefix)
            open_outlets(events, read_model)
            run_mixed(events, 3000, seed=2026)
            actual, expected = converged(bootstrap, registry, read_model)
            assert mismatches(actual, expected) == {}, "the old worker did not converge"
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    with gzip.open(out, "wb") as sink:
        for logical in FACTS:
            for record in read_records(bootstrap, registry.name(logical)):
                line = {
                    "topic": logical,
                    "partition": record.partition,
                    "timestamp": record.timestamp,
                    "key": record.key.decode() if record.key else None,
                    "value": orjson.loads(record.value),
                }
                sink.write(orjson.dumps(line) + b"\n")
        stock = {
            f"{outlet}|{sku}": cell
            for outlet in OUTLETS
            for sku, cell in read_model.outlet(outlet).items()
        }
        sink.write(orjson.dumps({"stock": stock}) + b"\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
