"""A month of one Indomaret store, on the real broker and Redis with the inventory API and
workers running: live till sales and a partial return on some days, a retailer's report
for the others imported through the books API (a dry run writes nothing, the import's
sales reach `pos.sales` through the inventory ingest, the same report again changes
nothing, a changed one is refused with its differences, a day with live till sales is
refused), goods sent back to the producer, and the commission changing mid-month (the
demo's stores take 17.5 % until the 16th, 15 % from then on). The supplier's statement is
checked to the rupiah against this test's own computation from the raw topics."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lumbung.catalog import demo
from lumbung.contracts import sale_event_id
from lumbung.contracts.events import pos
from lumbung.platform.clock import WITA
from services.books.tests.integration.test_statements_flow import (
    PISANG,
    SINGKONG,
    SUPPLIER,
    expected_statement,
    figures_of,
    last_month,
    statement_when,
)
from services.books.tests.unit.test_handlers import SHOP, sale
from tests.support.fixtures import ApiProcess, in_process_api

pytestmark = pytest.mark.broker
PROFILE = {
    "columns": {
        "store": "KODE TOKO",
        "plu": "PLU",
        "date": "TANGGAL",
        "qty": "QTY",
        "amount": "RUPIAH",
    },
    "stores": {"TGR1": SHOP},
    "plus": {"2011001": PISANG, "2011002": SINGKONG},
}


def report_csv(rows: list[tuple[str, str, int, int]]) -> bytes:
    lines = ["LAPORAN PENJUALAN KONSINYASI;;;;", "KODE TOKO;PLU;TANGGAL;QTY;RUPIAH"]
    lines += [
        f"TGR1;{plu};{day};{qty};{amount:,}".replace(",", ".") for plu, day, qty, amount in rows
    ]
    return ("\n".join(lines) + "\n").encode()


def test_a_month_of_one_indomaret_store_with_live_and_report_days_is_stated_to_the_rupiah(
    workers: Any,
    events: Any,
    on_topic: Any,
    registry: Any,
    read_model: Any,
    ops_key: str,
    demo_catalog: dict[str, str],
    worker_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    period, start = last_month()
    inventory = ApiProcess("inventory", worker_env, tmp_path / "inventory-api.log")
    inventory.start()
    try:
        workers("inventory")
        workers("books")
        events.opening_count(SHOP, {PISANG: 40, SINGKONG: 30})
        live = start + timedelta(days=2, hours=10)  # the 3rd: a day of live till sales
        events.send(
            "pos.sales",
            SHOP,
            events.envelope(
                sale("S-LIVE", live, (PISANG, 2, 15_000)), event_id=sale_event_id(SHOP, "S-LIVE")
            ),
        )
        partial = pos.SaleReturned(  # one of the two back, the same day
            return_id="R-LIVE",
            sale_id="S-LIVE",
            outlet_id=SHOP,
            returned_at=live + timedelta(hours=3),
            lines=[pos.SaleLine(sku=PISANG, qty=1, unit_price_idr=15_000)],
        )
        events.send("pos.sales", SHOP, events.envelope(partial))
        events.flush()
        # Expired packs go back to the producer on the 25th: out of stock, not sold.
        ops = {"X-API-Key": ops_key}
        back = {
            "sendback_id": "RB-1",
            "lines": [{"sku": SINGKONG, "qty": 4}],
            "reason": "expired",
            "sent_at": (start + timedelta(days=24, hours=9)).isoformat(),
        }
        sent = httpx.post(f"{inventory.url}/v1/outlets/{SHOP}/send-backs", json=back, headers=ops)
        assert sent.status_code == 202, sent.text
        monkeypatch.setenv("LUMBUNG_BOOKS_INVENTORY_URL", inventory.url)
        with in_process_api("books", worker_env, registry, ops_key) as api:
            assert api.put("/v1/report-profiles/indomaret", json=PROFILE).status_code == 200
            day = lambda n: (start + timedelta(days=n - 1)).strftime("%d/%m/%Y")  # noqa: E731
            rows = [
                ("2011001", day(3), 1, 15_000),  # a live day: refused
                ("2011001", day(10), 3, 45_000),
                ("2011002", day(10), 2, 28_000),
                ("2011001", day(21), 60, 870_000),  # more than the store held: flagged
                ("9999999", day(21), 1, 1_000),  # no such PLU: refused
            ]
            number = f"ST-{period}-{SUPPLIER}-{SHOP}"
            # The store's stock and its live day are known before the report comes.
            stock = lambda: read_model.on_hand([SHOP])  # noqa: E731
            assert read_model.wait_for(
                lambda: (stock().get((SHOP, PISANG)), stock().get((SHOP, SINGKONG))) == (39, 26)
            )
            first = statement_when(api, number, lambda st: st["returned"] == 1 and st["sent_back"])
            assert (first["sold"], first["returned"]) == (2, 1)
            url = f"/v1/reports/indomaret/TGR1/{period}"
            data = report_csv(rows)
            answer = ready_answer(api, url, data, dry_run=True)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["outcome"] == "dry_run"
            statuses = [(r["row"], r["status"]) for r in body["rows"]]
            assert statuses == [
                (3, "refused"),
                (4, "flagged"),
                (5, "ok"),
                (6, "flagged"),
                (7, "refused"),
            ]
            assert "live sales" in body["rows"][0]["message"]

            imported = api.post(url, content=data, params={"dry_run": "false"})
            assert imported.status_code == 201, imported.text
            sale_ids = imported.json()["sale_ids"]
            assert sale_ids == [
                f"RPT-TGR1-{(start + timedelta(days=9)):%Y%m%d}",
                f"RPT-TGR1-{(start + timedelta(days=20)):%Y%m%d}",
            ]
            again = api.post(url, content=data, params={"dry_run": "false"})
            assert (again.status_code, again.json()["outcome"]) == (200, "unchanged")
            changed = report_csv([*rows[:1], ("2011001", day(10), 4, 60_000), *rows[2:]])
            refused = api.post(url, content=changed, params={"dry_run": "false"})
            assert refused.status_code == 409, refused.text
            assert refused.json()["differences"] == [
                {
                    "day": (start + timedelta(days=9)).date().isoformat(),
                    "sku": PISANG,
                    "before": {"qty": 3, "amount_idr": 45_000},
                    "now": {"qty": 4, "amount_idr": 60_000},
                }
            ]

            sales = on_topic("pos.sales", wait_for=3)
            reported = [e for e in sales if e["data"]["sale_id"].startswith("RPT-")]
            assert sorted({e["data"]["sale_id"] for e in reported}) == sale_ids
            assert len(reported) == 2  # the unchanged re-import wrote nothing
            assert {e["data"]["device_id"] for e in reported} == {"report:indomaret"}
            written = on_topic("books.reports", wait_for=2)
            assert [e["event_type"] for e in written].count("books.ReportImported") == 1

            alerts = on_topic("inventory.alerts")
            expected = expected_statement(sales, alerts, on_topic("catalog.outlets"))

            def as_expected(st: dict[str, Any]) -> bool:
                return figures_of(st) == expected

            statement = statement_when(api, number, as_expected)
            assert as_expected(statement), (statement["lines"], expected)
            assert (statement["sold"], statement["returned"]) == (2 + 3 + 2 + 60, 1)
            assert {line["commission_percent"] for line in statement["lines"]} == {17.5, 15.0}
            assert statement["sent_back"] == sent_back_in(on_topic("inventory.commands"))
            assert statement["sent_back"] == [{"sku": SINGKONG, "qty": 4, "reason": "expired"}]
    finally:
        inventory.stop()


def sent_back_in(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Goods the shop sent back to the supplier last month, per SKU and reason, from the
    raw `inventory.commands` (each send-back id once)."""
    period, _ = last_month()
    units: dict[tuple[str, str], int] = {}
    seen: set[str] = set()
    for event in commands:
        data = event["data"]
        if event["event_type"] != "inventory.GoodsSentBack" or data["sendback_id"] in seen:
            continue
        seen.add(data["sendback_id"])
        sent = datetime.fromisoformat(data["sent_at"]).astimezone(WITA)  # the shop's zone
        if data["outlet_id"] != SHOP or sent.strftime("%Y-%m") != period:
            continue
        for line in data["lines"]:
            if supplier_of(line["sku"]) == SUPPLIER:
                key = (line["sku"], data["reason"])
                units[key] = units.get(key, 0) + line["qty"]
    return [{"sku": sku, "qty": units[sku, why], "reason": why} for sku, why in sorted(units)]


def supplier_of(sku: str) -> str:
    return {s: body["supplier_id"] for s, body in demo.products()}[sku]


def ready_answer(api: Any, url: str, data: bytes, dry_run: bool) -> Any:
    """The answer once the books are built (503 while the worker builds them)."""
    deadline = time.monotonic() + 60
    while True:
        answer = api.post(url, content=data, params={"dry_run": str(dry_run).lower()})
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)
