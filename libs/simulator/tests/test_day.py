"""The simulated day without a network: the same seed gives the same day, booths rush."""

from __future__ import annotations

from datetime import date, timedelta

from lumbung.simulator.day import Day, rush

OUTLETS = [
    {"outlet_id": "BOOTH-A", "channel": "event_booth"},
    {"outlet_id": "RA-1", "channel": "rest_area"},
    {"outlet_id": "IKN-01", "channel": "ikn_kiosk"},
]


def sales(day: Day) -> list[int]:
    return [
        day.sales_in_minute(outlet, day.at(minute))
        for minute in range(day.minutes)
        for outlet in OUTLETS
    ]


def test_the_same_seed_makes_the_same_day() -> None:
    one, two = Day(date(2026, 11, 29), OUTLETS, 7), Day(date(2026, 11, 29), OUTLETS, 7)
    assert sales(one) == sales(two)
    assert one.outages == two.outages
    assert sales(Day(date(2026, 11, 29), OUTLETS, 8)) != sales(one)


def test_booths_rush_in_the_morning_and_evening_and_outages_fall_in_the_day() -> None:
    day = Day(date(2026, 11, 29), OUTLETS, 7)
    quiet, morning, evening = (day.start + timedelta(hours=h) for h in (7, 2.5, 11.5))
    assert rush("event_booth", morning) > 4 * rush("event_booth", quiet)
    assert rush("event_booth", evening) > 4 * rush("event_booth", quiet)
    assert rush("ikn_kiosk", morning) == 1.0
    assert len(day.outages) == 2
    assert all(day.start < o.starts < o.ends <= day.end for o in day.outages)
