"""What a producer or ops reads: short texts in Bahasa Indonesia (the default) or English,
with rupiah written the Indonesian way (`Rp 15.000`) and times in WITA."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

WITA = ZoneInfo("Asia/Makassar")
DAYS = {
    "id": ["Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}
MONTHS = {
    "id": ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str


@dataclass(frozen=True)
class RestockLine:
    outlet_name: str
    product_name: str
    qty: int
    unit: str
    needed_by: datetime
    accept_url: str
    decline_url: str


def rupiah(amount: int) -> str:
    """15000 -> 'Rp 15.000' (dots between thousands, no decimals)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")


def wita(moment: datetime, language: str = "id") -> str:
    """A moment as people in Paser read it: 'Sen, 30 Nov 2026 09.00 WITA'."""
    local = moment.astimezone(WITA)
    lang = language if language in DAYS else "id"
    clock = local.strftime("%H.%M" if lang == "id" else "%H:%M")
    day, month = DAYS[lang][local.weekday()], MONTHS[lang][local.month - 1]
    return f"{day}, {local.day} {month} {local.year} {clock} WITA"


@dataclass(frozen=True)
class StockoutLine:
    """One predicted stockout, as a supplier or ops reads it."""

    outlet_name: str
    product_name: str
    available: int
    unit: str
    on_order: int
    expected_at: datetime
    units_per_hour: float
    lead_time_hours: int


def around(moment: datetime, language: str = "id") -> str:
    """An estimate a few days ahead at most: 'Sel 14.20 WITA', 'Tue 14:20 WITA'."""
    local = moment.astimezone(WITA)
    lang = language if language in DAYS else "id"
    clock = local.strftime("%H.%M" if lang == "id" else "%H:%M")
    return f"{DAYS[lang][local.weekday()]} {clock} WITA"


def pace(units_per_hour: float, language: str = "id") -> str:
    """2.5 -> '2,5' (Indonesian) or '2.5'; whole numbers without decimals."""
    text = f"{units_per_hour:.1f}".removesuffix(".0")
    return text if language == "en" else text.replace(".", ",")


def restock_request(language: str, owner_name: str, line: RestockLine) -> Message:
    when = wita(line.needed_by, language)
    if language == "en":
        return Message(
            f"Restock needed: {line.product_name} at {line.outlet_name}",
            f"Hello {owner_name},\n"
            f"{line.outlet_name} needs {line.qty} {line.unit} of {line.product_name} "
            f"by {when}.\n"
            f"Accept: {line.accept_url}\nDecline: {line.decline_url}\n— Lumbung",
        )
    return Message(
        f"Perlu restok: {line.product_name} di {line.outlet_name}",
        f"Halo {owner_name},\n"
        f"{line.outlet_name} membutuhkan {line.qty} {line.unit} {line.product_name} "
        f"paling lambat {when}.\n"
        f"Terima: {line.accept_url}\nTolak: {line.decline_url}\n— Lumbung",
    )


def restock_digest(language: str, owner_name: str, lines: list[RestockLine]) -> Message:
    """Many requests for one producer within the digest window, as one message."""
    if len(lines) == 1:
        return restock_request(language, owner_name, lines[0])
    english = language == "en"
    items = []
    for n, line in enumerate(lines, 1):
        when = wita(line.needed_by, language)
        by, accept, decline = (
            ("by", "accept", "decline") if english else ("sebelum", "terima", "tolak")
        )
        items.append(
            f"{n}. {line.outlet_name}: {line.qty} {line.unit} {line.product_name}, {by} {when}\n"
            f"   {accept}: {line.accept_url}\n   {decline}: {line.decline_url}"
        )
    if english:
        head = f"Hello {owner_name},\n{len(lines)} restock requests:\n"
        return Message(f"{len(lines)} restock requests", head + "\n".join(items) + "\n— Lumbung")
    head = f"Halo {owner_name},\nAda {len(lines)} permintaan restok:\n"
    return Message(f"{len(lines)} permintaan restok", head + "\n".join(items) + "\n— Lumbung")


def _stockout_sentence(language: str, line: StockoutLine) -> str:
    when, per_hour = around(line.expected_at, language), pace(line.units_per_hour, language)
    if language == "en":
        counted = f", counting the {line.on_order} on order" if line.on_order else ""
        return (
            f"{line.outlet_name} has {line.available} {line.unit} of {line.product_name} left, "
            f"selling about {per_hour} an hour: runs out around {when}{counted}."
        )
    counted = f", sudah termasuk {line.on_order} yang dipesan" if line.on_order else ""
    return (
        f"{line.product_name} di {line.outlet_name} tinggal {line.available} {line.unit}, "
        f"terjual sekitar {per_hour} per jam: habis sekitar {when}{counted}."
    )


def _lead_time(language: str, hours: int) -> str:
    if language == "en":
        return f"Your delivery takes {hours} hours: please get a restock ready."
    return f"Pengiriman Anda butuh {hours} jam: mohon siapkan restok."


def stockout_forecast(language: str, owner_name: str, line: StockoutLine) -> Message:
    """A product that will run out at an outlet before the supplier could bring more."""
    sentence = _stockout_sentence(language, line)
    lead = _lead_time(language, line.lead_time_hours)
    if language == "en":
        return Message(
            f"Running out soon: {line.product_name} at {line.outlet_name}",
            f"Hello {owner_name},\n{sentence}\n{lead}\n— Lumbung",
        )
    return Message(
        f"Segera habis: {line.product_name} di {line.outlet_name}",
        f"Halo {owner_name},\n{sentence}\n{lead}\n— Lumbung",
    )


