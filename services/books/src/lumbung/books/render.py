"""A statement as CSV (for spreadsheets) and as a printable HTML page in Bahasa Indonesia
(no script, no stylesheet from elsewhere: it prints from a booth's laptop offline)."""

from __future__ import annotations

import csv
import io
from html import escape
from typing import Any

CSV_COLUMNS = (
    "number",
    "period",
    "supplier_id",
    "outlet_id",
    "state",
    "sku",
    "unit_price_idr",
    "commission_percent",
    "sold",
    "returned",
    "gross_idr",
    "commission_idr",
    "net_idr",
    "sent_back",
    "sent_back_reason",
)
LINE_FIELDS = CSV_COLUMNS[5:13]
STATES = {
    "open": "Terbuka (belum diterbitkan)",
    "issued": "Diterbitkan",
    "part_paid": "Dibayar sebagian",
    "paid": "Lunas",
}
METHODS = {"transfer": "Transfer", "cash": "Tunai", "qris": "QRIS", "other": "Lainnya"}
REASONS = {
    "unsold": "Tidak laku",
    "expired": "Kedaluwarsa",
    "damaged": "Rusak",
    "other": "Lainnya",
}


def rupiah(amount: int) -> str:
    """1491750 -> 'Rp 1.491.750'."""
    return f"{'-' if amount < 0 else ''}Rp {abs(amount):,}".replace(",", ".")


def percent(value: float) -> str:
    return f"{value:g}".replace(".", ",") + " %"


def as_csv(statements: list[dict[str, Any]]) -> str:
    """One row per line of every statement, one per SKU and reason of the goods sent back
    to the supplier (units in `sent_back`, no money), then one `TOTAL` row per statement."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for st in statements:
        head = [st["number"], st["period"], st["supplier_id"], st["outlet_id"], st["state"]]
        for line in st["lines"]:
            writer.writerow([*head, *(line[name] for name in LINE_FIELDS), "", ""])
        for back in st["sent_back"]:
            writer.writerow([*head, back["sku"], *[""] * 7, back["qty"], back["reason"]])
        totals = ["TOTAL", "", "", st["sold"], st["returned"]]
        money = [st["gross_idr"], st["commission_idr"], st["net_idr"]]
        writer.writerow([*head, *totals, *money, sum(b["qty"] for b in st["sent_back"]), ""])
    return out.getvalue()


PAGE = """<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<title>Nota Konsinyasi {number}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #111; }}
table {{ border-collapse: collapse; width: 100%; margin: 1em 0; }}
th, td {{ border: 1px solid #999; padding: 4px 8px; }}
td.n, th.n {{ text-align: right; }}
tfoot td {{ font-weight: bold; }}
@media print {{ body {{ margin: 0; }} }}
</style>
</head>
<body>
<h1>{forum_name}</h1>
<h2>Nota Konsinyasi (Titip Jual) {number}</h2>
<p>Pemasok: <strong>{supplier_name}</strong> ({supplier_id})<br>
Outlet: <strong>{outlet_name}</strong> ({outlet_id})<br>
Periode: {period}<br>
Status: {state}{issued}</p>
<table>
<thead><tr><th>SKU</th><th class="n">Harga satuan</th><th class="n">Komisi</th>
<th class="n">Terjual</th><th class="n">Retur</th><th class="n">Bruto</th>
<th class="n">Komisi (Rp)</th><th class="n">Bersih</th></tr></thead>
<tbody>
{rows}
</tbody>
<tfoot><tr><td colspan="3">Jumlah</td><td class="n">{sold}</td><td class="n">{returned}</td>
<td class="n">{gross_idr}</td><td class="n">{commission_idr}</td>
<td class="n">{net_idr}</td></tr></tfoot>
</table>
<p>Pengembalian dana ke pembeli (retur), dicatat saja: {refunds_idr}</p>
{sent_back}
<p>Harus dibayar ke pemasok: <strong>{net_idr}</strong><br>
Sudah dibayar: {paid_idr}<br>
Sisa: <strong>{outstanding_idr}</strong></p>
{payments}
<p><small>Komisi per baris dibulatkan ke rupiah penuh (setengah ke atas).
Bruto = (terjual - retur) x harga satuan.</small></p>
</body>
</html>
"""


def _row(line: dict[str, Any]) -> str:
    cells = [
        escape(line["sku"]),
        rupiah(line["unit_price_idr"]),
        percent(line["commission_percent"]),
        str(line["sold"]),
        str(line["returned"]),
        rupiah(line["gross_idr"]),
        rupiah(line["commission_idr"]),
        rupiah(line["net_idr"]),
    ]
    numbers = "".join(f'<td class="n">{cell}</td>' for cell in cells[1:])
    return f"<tr><td>{cells[0]}</td>{numbers}</tr>"


def _table(title: str, headers: list[str], rows: list[list[str]], numbers: set[int]) -> str:
    """A titled table after the statement's own (nothing when it has no rows); the
    columns in `numbers` are right-aligned. Cells come escaped."""
    if not rows:
        return ""

    def cells(tag: str, texts: list[str]) -> str:
        return "".join(
            f'<{tag} class="n">{t}</{tag}>' if n in numbers else f"<{tag}>{t}</{tag}>"
            for n, t in enumerate(texts)
        )

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    head = cells("th", headers)
    return f"<h3>{title}</h3><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _payments(payments: list[dict[str, Any]]) -> str:
    rows = [
        [
            escape(p["payment_id"]),
            escape(p["paid_at"][:10]),
            METHODS.get(p["method"], escape(p["method"])),
            rupiah(p["amount_idr"]),
            escape(p["note"]),
        ]
        for p in payments
    ]
    return _table("Pembayaran", ["No.", "Tanggal", "Cara", "Jumlah", "Catatan"], rows, {3})


def _sent_back(lines: list[dict[str, Any]]) -> str:
    """Goods the outlet sent back to the supplier: neither sold nor paid for."""
    rows = [
        [escape(b["sku"]), str(b["qty"]), REASONS.get(b["reason"], escape(b["reason"]))]
        for b in lines
    ]
    title = "Dikembalikan ke pemasok (bukan penjualan)"
    return _table(title, ["SKU", "Jumlah", "Alasan"], rows, {1})


TEXTS = ("number", "forum_name", "supplier_name", "supplier_id", "outlet_name", "outlet_id")
MONEY = ("gross_idr", "commission_idr", "net_idr", "refunds_idr", "paid_idr", "outstanding_idr")


def as_html(st: dict[str, Any]) -> str:
    issued = f"<br>Diterbitkan: {escape(st['issued_at'][:10])}" if st["issued_at"] else ""
    return PAGE.format(
        **{name: escape(st[name]) for name in (*TEXTS, "period")},
        **{name: rupiah(st[name]) for name in MONEY},
        sold=st["sold"],
        returned=st["returned"],
        state=STATES[st["state"]],
        issued=issued,
        rows="\n".join(_row(line) for line in st["lines"]),
        payments=_payments(st["payments"]),
        sent_back=_sent_back(st["sent_back"]),
    )
