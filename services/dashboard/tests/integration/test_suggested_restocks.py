"""Suggested restocks on the dashboard, on the real broker: the inventory worker's forecast
suggests one, the page's panel shows it from `restock.events`, ops send it with a changed
quantity through the dashboard (passed on to the real inventory API process with their
key), and the panel drops it once the worker's request of that restock comes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import shown, until
from tests.support.fixtures import ApiProcess
from tests.support.sse import Stream
from tests.support.stockouts import OUTLET, SKU, count_opening, sell_toward_a_stockout

pytestmark = pytest.mark.broker


@pytest.fixture
def apis(
    worker_env: dict[str, str], tmp_path: Path, demo_catalog: dict[str, str], noon: datetime
) -> Iterator[tuple[ApiProcess, ApiProcess]]:
    """(inventory, dashboard) as processes, the dashboard pointed at that inventory."""
    inventory = ApiProcess("inventory", worker_env, tmp_path / "inventory.log")
    inventory.start()
    env = {**worker_env, "LUMBUNG_DASHBOARD_INVENTORY_URL": inventory.url}
    dashboard = ApiProcess("dashboard", env, tmp_path / "dashboard.log")
    try:
        dashboard.start()
        yield inventory, dashboard
    finally:
        dashboard.stop()
        inventory.stop()


def put(dashboard: ApiProcess, key: str | None, restock_id: str, qty: int) -> httpx.Response:
    headers = {"X-API-Key": key} if key else {}
    return httpx.put(
        f"{dashboard.url}/v1/outlets/{OUTLET}/restocks/{restock_id}",
        json={"qty": qty, "send_now": True},
        headers=headers,
        timeout=30,
    )


def test_ops_send_a_suggested_restock_from_the_panel_and_it_leaves_once_it_went_out(
    apis: tuple[ApiProcess, ApiProcess],
    ops_key: str,
    demo_catalog: dict[str, str],
    events: Any,
    workers: Any,
    noon: datetime,
    read_model: Any,
    on_topic: Any,
) -> None:
    inventory, dashboard = apis
    workers("inventory")
    page = Stream(dashboard.url, ops_key)
    kind, snapshot = page.next()
    assert (kind, snapshot["suggestions"]) == ("snapshot", [])
    sell_toward_a_stockout(events, read_model, noon)

    held = page.until("suggestion", lambda s: (s["outlet_id"], s["sku"]) == (OUTLET, SKU))
    restock_id = held["restock_id"]
    assert held["qty"] > 52
    assert "expected to sell by" in held["reason"]
    assert datetime.fromisoformat(held["send_at"]) > noon
    board = httpx.get(f"{dashboard.url}/v1/board", params={"key": ops_key}).json()
    assert [s["restock_id"] for s in board["suggestions"]] == [restock_id]

    assert put(dashboard, None, restock_id, 30).status_code == 401, "no key, no change"
    assert put(dashboard, demo_catalog[OUTLET], restock_id, 30).status_code == 403, "ops only"
    missing = put(dashboard, ops_key, "NO-SUCH-RESTOCK", 30)
    assert missing.status_code == 404, "inventory's answer, passed on"
    assert "NO-SUCH-RESTOCK" in missing.text
    sent = put(dashboard, ops_key, restock_id, 30)
    assert sent.status_code == 202, sent.text

    [change] = on_topic("inventory.commands", "inventory.RestockQuantitySet", wait_for=1)
    assert (change["data"]["restock_id"], change["data"]["qty"]) == (restock_id, 30)
    assert change["producer"].startswith("ops:"), "inventory heard the page's ops key"
    gone = page.until("restock", lambda r: r["restock_id"] == restock_id)
    assert (gone["status"], gone["qty"]) == ("open", 30)
    board = httpx.get(f"{dashboard.url}/v1/board", params={"key": ops_key}).json()
    assert board["suggestions"] == []
    page.close()

    def status_at_inventory() -> str:
        listed = httpx.get(
            f"{inventory.url}/v1/outlets/{OUTLET}/restocks", headers={"X-API-Key": ops_key}
        ).json()["restocks"]
        return str(next(r["status"] for r in listed if r["restock_id"] == restock_id))

    assert read_model.wait_for(lambda: status_at_inventory() == "open", seconds=30)
    late = put(dashboard, ops_key, restock_id, 40)
    assert late.status_code == 409, late.text
    assert len(on_topic("restock.events", "restock.RestockRequested")) == 1


def test_ops_accept_a_suggested_transfer_through_the_dashboard_and_it_moves_once(
    apis: tuple[ApiProcess, ApiProcess],
    ops_key: str,
    demo_catalog: dict[str, str],
    events: Any,
    workers: Any,
    noon: datetime,
    read_model: Any,
) -> None:
    """The panel's list and its button (issue 21): inventory's transfer suggestions,
    passed on with the page's key, the rest area's spare moved to the kiosk that runs
    short."""
    _, dashboard = apis
    workers("inventory")
    source = "RA-KM47"
    count_opening(events, source, 300, noon - timedelta(hours=5))
    sell_toward_a_stockout(events, read_model, noon)

    def listed(key: str | None = ops_key) -> httpx.Response:
        headers = {"X-API-Key": key} if key else {}
        return httpx.get(f"{dashboard.url}/v1/transfers/suggestions", headers=headers, timeout=30)

    assert listed(None).status_code == 401
    assert listed(demo_catalog[OUTLET]).status_code == 403, "ops only"
    deadline = time.monotonic() + 90
    while not (found := listed().json()["suggestions"]):
        assert time.monotonic() < deadline, "no suggestion in time"
        time.sleep(0.5)
    [suggestion] = found
    assert (suggestion["from_outlet_id"], suggestion["to_outlet_id"]) == (source, OUTLET)

    def accept(qty: int) -> httpx.Response:
        return httpx.post(
            f"{dashboard.url}/v1/transfers/suggestions/{suggestion['suggestion_id']}/accept",
            json={"qty": qty},
            headers={"X-API-Key": ops_key},
            timeout=30,
        )

    first, again = accept(40), accept(40)
    assert first.status_code == again.status_code == 202, (first.text, again.text)
    assert first.json() == again.json()
    assert read_model.wait_for(lambda: read_model.outlet(source)[SKU]["on_hand"] == 260)
    time.sleep(2)
    assert read_model.outlet(source)[SKU]["on_hand"] == 260, "moved once"
    missing = httpx.post(
        f"{dashboard.url}/v1/transfers/suggestions/NO-SUCH/accept",
        json={},
        headers={"X-API-Key": ops_key},
        timeout=30,
    )
    assert missing.status_code == 404, "inventory's answer, passed on"


def test_the_page_s_move_button_makes_the_suggested_transfer(
    apis: tuple[ApiProcess, ApiProcess],
    ops_key: str,
    demo_catalog: dict[str, str],
    events: Any,
    workers: Any,
    noon: datetime,
    read_model: Any,
    browser: Any,
) -> None:
    """The panel in a real Chromium: the suggestion listed (the page asks on load and
    every 15 s), Edit, 25, Save & move: the rest area sends 25, and the page says so."""
    _, dashboard = apis
    workers("inventory")
    source = "RA-KM47"
    count_opening(events, source, 300, noon - timedelta(hours=5))
    sell_toward_a_stockout(events, read_model, noon)
    browser.get(f"{dashboard.url}/?key={ops_key}")

    item = "#transfers li[data-transfer]"
    until(browser, lambda: shown(browser, item), "a suggested transfer", seconds=90)
    assert "Rest Area KM 47" in (shown(browser, item) or "")

    def click(act: str) -> bool:
        clicked: bool = browser.execute_script(
            "const b = document.querySelector(arguments[0]);"
            "if (b === null) return false; b.click(); return true;",
            f'{item} button[data-act="{act}"]',
        )
        return clicked

    until(browser, lambda: click("edit"), "the Edit button")

    def typed() -> bool:
        done: bool = browser.execute_script(
            "const i = document.querySelector(arguments[0]);"
            "if (i === null) return false;"
            "i.value = '25'; i.dispatchEvent(new Event('input', {bubbles: true})); return true;",
            f"{item} input[data-qty]",
        )
        return done

    until(browser, typed, "the quantity field")
    until(browser, lambda: click("save"), "the Save & move button")
    assert read_model.wait_for(lambda: read_model.outlet(source)[SKU]["on_hand"] == 275)
    until(browser, lambda: "dipindahkan" in (shown(browser, f"{item} .note") or ""), "its note")
