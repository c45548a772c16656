"""Upgrading a running deployment: the stream kernel starts on a log that the faust-era
inventory worker wrote (tests/data/faust_era/log.jsonl.gz, made by make_log.py there from
commit 1be429f) and, by replaying the fact topics, which keep everything, arrives at the
stock that worker held, under today's rules: since issue 18 a return must fit its sale,
so the returns of that log that did not (the faust worker applied every return) are
refused by the replay, and the stock held then is corrected for them."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from lumbung.contracts import Registry

pytestmark = pytest.mark.broker

LOG = Path(__file__).parents[4] / "tests" / "data" / "faust_era" / "log.jsonl.gz"


def returns_that_do_not_fit(lines: list[dict[str, Any]]) -> dict[str, int]:
    """Units per `OUTLET|SKU` cell that the log's returns brought back beyond what their
    sale (at their outlet) had left to return, each event once, in partition order (the
    log has no voids)."""
    left: dict[tuple[str, str], dict[str, int]] = {}
    seen: set[str] = set()
    refused: dict[str, int] = {}
    for line in sorted(lines, key=lambda line: (line["topic"], line["partition"])):
        event = line["value"]
        if line["topic"] != "pos.sales" or event["event_id"] in seen:
            continue
        seen.add(event["event_id"])
        data = event["data"]
        if event["event_type"] == "pos.SaleRecorded":
            sold = left.setdefault((data["outlet_id"], data["sale_id"]), {})
            for item in data["lines"]:
                sold[item["sku"]] = sold.get(item["sku"], 0) + item["qty"]
            continue
        assert data["kind"] == "return"
        rest = left.get((data["outlet_id"], data["sale_id"]), {})
        asked: dict[str, int] = {}
        for item in data["lines"]:
            asked[item["sku"]] = asked.get(item["sku"], 0) + item["qty"]
        if all(qty <= rest.get(sku, 0) for sku, qty in asked.items()):
            for sku, qty in asked.items():
                rest[sku] -= qty
        else:
            for sku, qty in asked.items():
                cell = f"{data['outlet_id']}|{sku}"
                refused[cell] = refused.get(cell, 0) + qty
    return refused


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
    for cell, units in returns_that_do_not_fit(lines).items():
        on_hand, reserved = expected[cell]
        expected[cell] = (on_hand - units, reserved)
    read_model.wait_for(lambda: held_now() == expected, seconds=180)
    now = held_now()
    assert {c: (now.get(c), v) for c, v in expected.items() if now.get(c) != v} == {}
    assert len(expected) == 300
