"""A retailer's sales report read through its profile, row by row, with no broker: what
each row becomes, what is refused and why, and how a re-import compares."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook

from lumbung.books.reports import (
    Line,
    Period,
    Profile,
    ReportError,
    compare,
    flag,
    read,
    rows_text,
)

INDOMARET = Profile(
    retailer="indomaret",
    columns={
        "store": "KODE TOKO",
        "barcode": "BARCODE",
        "plu": "PLU",
        "date": "TANGGAL",
        "qty": "QTY",
        "amount": "RUPIAH",
    },
    date_format="%d/%m/%Y",
    stores={"TZ01": "IDM-TANAH-GROGOT"},
    plus={"20112233": "MADU-KELULUT-250"},
)
BARCODES = {"8991234500011": "AMPLANG-IKAN-250", "8991234500028": "KERIPIK-PISANG-200"}
SKUS = frozenset({"AMPLANG-IKAN-250", "KERIPIK-PISANG-200", "MADU-KELULUT-250"})
NOVEMBER = Period.month("2026-11")

CSV = (
    b"LAPORAN PENJUALAN KONSINYASI;;;;;\n"  # a title and a blank row before the header
    b";;;;;\n"
    b"KODE TOKO;PLU;BARCODE;TANGGAL;QTY;RUPIAH\n"
    b"TZ01;;8991234500011;03/11/2026;4;100.000\n"
    b"TZ01;;8991234500011;03/11/2026;1;25.000\n"  # the same day and product: they add up
    b"TZ01;20112233;;04/11/2026;2;Rp 170.000\n"  # no barcode: the PLU finds it
    b"TZ02;;8991234500028;04/11/2026;1;15.000\n"
    b"TZ01;;8991234500099;05/11/2026;1;10.000\n"
    b"TZ01;;8991234500028;01/12/2026;1;15.000\n"
    b"TZ01;;8991234500028;06/11/2026;dua;30.000\n"
    b"TZ01;;8991234500028;07/11/2026;3;45.000\n"
)


def test_every_row_is_checked_and_what_it_became_is_said() -> None:
    report = read(CSV, "tz01.csv", INDOMARET, "TZ01", NOVEMBER, BARCODES, SKUS)

    assert report.outlet_id == "IDM-TANAH-GROGOT"
    assert report.report_id == "indomaret|TZ01|2026-11"
    assert report.lines == {
        (date(2026, 11, 3), "AMPLANG-IKAN-250"): Line(
            date(2026, 11, 3), "AMPLANG-IKAN-250", 5, 125_000
        ),
        (date(2026, 11, 4), "MADU-KELULUT-250"): Line(
            date(2026, 11, 4), "MADU-KELULUT-250", 2, 170_000
        ),
        (date(2026, 11, 7), "KERIPIK-PISANG-200"): Line(
            date(2026, 11, 7), "KERIPIK-PISANG-200", 3, 45_000
        ),
    }
    assert list(rows_text(report)) == [
        "row 7: refused: store 'TZ02' is not 'TZ01'",
        "row 8: refused: barcode '8991234500099' is no product in the catalog",
        "row 9: refused: 2026-12-01 is outside 2026-11",
        "row 10: refused: qty 'dua' is not a whole number of units",
    ]
    assert [r.status for r in report.rows].count("ok") == 4


def test_an_xlsx_export_reads_as_its_csv_does() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["KODE TOKO", "PLU", "BARCODE", "TANGGAL", "QTY", "RUPIAH"])
    sheet.append(["TZ01", None, 8991234500011, date(2026, 11, 3), 4, 100000])
    sheet.append(["TZ01", 20112233, None, "04/11/2026", 2.0, 170000.0])
    out = io.BytesIO()
    book.save(out)

    report = read(out.getvalue(), "tz01.xlsx", INDOMARET, "TZ01", NOVEMBER, BARCODES, SKUS)

    assert {(line.sku, line.qty, line.amount_idr) for line in report.lines.values()} == {
        ("AMPLANG-IKAN-250", 4, 100_000),
        ("MADU-KELULUT-250", 2, 170_000),
    }


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"KODE;TANGGAL\nTZ01;03/11/2026\n", "no row among the first 10"),
        (b"\xff\xfeK\x00", "not UTF-8"),
        (b"PK\x03\x04 not really a workbook", "not a readable XLSX"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(data: bytes, said: str) -> None:
    with pytest.raises(ReportError, match=said):
        read(data, "x.csv", INDOMARET, "TZ01", NOVEMBER, BARCODES, SKUS)


def test_a_store_the_profile_does_not_map_is_refused_whole() -> None:
    with pytest.raises(ReportError, match="store 'TZ09' is not in the indomaret profile"):
        read(CSV, "x.csv", INDOMARET, "TZ09", NOVEMBER, BARCODES, SKUS)


def test_a_profile_must_name_the_columns_it_needs() -> None:
    with pytest.raises(ValueError, match="'barcode' or 'plu'"):
        Profile(
            retailer="x",
            columns={"store": "S", "date": "D", "qty": "Q", "amount": "A"},
        )
    with pytest.raises(ValueError, match="amount"):
        Profile(retailer="x", columns={"store": "S", "date": "D", "qty": "Q", "plu": "P"})


def test_days_with_live_sales_are_refused_and_more_than_delivered_is_flagged() -> None:
    report = read(CSV, "x.csv", INDOMARET, "TZ01", NOVEMBER, BARCODES, SKUS)

    delivered = {"AMPLANG-IKAN-250": 4, "KERIPIK-PISANG-200": 3}
    flag(report, live_days={date(2026, 11, 4)}, delivered=delivered)

    assert (date(2026, 11, 4), "MADU-KELULUT-250") not in report.lines
    by_row = {r.row: (r.status, r.message) for r in report.rows}
    assert by_row[6][0] == "refused"
    assert "live sales that day" in by_row[6][1]
    assert by_row[4] == (
        "flagged",
        "AMPLANG-IKAN-250: 5 reported in 2026-11, but the store held 4",
    )
    assert by_row[11] == ("ok", "")  # KERIPIK: all 3 delivered sold
    assert len(report.lines) == 2  # flagged lines are still imported: sales are facts


def test_the_same_report_again_is_unchanged_and_a_changed_one_lists_its_differences() -> None:
    first = read(CSV, "x.csv", INDOMARET, "TZ01", NOVEMBER, BARCODES, SKUS)
    again = read(CSV, "x.csv", INDOMARET, "TZ01", NOVEMBER, BARCODES, SKUS)
    changed_csv = CSV.replace(b"07/11/2026;3;45.000", b"07/11/2026;4;60.000")
    changed = read(changed_csv, "x.csv", INDOMARET, "TZ01", NOVEMBER, BARCODES, SKUS)

    assert compare(first.lines, again) == []
    assert first.digest() == again.digest() != changed.digest()
    [difference] = compare(first.lines, changed)
    assert (difference.sku, difference.before, difference.now) == (
        "KERIPIK-PISANG-200",
        (3, 45_000),
        (4, 60_000),
    )
    assert first.sales() == again.sales()
    assert [sale.sale_id for sale in first.sales()] == [
        f"RPT-TZ01-{day:%Y%m%d}" for day in sorted({day for day, _ in first.lines})
    ]


@pytest.mark.parametrize(
    ("qty", "amount", "prices"),
    [
        (4, 100_000, [(4, 25_000)]),
        (3, 100_000, [(2, 33_333), (1, 33_334)]),
    ],
)
def test_a_lines_prices_add_up_to_its_amount_to_the_rupiah(
    qty: int, amount: int, prices: list[tuple[int, int]]
) -> None:
    line = Line(date(2026, 11, 3), "AMPLANG-IKAN-250", qty, amount)

    assert line.prices() == prices
    assert sum(units * price for units, price in line.prices()) == amount


@pytest.mark.parametrize(
    ("text", "rupiah"),
    [
        ("25000", 25_000),
        ("25.000", 25_000),
        ("Rp 1.250.000", 1_250_000),
        ("25,000", 25_000),
        ("25.000,00", 25_000),
        ("25,000.00", 25_000),
        ("25000,5", None),
        ("-5", None),
    ],
)
def test_amounts_read_as_indonesian_and_english_spreadsheets_write_them(
    text: str, rupiah: int | None
) -> None:
    row = f"TZ01;;8991234500011;03/11/2026;1;{text}\n"
    header = "KODE TOKO;PLU;BARCODE;TANGGAL;QTY;RUPIAH\n"
    report = read((header + row).encode(), "x.csv", INDOMARET, "TZ01", NOVEMBER, BARCODES, SKUS)

    amounts = [line.amount_idr for line in report.lines.values()]
    assert amounts == ([rupiah] if rupiah is not None else [])
