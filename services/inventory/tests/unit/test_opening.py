"""A new booth's opening stock, with no broker: from the event's booths' history, or from
the visitors expected near it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from lumbung.contracts.events import catalog as cat
from lumbung.inventory.opening import BUYING_SHARE, SAFETY, UNITS_PER_BUYER, open_days, suggest
from lumbung.platform.clock import WITA

TODAY = date(2026, 7, 15)
MIDNIGHT = datetime(2026, 7, 13, tzinfo=WITA)
REVISION: dict[str, Any] = {"version": 1, "changed_at": MIDNIGHT}
STADIUM = cat.GeoPoint(lat=-1.9, lon=116.2)


def booth(
    outlet_id: str, first: int, days: int, where: cat.GeoPoint = STADIUM
) -> cat.OutletChanged:
    return cat.OutletChanged(
        outlet_id=outlet_id,
        name=outlet_id,
        channel=cat.Channel.EVENT_BOOTH,
        address="Paser",
        location=where,
        active_window=cat.TimeWindow(
            starts_at=MIDNIGHT + timedelta(days=first, hours=7),
            ends_at=MIDNIGHT + timedelta(days=first + days - 1, hours=22),
        ),
        calendar_id="PORPROV",
        assortment=[cat.AssortmentItem(sku="AMPLANG"), cat.AssortmentItem(sku="MADU")],
        **REVISION,
    )


def event(visitors: int | None = 6000) -> cat.CalendarEventChanged:
    match = MIDNIGHT + timedelta(days=2, hours=14)
    return cat.CalendarEventChanged(
        calendar_id="PORPROV",
        name="Porprov",
        starts_at=MIDNIGHT,
        ends_at=MIDNIGHT + timedelta(days=7),
        expected_visitors=70_000,
        venues=[cat.Venue(name="Stadion", location=STADIUM)],
        sessions=[
            cat.Session(
                name="Final",
                venue="Stadion",
                kind=cat.SessionKind.MATCH,
                starts_at=match,
                ends_at=match + timedelta(hours=2),
                expected_visitors=visitors,
            )
        ],
        **REVISION,
    )


def test_a_booth_opens_on_the_local_days_its_window_covers() -> None:
    assert open_days(booth("B", 2, 3)) == [date(2026, 7, 15), date(2026, 7, 16), date(2026, 7, 17)]


def test_with_history_it_is_what_the_event_s_booths_sold_per_whole_open_day() -> None:
    """Two peers opened on the 13th: four whole booth-days before today (the 15th), today's
    sales not counted; 40 AMPLANG in all is 10 a booth-day."""
    peers = [
        (
            booth("P1", 0, 5),
            {date(2026, 7, 13): {"AMPLANG": 15}, date(2026, 7, 14): {"AMPLANG": 5}},
        ),
        (
            booth("P2", 0, 5),
            {date(2026, 7, 14): {"AMPLANG": 20, "MADU": 4}, TODAY: {"AMPLANG": 99}},
        ),
    ]
    opening = suggest(booth("NEW", 2, 3), event(), peers, {"AMPLANG": 10}, TODAY)
    assert (opening.basis, opening.days) == ("history", 3)
    amplang, madu = opening.lines
    assert amplang.per_day == 10
    assert amplang.qty == 40  # 10 x 3 days x 1.2 = 36, in packs of 10
    assert "packs of 10" in amplang.why
    assert madu.per_day == 1
    assert madu.qty == 4  # 3.6, rounded up


def test_without_history_it_comes_from_the_visitors_near_it_shared_with_booths_near_it() -> None:
    far = cat.GeoPoint(lat=-2.3, lon=116.0)
    peers = [(booth("NEAR", 2, 3), {}), (booth("FAR", 2, 3, far), {})]
    opening = suggest(booth("NEW", 2, 3), event(6000), peers, {}, date(2026, 7, 13))
    assert opening.basis == "visitors"
    # 6000 at the final near it, 2 % buy 1.6 each: 192 over 3 days, shared with one other
    # booth near it, over two products
    expected = 6000 * BUYING_SHARE * UNITS_PER_BUYER / 3 / 2 / 2
    assert opening.lines[0].per_day == pytest.approx(expected, abs=0.01)
    assert opening.lines[0].qty == round(expected * 3 * (1 + SAFETY) + 0.5)


def test_without_sessions_counted_it_spreads_the_event_s_visitors_over_days_and_booths() -> None:
    opening = suggest(booth("NEW", 2, 3), event(None), [], {}, date(2026, 7, 13))
    per_booth_day = 70_000 / 7 * BUYING_SHARE * UNITS_PER_BUYER
    assert opening.lines[0].per_day == pytest.approx(per_booth_day / 2, abs=0.01)
