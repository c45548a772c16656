"""The dashboard as its own process on the real broker and Redis: its stream stitches the
snapshot and the live updates, resumes a reconnecting page, and the page in a real
headless Chromium shows stock and alerts as they happen."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import restock
from lumbung.platform.clock import WITA
from tests.support.browser import shown, until
from tests.support.fixtures import ApiProcess
from tests.support.sse import Stream

pytestmark = pytest.mark.broker
OUTLET = "IKN-01"
SKU = "KERIPIK-PISANG-200"


@pytest.fixture
def dashboard(
    worker_env: dict[str, str], tmp_path: Path, demo_catalog: dict[str, str]
) -> Iterator[ApiProcess]:
    api = ApiProcess("dashboard", worker_env, tmp_path / "dashboard.log")
    api.start()
    yield api
    api.stop()


@pytest.fixture
def sell(inventory_api: Any, demo_catalog: dict[str, str]) -> Callable[..., None]:
    """sell(sale_id, qty, sold_at, price=15_000): a sale of SKU at OUTLET through the
    ingest API (Rp 15.000 is its price in the demo catalog)."""

    def sale(sale_id: str, qty: int, sold_at: datetime, price: int = 15_000) -> None:
        body = {
            "sale_id": sale_id,
            "sold_at": sold_at.isoformat(),
            "lines": [{"sku": SKU, "qty": qty, "unit_price_idr": price}],
        }
        posted = inventory_api.post(
            f"/v1/outlets/{OUTLET}/sales", json=body, headers={"X-API-Key": demo_catalog[OUTLET]}
        )
        assert posted.is_success, posted.text

    return sale


def open_outlet(events: Any, read_model: Any, stock: dict[str, int]) -> None:
    events.opening_count(OUTLET, stock)
    levels = inv.StockLevelsSet(outlet_id=OUTLET, sku=SKU, reorder_point=10, par_level=40)
    events.send("inventory.commands", OUTLET, events.envelope(levels))
    events.flush()
    assert read_model.wait_for(lambda: read_model.outlet(OUTLET).get(SKU, {}).get("version") == 2)


def test_a_page_gets_the_snapshot_then_live_changes_and_resumes_after_a_reconnect(
    dashboard: ApiProcess,
    ops_key: str,
    events: Any,
    workers: Any,
    read_model: Any,
    sell: Callable[..., None],
) -> None:
    workers("inventory")
    open_outlet(events, read_model, {SKU: 30})
    assert httpx.get(f"{dashboard.url}/v1/board").status_code == 401, "no key, no board"

    page = Stream(dashboard.url, ops_key)
    kind, snapshot = page.next()
    assert kind == "snapshot"
    assert {o["outlet_id"] for o in snapshot["outlets"]} >= {"IKN-01", "RA-KM47", "BOOTH-STADION"}
    cell = snapshot["stock"][OUTLET][SKU]
    assert (cell["available"], cell["version"]) == (30, 2)

    sell("S-1", 4, events.clock)
    got: dict[str, dict[str, Any]] = {}
    while len(got) < 2:  # the sale and the stock change it makes, in either order
        kind, data = page.next()
        if kind in ("sale", "stock"):
            got[kind] = data
    assert (got["stock"]["available"], got["stock"]["version"]) == (26, 3)
    sold = got["sale"]
    assert (sold["outlet_id"], sold["units"], sold["amount_idr"]) == (OUTLET, 4, 60_000)
    # How old the page's data is, told every two seconds (no id: nothing to resume).
    fresh = page.until("freshness", lambda f: f["as_of"] is not None)
    assert datetime.fromisoformat(fresh["as_of"]) <= datetime.now(UTC)
    assert fresh["lag_s"] >= 0
    assert fresh["behind"] >= 0
    seen = page.last_id
    page.close()

    # Two more sales while the page is away; it comes back with the last id it saw.
    for n, qty in ((2, 10), (3, 7)):
        sell(f"S-{n}", qty, events.clock)
    assert read_model.wait_for(lambda: read_model.outlet(OUTLET)[SKU]["available"] == 9)
    back = Stream(dashboard.url, ops_key, last_event_id=seen)
    versions: list[tuple[int, int]] = []
    alerts: list[dict[str, Any]] = []
    while len(versions) < 2 or not alerts:  # the changes and the alert, in either order
        kind, data = back.next()
        assert kind != "snapshot", "resumed, not started again"
        if kind == "stock":
            versions.append((data["version"], data["available"]))
        elif kind == "alert" and data["alert"] == "low_stock":
            alerts.append(data)
    assert versions == [(4, 16), (5, 9)], "no gap, no double"
    assert [(a["outlet_id"], a["sku"], a["reorder_point"]) for a in alerts] == [(OUTLET, SKU, 10)]
    back.close()


def cell(outlet: str, sku: str) -> str:
    return f'td[data-cell="{outlet}|{sku}"]'


def test_the_page_in_a_browser_shows_the_grid_and_live_sales_and_alerts(
    dashboard: ApiProcess,
    ops_key: str,
    events: Any,
    workers: Any,
    read_model: Any,
    sell: Callable[..., None],
    tmp_path: Path,
    browser: Any,
    inventory_api: Any,
    demo_catalog: dict[str, str],
) -> None:
    from selenium.webdriver.common.by import By

    workers("inventory")
    open_outlet(events, read_model, {SKU: 30, "AMPLANG-IKAN-250": 12})
    browser.get(f"{dashboard.url}/?key={ops_key}")

    until(browser, lambda: shown(browser, cell(OUTLET, SKU)) == "30 / 30", "the opening stock")
    board = httpx.get(f"{dashboard.url}/v1/board", params={"key": ops_key})
    outlets = orjson.loads(board.content)["outlets"]
    rows = browser.execute_script("return document.querySelectorAll('#grid tbody tr').length")
    assert rows == len(outlets), "a row for every outlet"
    assert "ok" in (shown(browser, cell(OUTLET, SKU), "class") or "")
    assert "?key=" not in browser.current_url, "the key leaves the address bar"

    sell("S-1", 22, events.clock)
    until(browser, lambda: shown(browser, cell(OUTLET, SKU)) == "8 / 8", "the sale, unreloaded")
    until(browser, lambda: shown(browser, '#alerts li[data-alert="low_stock"]'), "the alert")
    until(browser, lambda: "low" in (shown(browser, cell(OUTLET, SKU), "class") or ""), "low")
    alert_text = shown(browser, "#alerts li") or ""
    assert "Keripik Pisang Manis 200 g" in alert_text
    assert "menipis" in alert_text
    # On a cell that sells nothing, so the worker's own forecast never marks it meanwhile.
    runs_out = datetime.now(WITA).replace(hour=23, minute=59)  # today: the time alone
    ids = {"prediction_id": "P-BROWSER", "outlet_id": OUTLET, "sku": "AMPLANG-IKAN-250"}
    predicted = inv.StockoutPredicted(
        **ids,
        supplier_id="SUP-SARI",
        available=12,
        expected_at=runs_out,
        units_per_hour=4.0,
        lead_time_hours=48,
        reason="12 left, selling 4 an hour",
    )
    events.send("inventory.alerts", OUTLET, events.envelope(predicted))
    events.flush()
    foreseen = cell(OUTLET, "AMPLANG-IKAN-250")
    until(browser, lambda: shown(browser, foreseen, "data-foreseen") == "P-BROWSER", "the mark")
    assert f"habis ±{runs_out:%H.%M}" in (shown(browser, foreseen) or "")
    browser.find_element(By.ID, "lang").click()  # a button the page never re-renders
    until(browser, lambda: "low" in (shown(browser, "#alerts li") or ""), "the alert in English")
    assert f"out ±{runs_out:%H:%M}" in (shown(browser, foreseen) or "")
    cleared = inv.StockoutCleared(**ids, cleared_by=inv.ClearedBy.ON_ORDER, available=12)
    events.send("inventory.alerts", OUTLET, events.envelope(cleared))
    events.flush()
    until(browser, lambda: shown(browser, foreseen, "data-foreseen") is None, "the mark gone")
    # A restock the forecast holds for ops: on the panel with its buttons until it goes out.
    held = restock.RestockSuggested(
        restock_id="RS-BROWSER",
        outlet_id=OUTLET,
        sku="AMPLANG-IKAN-250",
        supplier_id="SUP-SARI",
        suggested_qty=40,
        available=12,
        reason="about 52 expected to sell by Sat 16:00",
        send_at=datetime.now(WITA) + timedelta(minutes=10),
    )
    events.send("restock.events", OUTLET, events.envelope(held))
    events.flush()
    panel = '#suggestions li[data-suggestion="RS-BROWSER"]'
    until(browser, lambda: "goes out" in (shown(browser, panel) or ""), "the suggestion")
    assert "about 52 expected to sell by Sat 16:00" in (shown(browser, panel) or "")
    browser.execute_script(  # found and clicked in one step (see `shown`)
        "document.querySelector(arguments[0]).click()", f'{panel} button[data-act="edit"]'
    )
    qty = f'{panel} input[data-qty="RS-BROWSER"]'
    until(browser, lambda: shown(browser, qty, "value") == "40", "the number to change")
    sent = restock.RestockRequested(
        **held.model_dump(include={"restock_id", "outlet_id", "sku", "supplier_id"}),
        suggested_qty=40,
        available=12,
        reorder_point=0,
        par_level=0,
    )
    events.send("restock.events", OUTLET, events.envelope(sent))
    events.flush()
    until(browser, lambda: shown(browser, panel) is None, "the suggestion gone once sent")
    assert shown(browser, '#restocks li[data-restock="RS-BROWSER"]'), "among the requests now"
    until(browser, lambda: "data as of" in (shown(browser, "#fresh") or ""), "how old its data is")
    assert shown(browser, "#fresh", "data-stale") == "no"

    # Through the real ingest and worker (issue 18): a sale far under the outlet's price is
    # flagged and stands; a return of a sale the worker does not know is refused, and
    # counts nothing in the outlet's takings, whichever of the two the dashboard reads first.
    sell("S-CHEAP", 1, events.clock, price=9_000)
    give_back = {
        "return_id": "R-GHOST",
        "sale_id": "S-GHOST",
        "lines": [{"sku": SKU, "qty": 2, "unit_price_idr": 15_000}],
        "returned_at": events.clock.isoformat(),
    }
    posted = inventory_api.post(
        f"/v1/outlets/{OUTLET}/returns", json=give_back, headers={"X-API-Key": demo_catalog[OUTLET]}
    )
    assert posted.status_code == 202, posted.text
    refused, flagged = (
        '#alerts li[data-alert="return_refused"]',
        '#alerts li[data-alert="price_flagged"]',
    )
    until(browser, lambda: shown(browser, refused), "the refused return")
    assert "return R-GHOST · sale S-GHOST @ " in (shown(browser, refused) or "")
    assert "sale not known" in (shown(browser, refused) or "")
    until(browser, lambda: shown(browser, flagged), "the price off")
    assert "1 \N{MULTIPLICATION SIGN} Rp 9.000, outlet price Rp 15.000 (-40 %) · sale S-CHEAP" in (
        shown(browser, flagged) or ""
    )
    refusal_seen = datetime.now(UTC)  # the return was on pos.sales before its refusal

    def read_past_the_refusal() -> dict[str, Any] | None:
        now = orjson.loads(httpx.get(f"{dashboard.url}/v1/board", params={"key": ops_key}).content)
        as_of = now["freshness"]["as_of"]
        return now if as_of and datetime.fromisoformat(as_of) > refusal_seen else None

    board_now = until(browser, read_past_the_refusal, "the return read")
    assert board_now["revenue"][OUTLET] == 22 * 15_000 + 9_000, "the sales, not the return"
    takings = f'tr[data-outlet="{OUTLET}"] th .sub'
    until(browser, lambda: "Rp 339.000" in (shown(browser, takings) or ""), "the takings")
    browser.find_element(By.ID, "lang").click()
    until(browser, lambda: "retur ditolak" in (shown(browser, refused) or ""), "Bahasa again")
    assert "retur R-GHOST · penjualan S-GHOST @ " in (shown(browser, refused) or "")
    assert "penjualan tak dikenal" in (shown(browser, refused) or "")
    assert "harga menyimpang" in (shown(browser, flagged) or "")
    assert "harga gerai Rp 15.000 (-40 %)" in (shown(browser, flagged) or "")

    shot = tmp_path / "dashboard.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("LUMBUNG_SCREENSHOT_TO"):
        shutil.copy(shot, os.environ["LUMBUNG_SCREENSHOT_TO"])


def test_a_simulated_day_ahead_of_the_wall_clock_is_stated_and_no_time_is_ahead_of_the_clock(
    dashboard: ApiProcess,
    ops_key: str,
    events: Any,
    workers: Any,
    read_model: Any,
    sell: Callable[..., None],
    browser: Any,
) -> None:
    workers("inventory")
    open_outlet(events, read_model, {SKU: 30})
    browser.get(f"{dashboard.url}/?key={ops_key}")
    until(browser, lambda: shown(browser, cell(OUTLET, SKU)) == "30 / 30", "the opening stock")
    assert "simulasi" not in (shown(browser, "#clock") or "")

    # `lumbung simulate` sells through the afternoon while the wall clock is at noon.
    sell("S-SIMULATED", 1, datetime.now(WITA) + timedelta(hours=6))

    def times(css: str) -> list[str]:
        return re.findall(r"\d\d[.:]\d\d", shown(browser, css) or "")

    row = f'tr[data-outlet="{OUTLET}"] .seen'
    until(browser, lambda: shown(browser, cell(OUTLET, SKU)) == "29 / 29", "the sale")
    until(browser, lambda: times(row), "the time of the last sale")
    [last_sale] = times(row)
    clock = shown(browser, "#clock") or ""
    assert times("#clock")[0] == last_sale, f"the clock {clock!r} is behind the last sale"
    assert "simulasi" in clock
    [_, wall_time] = times("#clock")
    assert f"jam dinding {wall_time} WITA" in clock
    assert wall_time != last_sale
