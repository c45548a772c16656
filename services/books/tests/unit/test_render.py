"""A statement as CSV and as a printable page in Bahasa Indonesia."""

from __future__ import annotations

from typing import Any

from lumbung.books.render import as_csv, as_html, rupiah

LINE = {
    "sku": "KERIPIK-PISANG-200",
    "unit_price_idr": 15_000,
    "commission_percent": 17.5,
    "sold": 3,
    "returned": 1,
    "gross_idr": 30_000,
    "commission_idr": 5_250,
    "net_idr": 24_750,
}
STATEMENT: dict[str, Any] = {
    "number": "ST-2026-11-SUP-KERIPIK-IDM-GROGOT-1",
    "period": "2026-11",
    "state": "part_paid",
    "forum_name": "Forum <UMKM> Paser",
    "supplier_id": "SUP-KERIPIK",
    "supplier_name": "Keripik Pisang Kuaro",
    "outlet_id": "IDM-GROGOT-1",
    "outlet_name": "Indomaret Jl. Sultan Ibrahim Khaliludin",
    "lines": [LINE],
    **{k: LINE[k] for k in ("sold", "returned", "gross_idr", "commission_idr", "net_idr")},
    "refunds_idr": 15_000,
    "sent_back": [{"sku": "KERIPIK-PISANG-200", "qty": 4, "reason": "expired"}],
    "issued_at": "2026-12-01T10:00:00+08:00",
    "payments": [
        {
            "payment_id": "PAY-1",
            "paid_at": "2026-12-02T10:00:00+08:00",
            "method": "cash",
            "amount_idr": 10_000,
            "note": "termin 1",
        }
    ],
    "paid_idr": 10_000,
    "outstanding_idr": 14_750,
}


def test_rupiah_is_written_with_dots_between_thousands() -> None:
    assert [rupiah(n) for n in (24_750, 1_491_750, 500, -30_000)] == [
        "Rp 24.750",
        "Rp 1.491.750",
        "Rp 500",
        "-Rp 30.000",
    ]


def test_the_page_names_the_forum_and_the_supplier_in_bahasa_indonesia() -> None:
    page = as_html(STATEMENT)

    assert "<h1>Forum &lt;UMKM&gt; Paser</h1>" in page  # names are escaped
    assert "Pemasok: <strong>Keripik Pisang Kuaro</strong>" in page
    assert "Status: Dibayar sebagian" in page
    assert "Sisa: <strong>Rp 14.750</strong>" in page
    assert '<td class="n">17,5 %</td>' in page
    assert "<td>Tunai</td>" in page
    assert "Dikembalikan ke pemasok (bukan penjualan)" in page
    assert '<td class="n">4</td><td>Kedaluwarsa</td>' in page
    assert "http" not in page  # nothing loaded from elsewhere: it prints offline


def test_the_csv_has_a_row_per_line_one_per_sku_sent_back_and_a_total_row() -> None:
    rows = as_csv([STATEMENT]).splitlines()

    assert rows[0].startswith("number,period,supplier_id,outlet_id,state,sku,")
    head = "ST-2026-11-SUP-KERIPIK-IDM-GROGOT-1,2026-11,SUP-KERIPIK,IDM-GROGOT-1,part_paid"
    assert rows[1:] == [
        f"{head},KERIPIK-PISANG-200,15000,17.5,3,1,30000,5250,24750,,",
        f"{head},KERIPIK-PISANG-200,,,,,,,,4,expired",
        f"{head},TOTAL,,,3,1,30000,5250,24750,4,",
    ]
