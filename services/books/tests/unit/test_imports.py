"""What an import of a retailer's report writes, or why not, without a broker."""

from __future__ import annotations

from datetime import date

from lumbung.books.domain import Ledger
from lumbung.books.imports import Outcome, decide, differences_json, live_days, sales_body
from lumbung.books.reports import Period, Profile, flag, read
from lumbung.platform.clock import WITA

INDOMARET = Profile(
    retailer="indomaret",
    columns={"store": "Toko", "barcode": "Barcode", "date": "Tgl", "qty": "Qty", "amount": "Nilai"},
    stores={"TZ01": "IDM-TANAH-GROGOT"},
)
BARCODES = {"8991234500011": "AMPLANG-IKAN-250", "8991234500028": "KERIPIK-PISANG-200"}
SKUS = frozenset(BARCODES.values())
NOVEMBER = Period.month("2026-11")
CSV = (
    b"Toko,Barcode,Tgl,Qty,Nilai\n"
    b"TZ01,8991234500011,03/11/2026,3,100000\n"
    b"TZ01,8991234500028,03/11/2026,2,30000\n"
    b"TZ01,8991234500028,07/11/2026,3,45000\n"
)


def report(data: bytes = CSV):  # type: ignore[no-untyped-def]
    found = read(data, "nov.csv", INDOMARET, "TZ01", NOVEMBER, BARCODES, SKUS)
    flag(found, live_days=set(), delivered={sku: 1000 for sku in SKUS})
    return found


def test_a_new_report_is_imported_a_dry_run_is_not_and_the_same_one_again_is_unchanged() -> None:
    first = report()

    assert decide(first, None, "nov.csv", dry_run=True).outcome is Outcome.DRY_RUN
    done = decide(first, None, "nov.csv", dry_run=False)
    assert done.outcome is Outcome.IMPORTED
    assert done.imported.digest == first.digest()
    assert done.imported.sale_ids == [sale.sale_id for sale in first.sales()]

    again = decide(report(), done.imported, "nov-again.csv", dry_run=False)
    assert again.outcome is Outcome.UNCHANGED
    assert again.imported == done.imported


def test_a_changed_report_is_refused_with_its_differences() -> None:
    done = decide(report(), None, "nov.csv", dry_run=False).imported
    changed = report(CSV.replace(b"07/11/2026,3,45000", b"07/11/2026,4,60000"))

    decision = decide(changed, done, "nov.csv", dry_run=False)

    assert decision.outcome is Outcome.REFUSED
    [difference] = differences_json(decision.differences)
    assert difference["before"] == {"qty": 3, "amount_idr": 45_000}
    assert difference["now"] == {"qty": 4, "amount_idr": 60_000}


def test_the_sales_add_up_to_the_reported_amounts_and_are_dated_at_noon_of_their_day() -> None:
    found = report()

    body = sales_body(found, WITA)

    assert {s["device_id"] for s in body["sales"]} == {"report:indomaret"}
    for sale in body["sales"]:
        assert sale["sold_at"].endswith("T12:00:00+08:00")
        day = date.fromisoformat(sale["sold_at"][:10])
        for sku in {line["sku"] for line in sale["lines"]}:
            amount = sum(x["qty"] * x["unit_price_idr"] for x in sale["lines"] if x["sku"] == sku)
            assert amount == found.lines[(day, sku)].amount_idr


def test_live_days_are_the_days_any_supplier_sold_through_the_tills() -> None:
    a, b = Ledger(), Ledger()
    a.sell("2026-11-04", "X", 1, 1)
    b.sell("2026-11-05", "Y", 1, 1)
    b.sell("2026-11-06", "Y", 1, 1, live=False)

    assert live_days([a, b]) == {date(2026, 11, 4), date(2026, 11, 5)}
