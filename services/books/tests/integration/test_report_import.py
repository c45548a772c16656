"""A retailer's report imported through the books API, on the real broker and Redis, with
the inventory API and workers running: a dry run writes nothing, the import's sales reach
`pos.sales` through the inventory ingest and the statement, the same report again changes
nothing, a changed one is refused with its differences, and a day with live till sales
is refused."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lumbung.contracts import sale_event_id
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


def test_a_store_report_is_imported_once_and_a_changed_one_is_refused(
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
        events.flush()
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
            assert read_model.wait_for(lambda: read_model.on_hand([SHOP]).get((SHOP, PISANG)) == 38)
            assert statement_when(api, number, lambda st: st["sold"] == 2)["sold"] == 2
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

            expected = expected_statement(sales, [], on_topic("catalog.outlets"))

            def as_expected(st: dict[str, Any]) -> bool:
                return figures_of(st) == expected

            statement = statement_when(api, number, as_expected)
            assert as_expected(statement), (statement["lines"], expected)
            assert statement["sold"] == 2 + 3 + 2 + 60
    finally:
        inventory.stop()


def ready_answer(api: Any, url: str, data: bytes, dry_run: bool) -> Any:
    """The answer once the books are built (503 while the worker builds them)."""
    deadline = time.monotonic() + 60
    while True:
        answer = api.post(url, content=data, params={"dry_run": str(dry_run).lower()})
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)
