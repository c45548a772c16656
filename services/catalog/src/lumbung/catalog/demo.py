"""The demo catalog: Paser producers, their products, and outlets of every channel.

Calendar windows are set relative to the day it is loaded, so the Porprov booths are open
in the demo whatever the date; so is the Indomaret stores' commission change, which last
month's consignment statements show.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WITA = ZoneInfo("Asia/Makassar")
ALL_DAY_START, ALL_DAY_END = time(7, 0), time(22, 0)

# supplier id, name, owner, WhatsApp, language, lead time (days)
SUPPLIERS: list[tuple[str, str, str, str, str, int]] = [
    ("SUP-SARI", "Amplang Bu Sari", "Sari Wulandari", "+6281250011001", "id", 2),
    ("SUP-GROGOT", "Kerupuk Grogot Jaya", "H. Rusdi", "+6281250011002", "id", 3),
    ("SUP-KELULUT", "Madu Kelulut Long Kali", "Yohanes Paser", "+6281250011003", "id", 5),
    ("SUP-AREN", "Gula Aren Muara Komam", "Siti Aminah", "+6281250011004", "id", 4),
    ("SUP-KOPI", "Kopi Liberika Batu Sopang", "Andi Pratama", "+6281250011005", "en", 3),
    ("SUP-KERIPIK", "Keripik Pisang Kuaro", "Nur Hasanah", "+6281250011006", "id", 2),
    ("SUP-ANJAT", "Anjat Rotan Dayak Paser", "Ina Lentera", "+6281250011007", "id", 7),
    ("SUP-BATIK", "Batik Paser Motif Rotan", "Rahmawati", "+6281250011008", "id", 10),
    ("SUP-LEMPOK", "Lempok Durian Long Ikis", "Pak Darman", "+6281250011009", "id", 4),
    ("SUP-TERASI", "Terasi Udang Pasir Mayang", "Bu Jumiati", "+6281250011010", "id", 3),
    ("SUP-SARUNG", "Tenun Sarung Samarinda Paser", "Hj. Mariam", "+6281250011011", "en", 10),
]

# supplier id: the weekdays it delivers, the most units it delivers in a week (None: no limit)
DELIVERIES: dict[str, tuple[list[str], int | None]] = {
    "SUP-SARI": (["mon", "wed", "fri"], 600),
    "SUP-GROGOT": (["tue", "fri"], 400),
    "SUP-KELULUT": (["thu"], 60),
    "SUP-AREN": (["mon", "thu"], 200),
    "SUP-KOPI": (["wed", "sat"], 150),
    "SUP-KERIPIK": (["mon", "tue", "wed", "thu", "fri", "sat"], 800),
    "SUP-ANJAT": (["tue", "fri"], 40),
    "SUP-BATIK": (["mon", "thu"], 30),
    "SUP-LEMPOK": (["wed", "sat"], 200),
    "SUP-TERASI": (["tue", "fri"], None),
    "SUP-SARUNG": (["sat"], 20),
}

# sku, name, supplier, category, unit, price (rupiah)
PRODUCTS: list[tuple[str, str, str, str, str, int]] = [
    ("AMPLANG-IKAN-250", "Amplang Ikan Pipih 250 g", "SUP-SARI", "camilan", "pack", 25_000),
    ("AMPLANG-UDANG-250", "Amplang Udang 250 g", "SUP-SARI", "camilan", "pack", 30_000),
    ("AMPLANG-MINI-100", "Amplang Mini 100 g", "SUP-SARI", "camilan", "pack", 12_000),
    ("KERUPUK-IKAN-500", "Kerupuk Ikan Belida 500 g", "SUP-GROGOT", "camilan", "pack", 35_000),
    ("KERUPUK-UDANG-250", "Kerupuk Udang 250 g", "SUP-GROGOT", "camilan", "pack", 22_000),
    ("MADU-KELULUT-250", "Madu Kelulut 250 ml", "SUP-KELULUT", "madu", "botol", 85_000),
    ("MADU-KELULUT-500", "Madu Kelulut 500 ml", "SUP-KELULUT", "madu", "botol", 160_000),
    ("GULA-AREN-500", "Gula Aren Cetak 500 g", "SUP-AREN", "gula", "pack", 28_000),
    ("GULA-AREN-SEMUT", "Gula Semut Aren 250 g", "SUP-AREN", "gula", "pack", 25_000),
    ("KOPI-LIBERIKA-200", "Kopi Liberika Bubuk 200 g", "SUP-KOPI", "kopi", "pack", 45_000),
    ("KOPI-LIBERIKA-BIJI", "Kopi Liberika Biji 500 g", "SUP-KOPI", "kopi", "pack", 95_000),
    ("KERIPIK-PISANG-200", "Keripik Pisang Manis 200 g", "SUP-KERIPIK", "camilan", "pack", 15_000),
    ("KERIPIK-SINGKONG-200", "Keripik Singkong Balado", "SUP-KERIPIK", "camilan", "pack", 14_000),
    ("ANJAT-BESAR", "Anjat Rotan Besar", "SUP-ANJAT", "kerajinan", "pcs", 350_000),
    ("ANJAT-KECIL", "Anjat Rotan Kecil", "SUP-ANJAT", "kerajinan", "pcs", 150_000),
    ("GANTUNGAN-ROTAN", "Gantungan Kunci Rotan", "SUP-ANJAT", "kerajinan", "pcs", 15_000),
    ("BATIK-PASER-KAIN", "Kain Batik Paser 2 m", "SUP-BATIK", "batik", "pcs", 275_000),
    ("BATIK-PASER-KEMEJA", "Kemeja Batik Paser", "SUP-BATIK", "batik", "pcs", 325_000),
    ("LEMPOK-DURIAN-250", "Lempok Durian 250 g", "SUP-LEMPOK", "camilan", "pack", 40_000),
    ("TERASI-UDANG-100", "Terasi Udang 100 g", "SUP-TERASI", "bumbu", "pack", 18_000),
    ("SARUNG-TENUN", "Sarung Tenun Paser", "SUP-SARUNG", "tenun", "pcs", 450_000),
]

# units in one pack as the supplier delivers it: a carton of snacks, a box of honey bottles
PACK_SIZES = {
    "AMPLANG-IKAN-250": 12,
    "AMPLANG-UDANG-250": 12,
    "AMPLANG-MINI-100": 24,
    "KERUPUK-IKAN-500": 10,
    "KERUPUK-UDANG-250": 10,
    "MADU-KELULUT-250": 6,
    "MADU-KELULUT-500": 6,
    "GULA-AREN-500": 10,
    "GULA-AREN-SEMUT": 12,
    "KOPI-LIBERIKA-200": 10,
    "KOPI-LIBERIKA-BIJI": 5,
    "KERIPIK-PISANG-200": 12,
    "KERIPIK-SINGKONG-200": 12,
    "ANJAT-BESAR": 1,
    "ANJAT-KECIL": 1,
    "GANTUNGAN-ROTAN": 10,
    "BATIK-PASER-KAIN": 1,
    "BATIK-PASER-KEMEJA": 1,
    "LEMPOK-DURIAN-250": 10,
    "TERASI-UDANG-100": 20,
    "SARUNG-TENUN": 1,
}

# what one unit costs its producer to make (rupiah): about 60 % of the price, so that a
# consigned unit still earns after the store's commission
COSTS = {
    "AMPLANG-IKAN-250": 16_000,
    "AMPLANG-UDANG-250": 19_500,
    "AMPLANG-MINI-100": 7_500,
    "KERUPUK-IKAN-500": 23_000,
    "KERUPUK-UDANG-250": 14_000,
    "MADU-KELULUT-250": 55_000,
    "MADU-KELULUT-500": 105_000,
    "GULA-AREN-500": 17_000,
    "GULA-AREN-SEMUT": 15_500,
    "KOPI-LIBERIKA-200": 27_000,
    "KOPI-LIBERIKA-BIJI": 60_000,
    "KERIPIK-PISANG-200": 9_000,
    "KERIPIK-SINGKONG-200": 8_500,
    "ANJAT-BESAR": 210_000,
    "ANJAT-KECIL": 90_000,
    "GANTUNGAN-ROTAN": 7_000,
    "BATIK-PASER-KAIN": 180_000,
    "BATIK-PASER-KEMEJA": 215_000,
    "LEMPOK-DURIAN-250": 26_000,
    "TERASI-UDANG-100": 11_000,
    "SARUNG-TENUN": 300_000,
}

SNACKS = [
    "AMPLANG-IKAN-250",
    "AMPLANG-MINI-100",
    "KERUPUK-UDANG-250",
    "KERIPIK-PISANG-200",
    "KERIPIK-SINGKONG-200",
    "LEMPOK-DURIAN-250",
]
DRINKS = ["MADU-KELULUT-250", "KOPI-LIBERIKA-200", "GULA-AREN-SEMUT"]
CRAFTS = ["ANJAT-KECIL", "GANTUNGAN-ROTAN", "BATIK-PASER-KAIN"]
EVERYTHING = [p[0] for p in PRODUCTS]


def _moment(day: date, at: time) -> str:
    return datetime.combine(day, at, WITA).isoformat()


STADION, GOR, KOLAM = "Stadion Sadurengas, Tanah Grogot", "GOR Tanah Grogot", "Kolam Renang Kuaro"


def _session(
    name: str, venue: str, kind: str, day: date, hours: tuple[time, time], visitors: int
) -> dict[str, Any]:
    return {
        "name": name,
        "venue": venue,
        "kind": kind,
        "starts_at": _moment(day, hours[0]),
        "ends_at": _moment(day, hours[1]),
        "expected_visitors": visitors,
    }


def sessions(today: date) -> list[dict[str, Any]]:
    """Porprov from the day before the load day to six days after: an opening ceremony,
    matches at the three venues, a closing ceremony."""

    def day(offset: int) -> date:
        return today + timedelta(days=offset)

    evening, morning = (time(19, 0), time(21, 30)), (time(8, 0), time(11, 0))
    return [
        _session(
            "Upacara Pembukaan / opening ceremony", STADION, "ceremony", day(-1), evening, 8_000
        ),
        *(
            _session(
                f"Sepak bola hari {n} / football day {n}",
                STADION,
                "match",
                day(n - 1),
                (time(15, 30), time(17, 30)),
                3_000,
            )
            for n in range(1, 7)
        ),
        *(
            _session(
                f"Bulu tangkis hari {n} / badminton day {n}",
                GOR,
                "match",
                day(n - 1),
                (time(9, 0), time(12, 0)),
                800,
            )
            for n in range(1, 6)
        ),
        *(
            _session(
                f"Renang hari {n} / swimming day {n}", KOLAM, "match", day(n - 1), morning, 400
            )
            for n in range(1, 4)
        ),
        _session(
            "Upacara Penutupan / closing ceremony", STADION, "ceremony", day(6), evening, 7_000
        ),
    ]


def calendar(today: date) -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            "PORPROV-2026",
            {
                "name": "Porprov Kaltim 2026, Paser",
                "starts_at": _moment(today - timedelta(days=1), ALL_DAY_START),
                "ends_at": _moment(today + timedelta(days=6), ALL_DAY_END),
                "venues": [
                    {"name": STADION, "location": {"lat": -1.907, "lon": 116.196}},
                    {"name": GOR, "location": {"lat": -1.912, "lon": 116.201}},
                    {"name": KOLAM, "location": {"lat": -1.834, "lon": 116.043}},
                ],
                "expected_visitors": 60_000,
                "sessions": sessions(today),
            },
        )
    ]


def commission_history(today: date) -> list[dict[str, Any]]:
    """The Indomaret stores' rates: 17.5 % from the first of the month before last, 15 %
    from the 16th of last month, so last month's statement shows a change in mid-month."""
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    month_before = (last_month - timedelta(days=1)).replace(day=1)
    return [
        {"effective_from": month_before.isoformat(), "percent": 17.5},
        {"effective_from": last_month.replace(day=16).isoformat(), "percent": 15.0},
    ]


