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
