"""A simulated event day through the whole system: every API and worker as its own process
on the real broker and Redis, the simulator selling through the outlet client, a page
opened on the dashboard in the middle of it. After the day, the page, the Redis read model
and the event log agree on every (outlet, SKU)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from lumbung.contracts import Registry
from lumbung.platform.clock import WITA
from tests.support.chaos import ledger
from tests.support.fixtures import ApiProcess
from tests.support.receivers import wait_until
from tests.support.sse import Stream

pytestmark = pytest.mark.broker
APIS = ("catalog", "inventory", "orders", "notifications", "dashboard")


@pytest.fixture
def system(
    worker_env: dict[str, str], tmp_path: Path, workers: Any, demo_catalog: dict[str, str]
) -> Iterator[dict[str, ApiProcess]]:
    apis = {name: ApiProcess(name, worker_env, tmp_path / f"{name}.log") for name in APIS}
    for api in apis.values():
        api.start()
    for worker in ("inventory", "orders", "notifications"):
        workers(worker)
    yield apis
    for api in apis.values():
        api.stop()


def test_a_simulated_day_leaves_the_page_the_read_model_and_the_log_in_agreement(
    system: dict[str, ApiProcess],
    ops_key: str,
    kafka_bootstrap: str,
    registry: Registry,
    read_model: Any,
    tmp_path: Path,
) -> None:
    from lumbung.simulator.run import Simulation, Urls

    progress = (tmp_path / "progress.txt").open("w")
    urls = Urls(*(system[name].url for name in ("catalog", "inventory", "orders", "notifications")))
    simulation = Simulation(
        urls,
        ops_key,
        datetime.now(WITA).date(),
        seed=11,
        speed=3600,
        spool_dir=tmp_path / "spools",
        out=progress,
        hours=3,
    )
    done = threading.Event()
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["tally"] = simulation.run()
        finally:
            simulation.close()  # its spools belong to this thread
            done.set()

    threading.Thread(target=run, daemon=True).start()
    assert wait_until(lambda: simulation.tally.sales >= 100, seconds=180), "the day got going"

    # A page opens in the middle of the day, and stays open to the end.
    page = Stream(system["dashboard"].url, ops_key)
    kind, snapshot = page.next()
    assert kind == "snapshot"
    cells = {
        (outlet, sku): cell
        for outlet, by_sku in snapshot["stock"].items()
        for sku, cell in by_sku.items()
    }
    assert cells, "the page starts with the stock of the outlets"

    def follow() -> None:
        while True:
            try:
                kind, data = page.next(seconds=600)
            except Exception:
                return
            if kind == "stock":
                key = (data["outlet_id"], data["sku"])
                if key not in cells or cells[key]["version"] < data["version"]:
                    cells[key] = data

    threading.Thread(target=follow, daemon=True).start()
    assert done.wait(600), "the simulated hours ran to the end"
    tally = result["tally"]
    assert tally.sales > 200
    assert tally.refused == 0

    # on_hand per (outlet, SKU) recomputed from the raw events, with no service code.
    expected = ledger(kafka_bootstrap, registry).on_hand

    def model() -> dict[tuple[str, str], dict[str, Any]]:
        outlets = {outlet for outlet, _ in expected}
        return {
            (outlet, sku): cell
            for outlet in outlets
            for sku, cell in read_model.outlet(outlet).items()
        }

    converged = wait_until(
        lambda: {k: c["on_hand"] for k, c in model().items()} == expected, seconds=180
    )
    held = {k: c["on_hand"] for k, c in model().items()}
    differ = {k: (held.get(k), v) for k, v in expected.items() if held.get(k) != v}
    assert converged, f"the read model converges on the log: (model, log) {differ}"
    assert wait_until(
        lambda: (
            {k: (c["on_hand"], c["available"], c["version"]) for k, c in cells.items()}
            == {k: (c["on_hand"], c["available"], c["version"]) for k, c in model().items()}
        ),
        seconds=60,
    ), "the page shows what the read model holds"
    page.close()
    progress.close()
    print(orjson.dumps(tally.__dict__).decode())
    assert tally.orders > 0, "souvenir orders went to the orders API"