def outlets(today: date) -> list[tuple[str, dict[str, Any]]]:
    booth_window = {
        "starts_at": _moment(today - timedelta(days=1), ALL_DAY_START),
        "ends_at": _moment(today + timedelta(days=6), ALL_DAY_END),
    }

    def items(skus: list[str]) -> list[dict[str, Any]]:
        return [{"sku": sku} for sku in skus]

    def booth(name: str, address: str, lat: float, lon: float) -> dict[str, Any]:
        return {
            "name": name,
            "channel": "event_booth",
            "address": address,
            "location": {"lat": lat, "lon": lon},
            "active_window": booth_window,
            "home_outlet_id": "SOUVENIR-GROGOT",  # the leftovers go there at the close
            "calendar_id": "PORPROV-2026",
            "assortment": items(SNACKS + DRINKS + CRAFTS),
        }

    def indomaret(name: str, address: str, lat: float, lon: float) -> dict[str, Any]:
        return {
            "name": name,
            "channel": "indomaret",
            "address": address,
            "location": {"lat": lat, "lon": lon},
            "commission_percent": 15.0,
            "commission_history": commission_history(today),
            "assortment": items([*SNACKS, "GULA-AREN-500", "TERASI-UDANG-100"]),
        }

    return [
        (
            "IKN-01",
            {
                "name": "Kios UMKM Paser di IKN",
                "channel": "ikn_kiosk",
                "address": "Kawasan Inti Pusat Pemerintahan, IKN",
                "location": {"lat": -0.973, "lon": 116.705},
                "assortment": items(EVERYTHING),
            },
        ),
        (
            "RA-KM47",
            {
                "name": "Rest Area KM 47 Balikpapan-Samarinda",
                "channel": "rest_area",
                "address": "Jalan Tol Balsam KM 47",
                "location": {"lat": -1.07, "lon": 116.95},
                "assortment": items(SNACKS + DRINKS),
            },
        ),
        (
            "RA-KUARO",
            {
                "name": "Rest Area Kuaro",
                "channel": "rest_area",
                "address": "Jl. Negara Kuaro, Paser",
                "location": {"lat": -1.83, "lon": 116.04},
                "assortment": items(SNACKS + DRINKS),
            },
        ),
        (
            "IDM-GROGOT-1",
            indomaret("Indomaret Jl. Sultan Ibrahim Khaliludin", "Tanah Grogot", -1.905, 116.193),
        ),
        ("IDM-GROGOT-2", indomaret("Indomaret Jl. Kusuma Bangsa", "Tanah Grogot", -1.914, 116.188)),
        ("IDM-KUARO", indomaret("Indomaret Kuaro", "Kuaro, Paser", -1.835, 116.045)),
        (
            "BOOTH-STADION",
            booth("Booth Porprov Stadion Sadurengas", "Stadion Sadurengas", -1.907, 116.196),
        ),
        ("BOOTH-GOR", booth("Booth Porprov GOR Tanah Grogot", "GOR Tanah Grogot", -1.912, 116.201)),
        ("BOOTH-KUARO", booth("Booth Porprov Kolam Renang Kuaro", "Kuaro", -1.834, 116.043)),
        (
            "ONLINE",
            {
                "name": "Toko Online Lumbung Paser",
                "channel": "online",
                "address": "Diambil di outlet pilihan",
                "assortment": items(EVERYTHING),
            },
        ),
        (
            "SOUVENIR-GROGOT",
            {
                "name": "Pusat Oleh-Oleh Tanah Grogot",
                "channel": "souvenir_center",
                "address": "Jl. Jenderal Sudirman",
                "location": {"lat": -1.909, "lon": 116.19},
                "assortment": items(EVERYTHING),
            },
        ),
    ]


