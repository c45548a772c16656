from __future__ import annotations

from datetime import date, datetime

from lumbung.catalog import demo
from lumbung.catalog.domain import CALENDAR, OUTLET, PRODUCT, SUPPLIER
from lumbung.contracts.events.catalog import (
    CalendarEventDetails,
    OutletDetails,
    ProductDetails,
    SessionKind,
    SupplierDetails,
)

TODAY = date(2026, 11, 20)
KINDS = {k.plural: k for k in (PRODUCT, SUPPLIER, OUTLET, CALENDAR)}


def entities(collection: str) -> dict[str, object]:
    kind = KINDS[collection]
    return {
        entity_id: kind.details.model_validate(body)
        for c, entity_id, body in demo.catalog(TODAY)
        if c == collection
    }


def test_every_demo_product_comes_in_its_own_pack_size() -> None:
    products = entities("products")

    sizes = {sku: p.pack_size for sku, p in products.items() if isinstance(p, ProductDetails)}
    assert sizes["MADU-KELULUT-250"] == 6
    assert sizes["AMPLANG-IKAN-250"] == 12
    assert sizes["BATIK-PASER-KAIN"] == 1
    assert len(sizes) == len(demo.PRODUCTS)


def test_demo_suppliers_deliver_on_their_days_within_their_capacity() -> None:
    suppliers = {
        sid: s for sid, s in entities("suppliers").items() if isinstance(s, SupplierDetails)
    }

    anjat = suppliers["SUP-ANJAT"]
    assert [anjat.delivers_on(date(2026, 11, d)) for d in range(16, 23)] == [
        False,  # Monday
        True,
        False,
        False,
        True,  # Friday
        False,
        False,
    ]
    assert anjat.weekly_capacity == 40
    assert len(suppliers) == len(demo.SUPPLIERS)


def test_the_porprov_sessions_run_from_the_opening_to_the_closing_ceremony() -> None:
    [porprov] = entities("events").values()
    assert isinstance(porprov, CalendarEventDetails)

    first, last = porprov.sessions[0], porprov.sessions[-1]
    assert (first.kind, last.kind) == (SessionKind.CEREMONY, SessionKind.CEREMONY)
    assert first.starts_at.date() == date(2026, 11, 19)
    assert last.starts_at.date() == date(2026, 11, 26)
    assert porprov.expected_visitors == 60_000


def test_each_porprov_booth_is_near_the_sessions_at_its_own_venue() -> None:
    [porprov] = entities("events").values()
    outlets = entities("outlets")
    assert isinstance(porprov, CalendarEventDetails)

    venues = {}
    for booth_id in ("BOOTH-STADION", "BOOTH-GOR", "BOOTH-KUARO"):
        booth = outlets[booth_id]
        assert isinstance(booth, OutletDetails)
        assert booth.location is not None
        near = porprov.sessions_near(booth.location, within_km=0.5)
        venues[booth_id] = {s.venue for s in near}
        assert all(booth.open_at(s.starts_at) for s in near)
    assert venues == {
        "BOOTH-STADION": {demo.STADION},
        "BOOTH-GOR": {demo.GOR},
        "BOOTH-KUARO": {demo.KOLAM},
    }


def test_the_demo_sessions_follow_the_load_day() -> None:
    later = datetime(2027, 3, 1).date()
    sessions = demo.sessions(later)

    assert sessions[0]["starts_at"].startswith("2027-02-28")
