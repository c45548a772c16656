"""The catalog fields the stockout forecaster and restock sizing read (issue 17): pack
sizes, suppliers' delivery days and weekly capacity, a calendar event's sessions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from lumbung.contracts import DEFAULT
from lumbung.contracts.bounds import MAX_PACK_SIZE, MAX_UNITS, MAX_VISITORS
from lumbung.contracts.events.catalog import (
    CalendarEventDetails,
    GeoPoint,
    ProductDetails,
    Session,
    SessionKind,
    SupplierChanged,
    SupplierDetails,
    Weekday,
)
from lumbung.contracts.examples import example_event

START = datetime.fromisoformat("2026-07-13T07:00:00+08:00")
PRODUCT = {
    "name": "Madu Kelulut 250 ml",
    "supplier_id": "SUP-KELULUT",
    "category": "madu",
    "unit": "botol",
    "price_idr": 85_000,
}
SUPPLIER = {"name": "Madu Kelulut Long Kali", "owner_name": "Yohanes"}
STADION = {"name": "Stadion Sadurengas", "location": {"lat": -1.907, "lon": 116.196}}
GOR = {"name": "GOR Tanah Grogot", "location": {"lat": -1.912, "lon": 116.201}}
KOLAM = {"name": "Kolam Renang Kuaro", "location": {"lat": -1.834, "lon": 116.043}}
BALAI = {"name": "Balai Adat Paser"}  # no location


def session(name: str, venue: str, start_hours: int = 2, hours: int = 2, **more: Any) -> Any:
    return {
        "name": name,
        "venue": venue,
        "starts_at": (START + timedelta(hours=start_hours)).isoformat(),
        "ends_at": (START + timedelta(hours=start_hours + hours)).isoformat(),
        **more,
    }


def event(*sessions: dict[str, Any], **more: Any) -> CalendarEventDetails:
    return CalendarEventDetails.model_validate(
        {
            "name": "Porprov Kaltim 2026",
            "starts_at": START.isoformat(),
            "ends_at": (START + timedelta(days=7)).isoformat(),
            "venues": [STADION, GOR, KOLAM, BALAI],
            "sessions": list(sessions),
            **more,
        }
    )


def refusal(model: Any, body: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    [error] = refused.value.errors()
    return ".".join(str(p) for p in error["loc"]), str(error["msg"])


# -- products ---------------------------------------------------------------------------


def test_a_product_without_a_pack_size_comes_one_by_one() -> None:
    assert ProductDetails.model_validate(PRODUCT).pack_size == 1


@pytest.mark.parametrize("size", [0, -6, MAX_PACK_SIZE + 1])
def test_a_pack_size_outside_one_to_the_bound_is_refused(size: int) -> None:
    field, _ = refusal(ProductDetails, {**PRODUCT, "pack_size": size})

    assert field == "pack_size"


@pytest.mark.parametrize(
    ("units", "pack_size", "asked"),
    [(0, 6, 0), (1, 6, 6), (6, 6, 6), (7, 6, 12), (25, 12, 36), (7, 1, 7), (-3, 6, 0)],
)
def test_a_restock_is_rounded_up_to_whole_packs(units: int, pack_size: int, asked: int) -> None:
    product = ProductDetails.model_validate({**PRODUCT, "pack_size": pack_size})

    assert product.in_packs(units) == asked


# -- suppliers --------------------------------------------------------------------------


def test_a_supplier_without_delivery_days_delivers_every_day_without_a_limit() -> None:
    supplier = SupplierDetails.model_validate(SUPPLIER)

    assert supplier.delivery_days == list(Weekday)
    assert supplier.weekly_capacity is None
    monday = date(2026, 7, 13)
    assert all(supplier.delivers_on(monday + timedelta(days=n)) for n in range(7))


def test_a_supplier_delivers_only_on_its_days() -> None:
    supplier = SupplierDetails.model_validate({**SUPPLIER, "delivery_days": ["thu", "mon"]})
    monday = date(2026, 7, 13)

    delivering = [(monday + timedelta(days=n)).strftime("%a") for n in range(14)]
    assert [d for n, d in enumerate(delivering) if supplier.delivers_on(monday + timedelta(n))] == [
        "Mon",
        "Thu",
        "Mon",
        "Thu",
    ]


def test_delivery_days_are_kept_monday_first_whatever_order_they_came_in() -> None:
    supplier = SupplierDetails.model_validate({**SUPPLIER, "delivery_days": ["sun", "wed", "mon"]})

    assert supplier.delivery_days == [Weekday.MONDAY, Weekday.WEDNESDAY, Weekday.SUNDAY]


def test_weekday_of_a_date_follows_the_calendar() -> None:
    assert Weekday.of(date(2026, 7, 14)) is Weekday.TUESDAY
    assert Weekday.of(date(2026, 7, 19)) is Weekday.SUNDAY


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (["mon", "thu", "mon"], "mon is listed twice"),
        (["fri", "mon", "fri", "mon"], "mon, fri are listed twice"),
        ([], "at least 1 item"),
        (["senin"], "Input should be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'"),
    ],
)
def test_delivery_days_that_are_not_distinct_weekdays_are_refused_saying_why(
    days: list[str], message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        SupplierDetails.model_validate({**SUPPLIER, "delivery_days": days})

    [error] = refused.value.errors()
    assert error["loc"][0] == "delivery_days"
    assert message in error["msg"]


@pytest.mark.parametrize("capacity", [0, -1, MAX_UNITS + 1])
def test_a_weekly_capacity_outside_its_bound_is_refused(capacity: int) -> None:
    field, _ = refusal(SupplierDetails, {**SUPPLIER, "weekly_capacity": capacity})

    assert field == "weekly_capacity"


@pytest.mark.parametrize("version", [1, 2])
def test_a_supplier_event_written_before_these_fields_reads_with_the_defaults(version: int) -> None:
    spec = DEFAULT.event("catalog.SupplierChanged", version)
    wire = example_event(spec)
    for field in ("delivery_days", "weekly_capacity"):
        del wire["data"][field]

    supplier = DEFAULT.parse(wire).data

    assert isinstance(supplier, SupplierChanged)
    assert supplier.delivery_days == list(Weekday)
    assert supplier.weekly_capacity is None


# -- calendar ---------------------------------------------------------------------------


def test_an_event_keeps_its_sessions_and_expected_visitors() -> None:
    porprov = event(
        session("Upacara Pembukaan", "Stadion Sadurengas", kind="ceremony", expected_visitors=8000),
        expected_visitors=60_000,
    )

    assert porprov.expected_visitors == 60_000
    assert porprov.sessions[0].kind is SessionKind.CEREMONY
    assert porprov.sessions[0].expected_visitors == 8000


def test_a_session_is_of_kind_other_unless_told() -> None:
    assert event(session("Pameran UMKM", "GOR Tanah Grogot")).sessions[0].kind is SessionKind.OTHER


def test_a_session_at_a_venue_the_event_does_not_have_is_refused_naming_the_session() -> None:
    with pytest.raises(ValidationError) as refused:
        event(session("Final sepak bola", "Stadion Segiri"))

    [error] = refused.value.errors()
    assert error["loc"] == ("sessions",)
    assert "'Final sepak bola' is at 'Stadion Segiri'" in error["msg"]
    assert "not one of the event's venues" in error["msg"]


@pytest.mark.parametrize(("start_hours", "hours"), [(-1, 2), (7 * 24 - 1, 2), (-5, 1)])
def test_a_session_outside_the_event_is_refused_naming_the_session(
    start_hours: int, hours: int
) -> None:
    with pytest.raises(ValidationError) as refused:
        event(session("Renang 100 m", "Kolam Renang Kuaro", start_hours, hours))

    [error] = refused.value.errors()
    assert error["loc"] == ("sessions",)
    assert "'Renang 100 m'" in error["msg"]
    assert "is not inside the event" in error["msg"]


def test_a_session_may_fill_the_whole_event() -> None:
    whole = session("Pameran", "GOR Tanah Grogot", 0, 7 * 24)

    assert len(event(whole).sessions) == 1


def test_a_session_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError, match="ends_at must be after starts_at"):
        Session.model_validate(session("Bulu tangkis", "GOR Tanah Grogot", 5, -1))


@pytest.mark.parametrize("visitors", [-1, MAX_VISITORS + 1])
def test_expected_visitors_outside_the_bound_are_refused(visitors: int) -> None:
    with pytest.raises(ValidationError, match="expected_visitors"):
        event(expected_visitors=visitors)
    with pytest.raises(ValidationError, match="expected_visitors"):
        event(session("Voli", "GOR Tanah Grogot", expected_visitors=visitors))


def test_an_event_has_at_most_500_sessions() -> None:
    many = [session(f"Laga {n}", "GOR Tanah Grogot", 1, 1) for n in range(501)]

    with pytest.raises(ValidationError, match="at most 500"):
        event(*many)


def test_the_haversine_distance_between_two_venues() -> None:
    stadion, kolam = GeoPoint(lat=-1.907, lon=116.196), GeoPoint(lat=-1.834, lon=116.043)

    assert stadion.km_to(stadion) == 0
    # 0.073° of latitude and 0.153° of longitude near the equator: about 18.8 km.
    assert stadion.km_to(kolam) == pytest.approx(18.85, abs=0.05)
    assert kolam.km_to(stadion) == pytest.approx(stadion.km_to(kolam))
    # A quarter of the way round the earth along the equator.
    assert GeoPoint(lat=0, lon=0).km_to(GeoPoint(lat=0, lon=90)) == pytest.approx(10_007.5, abs=1)


def test_the_sessions_near_a_booth_are_those_at_venues_within_the_distance_earliest_first() -> None:
    porprov = event(
        session("Penutupan", "Stadion Sadurengas", 150, 2, kind="ceremony"),
        session("Sepak bola", "Stadion Sadurengas", 30),
        session("Bulu tangkis", "GOR Tanah Grogot", 10),
        session("Renang", "Kolam Renang Kuaro", 5),
        session("Musyawarah adat", "Balai Adat Paser", 1),
    )
    booth_at_the_stadium = GeoPoint(lat=-1.907, lon=116.196)

    def near(km: float) -> list[str]:
        return [s.name for s in porprov.sessions_near(booth_at_the_stadium, km)]

    assert near(0.5) == ["Sepak bola", "Penutupan"]
    assert near(1) == ["Bulu tangkis", "Sepak bola", "Penutupan"]  # the GOR is 0.8 km away
    assert near(20) == ["Renang", "Bulu tangkis", "Sepak bola", "Penutupan"]
    assert near(20_000) == near(20)  # a venue without a location is never near
    assert near(-1) == []
