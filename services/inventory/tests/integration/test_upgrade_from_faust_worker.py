"""Upgrading a running deployment: the stream kernel starts on a log that the faust-era
inventory worker wrote (tests/data/faust_era/log.jsonl.gz, made by make_log.py there from
commit 1be429f) and, by replaying the fact topics, which keep everything, arrives at the
stock that worker held."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from lumbung.contracts import Registry

pytestmark = pytest.mark.broker

LOG = Path(__file__).parents[4] / "tests" / "data" / "faust_era" / "log.jsonl.gz"


def test_the_kernel_started_on_the_faust_workers_log_holds_the_same_stock(
    registry: Registry, events: Any, workers: Any, read_model: Any
) -> None:
    lines = [orjson.loads(line) for line in gzip.decompress(LOG.read_bytes()).splitlines()]
    held_then = lines.pop()["stock"]
    for line in lines:
        events.producer.send(
            registry.name(line["topic"]),
            key=line["key"].encode(),
            value=orjson.dumps(line["value"]),
            partition=line["partition"],
            timestamp_ms=line["timestamp"],
        )
    events.flush()
    outlets = sorted({cell.split("|")[0] for cell in held_then})

    workers()

    def held_now() -> dict[str, Any]:
        return {
            f"{outlet}|{sku}": (cell["on_hand"], cell["reserved"])
            for outlet in outlets
            for sku, cell in read_model.outlet(outlet).items()
        }

    expected = {cell: (v["on_hand"], v["reserved"]) for cell, v in held_then.items()}
    read_model.wait_for(lambda: held_now() == expected, seconds=180)
    now = held_now()
    assert {c: (now.get(c), v) for c, v in expected.items() if now.get(c) != v} == {}
    assert len(expected) == 300