def supplier_digest(
    language: str, owner_name: str, requests: list[RestockLine], stockouts: list[StockoutLine]
) -> Message:
    """What one producer hears of within the digest window: restock requests to answer
    and stockouts foreseen, one message (a digest of one reads like that one message)."""
    if not stockouts:
        return restock_digest(language, owner_name, requests)
    if not requests and len(stockouts) == 1:
        return stockout_forecast(language, owner_name, stockouts[0])
    english = language == "en"
    parts = []
    if requests:
        parts.append(restock_digest(language, owner_name, requests).text)
        parts[0] = parts[0].removesuffix("\n— Lumbung")
    else:
        parts.append(f"Hello {owner_name}," if english else f"Halo {owner_name},")
    if english:
        soon = f"{len(stockouts)} product{'s' * (len(stockouts) > 1)} running out soon"
        asked = f"{len(requests)} restock request{'s' * (len(requests) > 1)}, "
    else:
        soon = f"{len(stockouts)} produk segera habis"
        asked = f"{len(requests)} permintaan restok, "
    heading = f"{soon}:"
    leads = {line.lead_time_hours for line in stockouts}
    items = []
    for n, line in enumerate(stockouts, 1):
        item = f"{n}. {_stockout_sentence(language, line)}"
        if len(leads) > 1:
            item += " " + _lead_time(language, line.lead_time_hours)
        items.append(item)
    if len(leads) == 1:
        items.append(_lead_time(language, leads.pop()))
    parts.append("\n".join([heading, *items]))
    subject = f"{asked * bool(requests)}{soon}"
    return Message(subject, "\n".join(parts) + "\n— Lumbung")


def ops_alert(kind: str, outlet_name: str, product_name: str, on_hand: int) -> Message:
    """For the forum's ops desk (in Bahasa Indonesia)."""
    if kind == "negative_stock":
        return Message(
            f"Selisih stok: {product_name} di {outlet_name}",
            f"Stok {product_name} di {outlet_name} tercatat {on_hand}: mohon hitung ulang.",
        )
    if kind == "unknown_sku":
        return Message(
            f"Produk tak dikenal: {product_name} di {outlet_name}",
            f"{outlet_name} menjual {product_name}, yang belum ada di katalog: mohon periksa.",
        )
    return Message(
        f"Stok habis: {product_name} di {outlet_name}",
        f"{product_name} di {outlet_name} habis (stok {on_hand}).",
    )


def order_failed(order_id: str, outlet_name: str, reason: str) -> Message:
    """An order that inventory never answered: someone should call the customer."""
    return Message(
        f"Pesanan gagal: {order_id} di {outlet_name}",
        f"Pesanan {order_id} untuk diambil di {outlet_name} gagal: {reason}. "
        "Mohon hubungi pelanggan.",
    )


def restock_overdue(
    outlet_name: str, product_name: str, on_order: int, expected_at: datetime
) -> Message:
    """A supplier's goods that did not come when promised: someone should call them."""
    return Message(
        f"Restok terlambat: {product_name} di {outlet_name}",
        f"{on_order} {product_name} untuk {outlet_name} dijanjikan tiba {wita(expected_at)} "
        "dan belum diterima. Mohon hubungi pemasok.",
    )


def stockouts_for_ops(lines: list[tuple[StockoutLine, str]]) -> Message:
    """Stockouts foreseen, with each supplier's name: one, or a digest of several."""
    texts = [
        f"{_stockout_sentence('id', line)} Pemasok{f' ({supplier})' * bool(supplier)} "
        f"butuh {line.lead_time_hours} jam untuk mengirim."
        for line, supplier in lines
    ]
    if len(lines) == 1:
        line = lines[0][0]
        return Message(f"Segera habis: {line.product_name} di {line.outlet_name}", texts[0])
    items = [f"{n}. {text}" for n, text in enumerate(texts, 1)]
    return Message(f"{len(lines)} produk segera habis", "\n".join(items))


@dataclass(frozen=True)
class StatementNote:
    """An issued consignment statement, as its supplier reads it."""

    number: str
    outlet_name: str
    period: str
    """`YYYY-MM`."""
    sold: int
    returned: int
    gross_idr: int
    commission_idr: int
    net_idr: int


def month(period: str, language: str = "id") -> str:
    """'2026-11' -> 'Nov 2026'."""
    year, number = period.split("-")
    return f"{MONTHS[language if language in MONTHS else 'id'][int(number) - 1]} {year}"


def statement_issued(language: str, owner_name: str, note: StatementNote) -> Message:
    """A consignment statement issued to its supplier: what sold, and what they are owed."""
    when = month(note.period, language)
    gross, commission, net = (
        rupiah(n) for n in (note.gross_idr, note.commission_idr, note.net_idr)
    )
    if language == "en":
        return Message(
            f"Consignment statement {note.number}: {note.outlet_name}, {when}",
            f"Hello {owner_name},\n"
            f"Your consignment statement for {note.outlet_name}, {when} is issued "
            f"({note.number}).\n"
            f"Sold {note.sold}, returned {note.returned}: {gross} gross, "
            f"{commission} commission.\nOwed to you: {net}.\n— Lumbung",
        )
    return Message(
        f"Nota konsinyasi {note.number}: {note.outlet_name}, {when}",
        f"Halo {owner_name},\n"
        f"Nota konsinyasi Anda untuk {note.outlet_name}, {when} sudah terbit ({note.number}).\n"
        f"Terjual {note.sold}, retur {note.returned}: bruto {gross}, komisi {commission}.\n"
        f"Dibayarkan ke Anda: {net}.\n— Lumbung",
    )