def suppliers() -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            sid,
            {
                "name": name,
                "owner_name": owner,
                "language": language,
                "contacts": {
                    "whatsapp": phone,
                    "email": f"{sid.lower().removeprefix('sup-')}@umkm-paser.id",
                },
                "restock_lead_time_days": lead,
                "delivery_days": DELIVERIES[sid][0],
                "weekly_capacity": DELIVERIES[sid][1],
            },
        )
        for sid, name, owner, phone, language, lead in SUPPLIERS
    ]


def ean13(number: int) -> str:
    """A demo EAN-13 barcode under Indonesia's GS1 prefix 899 (the forum's made-up company
    number 9123), with its check digit, so a retailer's report can name products by it."""
    body = f"8999123{number:05d}"
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    return f"{body}{check}"


def products() -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            sku,
            {
                "name": name,
                "supplier_id": supplier,
                "category": category,
                "unit": unit,
                "price_idr": price,
                "pirt_no": f"20664030{i:05d}-26",
                "pack_size": PACK_SIZES[sku],
                "cost_idr": COSTS[sku],
                "barcode": ean13(i),
            },
        )
        for i, (sku, name, supplier, category, unit, price) in enumerate(PRODUCTS, 1)
    ]


def catalog(today: date) -> list[tuple[str, str, dict[str, Any]]]:
    """Every demo entity as (collection, id, body), in an order that satisfies references."""
    return [
        *(("suppliers", i, b) for i, b in suppliers()),
        *(("products", i, b) for i, b in products()),
        *(("events", i, b) for i, b in calendar(today)),
        *(("outlets", i, b) for i, b in outlets(today)),
    ]
