from __future__ import annotations

from datetime import date, datetime

from lumbung.catalog import demo
from lumbung.catalog.domain import CALENDAR, OUTLET, PRODUCT, SUPPLIER, next_revision
from lumbung.contracts.events.catalog import (
    CONSIGNMENT_CHANNELS,
    CalendarEventDetails,
    OutletDetails,
    ProductDetails,
    SessionKind,
    SupplierDetails,
)
from lumbung.platform.clock import WITA

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


def consignment_outlets() -> dict[str, OutletDetails]:
    return {
        outlet_id: outlet
        for outlet_id, outlet in entities("outlets").items()
        if isinstance(outlet, OutletDetails) and outlet.channel in CONSIGNMENT_CHANNELS
    }


def test_every_demo_product_costs_less_than_a_consigned_unit_brings_in() -> None:
    products = {sku: p for sku, p in entities("products").items() if isinstance(p, ProductDetails)}
    highest = max(
        rate.percent for o in consignment_outlets().values() for rate in o.commission_history
    )

    for sku, product in products.items():
        assert product.cost_idr is not None, sku
        assert 0 < product.cost_idr < product.price_idr * (1 - highest / 100), sku
    assert len(products) == len(demo.PRODUCTS)


def test_the_demo_indomaret_stores_changed_their_commission_in_the_middle_of_last_month() -> None:
    stores = consignment_outlets()

    assert sorted(stores) == ["IDM-GROGOT-1", "IDM-GROGOT-2", "IDM-KUARO"]
    for store in stores.values():
        assert store.commission_on(date(2026, 9, 1)) == 17.5
        assert store.commission_on(date(2026, 10, 15)) == 17.5
        assert store.commission_on(date(2026, 10, 16)) == 15.0
        assert store.commission_on(TODAY) == store.commission_percent == 15.0


def test_the_demo_commission_change_is_last_month_across_a_new_year() -> None:
    assert demo.commission_history(date(2027, 1, 5)) == [
        {"effective_from": "2026-11-01", "percent": 17.5},
        {"effective_from": "2026-12-16", "percent": 15.0},
    ]


def test_the_whole_demo_is_accepted_by_the_catalogs_rules_and_keeps_its_histories() -> None:
    loaded_at = datetime.combine(TODAY, datetime.min.time(), WITA)

    stored = {
        entity_id: next_revision(
            KINDS[c], entity_id, KINDS[c].details.model_validate(body), None, None, loaded_at
        )
        for c, entity_id, body in demo.catalog(TODAY)
    }

    for store_id in ("IDM-GROGOT-1", "IDM-GROGOT-2", "IDM-KUARO"):
        store = stored[store_id].model_dump(mode="json")
        assert store["commission_history"] == demo.commission_history(TODAY), store_id
