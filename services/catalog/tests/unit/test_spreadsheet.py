from __future__ import annotations

import pytest

from lumbung.catalog.spreadsheet import Report, SpreadsheetError, read, rupiah

PRODUCTS = (
    "sku;name;supplier_id;category;unit;price_idr;active\n"
    "AMPLANG-250;Amplang 250 g;SUP-SARI;snack;pack;Rp 25.000;ya\n"
    "KERUPUK-1;Kerupuk Ikan;SUP-SARI;snack;pack;lima ribu;ya\n"
    "MADU 1;Madu Kelulut;SUP-MADU;madu;botol;85000;\n"
    "AMPLANG-250;Amplang lagi;SUP-SARI;snack;pack;1;\n"
    ";;;;;;\n"
    "KOPI-1;Kopi Paser;SUP-KOPI;kopi;pack;-3;\n"
)


def report_of(sheet: str, data: bytes) -> tuple[list[str], list[str]]:
    report = Report(sheet, dry_run=True)
    rows = read(sheet, data, report)
    return [r.entity_id for r in rows], [p["message"] for p in report.problems]


def test_valid_rows_are_read_and_every_bad_row_is_reported_in_plain_words() -> None:
    ids, problems = report_of("products", PRODUCTS.encode())

    assert ids == ["AMPLANG-250"]
    assert problems == [
        "row 3: price_idr 'lima ribu' is not a number",
        "row 4: sku 'MADU 1' must be letters, digits, . _ or - (no spaces)",
        "row 5: sku 'AMPLANG-250' is already on row 2",
        "row 7: price_idr '-3': Input should be greater than or equal to 0",
    ]


def test_a_comma_separated_file_with_a_byte_order_mark_reads_the_same() -> None:
    data = "\ufeffsku,name,supplier_id,category,unit,price_idr\nA-1,Amplang,S-1,snack,pcs,5000\n"

    ids, problems = report_of("products", data.encode("utf-8"))

    assert (ids, problems) == (["A-1"], [])


def test_a_header_without_the_id_column_refuses_the_whole_file() -> None:
    with pytest.raises(SpreadsheetError, match="'sku'"):
        report_of("products", b"name;price_idr\nAmplang;5000\n")


def test_a_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(SpreadsheetError, match="UTF-8"):
        report_of("products", "sku;name\nA;Kue\xe9\n".encode("latin-1"))


def test_an_outlet_row_names_a_missing_window_for_a_booth() -> None:
    data = (
        "outlet_id;name;channel;address;active_from;active_until;assortment\n"
        "BOOTH-1;Booth;event_booth;Stadion;;;A-1|B-2:27.000\n"
        "BOOTH-2;Booth;event_booth;Stadion;2026-11-20T08:00+08:00;2026-11-30T22:00+08:00;A-1\n"
    )

    ids, problems = report_of("outlets", data.encode())

    assert ids == ["BOOTH-2"]
    assert problems == ["row 2: an event booth needs an active_window"]


@pytest.mark.parametrize(
    ("text", "value"),
    [("25000", 25000), ("Rp 25.000", 25000), ("rp15.000", 15000), ("lima ribu", "lima ribu")],
)
def test_rupiah_accepts_indonesian_thousands(text: str, value: int | str) -> None:
    assert rupiah(text) == value


@pytest.mark.parametrize(
    ("column", "cells", "values", "problems"),
    [
        (
            "pack_size",
            ["6", "", "lusin", "0", "10001"],
            [6, 1],
            [
                "row 4: pack_size 'lusin' is not a number",
                "row 5: pack_size '0': Input should be greater than or equal to 1",
                "row 6: pack_size '10001': Input should be less than or equal to 10000",
            ],
        ),
        (
            "cost_idr",
            ["Rp 16.000", "", "enam belas ribu", "-1"],
            [16000, None],
            [
                "row 4: cost_idr 'enam belas ribu' is not a number",
                "row 5: cost_idr '-1': Input should be greater than or equal to 0",
            ],
        ),
    ],
)
def test_an_optional_product_column_is_read_and_a_bad_value_is_a_row_problem(
    column: str, cells: list[str], values: list[object], problems: list[str]
) -> None:
    data = f"sku;name;supplier_id;category;unit;price_idr;{column}\n" + "".join(
        f"AMPLANG-{n};Amplang;SUP-SARI;camilan;pack;Rp 25.000;{text}\n"
        for n, text in enumerate(cells, 1)
    )
    report = Report("products", dry_run=True)

    rows = read("products", data.encode(), report)

    assert [getattr(r.details, column) for r in rows] == values
    assert [p["message"] for p in report.problems] == problems


SUPPLIERS = (
    "supplier_id;name;owner_name;delivery_days;weekly_capacity\n"
    "SUP-ANJAT;Anjat Rotan;Ina;Fri, tue;40\n"
    "SUP-TERASI;Terasi Udang;Jumiati;;\n"
    "SUP-A;Amplang;Sari;mon,senin;100\n"
    "SUP-B;Kerupuk;Rusdi;mon,thu,mon;100\n"
    "SUP-C;Kopi;Andi;wed;banyak\n"
    "SUP-D;Madu;Yohanes;thu;0\n"
    "SUP-E;Gula;Siti;,;\n"
)


def test_a_supplier_row_carries_its_delivery_days_and_weekly_capacity() -> None:
    report = Report("suppliers", dry_run=True)

    rows = read("suppliers", SUPPLIERS.encode(), report)

    assert [
        (r.entity_id, r.details.delivery_days, r.details.weekly_capacity)  # type: ignore[attr-defined]
        for r in rows
    ] == [
        ("SUP-ANJAT", ["tue", "fri"], 40),
        ("SUP-TERASI", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], None),
    ]


def test_bad_delivery_days_and_capacities_are_row_problems_in_plain_words() -> None:
    _, problems = report_of("suppliers", SUPPLIERS.encode())

    assert problems == [
        "row 4: delivery_days 'senin': Input should be "
        "'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'",
        "row 5: delivery_days: mon is listed twice",
        "row 6: weekly_capacity 'banyak' is not a number",
        "row 7: weekly_capacity '0': Input should be greater than 0",
        "row 8: delivery_days: List should have at least 1 item after validation, not 0",
    ]


def test_an_outlet_row_says_how_its_sales_arrive() -> None:
    data = (
        "outlet_id;name;channel;address;commission_percent;sales_source\n"
        "IDM-1;Indomaret Tanah Grogot;indomaret;Jl. Ahmad Yani;10;retailer_report\n"
        "IDM-2;Indomaret Kuaro;indomaret;Jl. Negara;10;\n"
        "IDM-3;Indomaret Long Ikis;indomaret;Jl. Poros;10;faks\n"
    )
    report = Report("outlets", dry_run=True)
    rows = read("outlets", data.encode(), report)

    assert [(r.entity_id, r.details.sales_source) for r in rows] == [  # type: ignore[attr-defined]
        ("IDM-1", "retailer_report"),
        ("IDM-2", "pos"),
    ]
    [problem] = [p["message"] for p in report.problems]
    assert problem.startswith("row 4: sales_source 'faks'")
