"""Foresight with no broker: velocity, stockout ETAs, and the predict/clear episodes of
the inventory worker's forecast tick, on real contract events and catalog entities."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from lumbung.contracts.events import catalog as cat
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.inventory.entrypoints.worker import stock_stream
from lumbung.inventory.forecast import (
    HISTORY_SLOTS,
    SILENT_UNITS,
    Profile,
    Shape,
    note_sale,
    outlook,
    slot_of,
)
from lumbung.inventory.handlers import predict_stockouts, profile
from lumbung.platform.clock import WITA

from .test_handlers import NOW, Shelf

DAY = NOW.replace(hour=0)
KIOSK, BOOTH, FAR_BOOTH = "KIOSK-1", "BOOTH-1", "BOOTH-FAR"
STADIUM = cat.GeoPoint(lat=-1.9, lon=116.2)
REVISION: dict[str, Any] = {"version": 1, "changed_at": DAY}


class Catalog:
    """The catalog as the worker reads it, from real catalog entities."""

    def __init__(
        self,
        sessions: list[cat.Session] | None = None,
        lead_days: int = 1,
        pack_size: int = 1,
        delivery_days: list[cat.Weekday] | None = None,
    ) -> None:
        window = cat.TimeWindow(starts_at=DAY, ends_at=DAY + timedelta(days=3))
        self.outlets = {
            KIOSK: cat.OutletChanged(
                outlet_id=KIOSK,
                name="Kiosk",
                channel=cat.Channel.IKN_KIOSK,
                address="IKN",
                **REVISION,
            ),
            BOOTH: cat.OutletChanged(
                outlet_id=BOOTH,
                name="Booth",
                channel=cat.Channel.EVENT_BOOTH,
                address="Stadion",
                location=cat.GeoPoint(lat=-1.901, lon=116.201),
                active_window=window,
                calendar_id="PORPROV",
                **REVISION,
            ),
            FAR_BOOTH: cat.OutletChanged(
                outlet_id=FAR_BOOTH,
                name="Far booth",
                channel=cat.Channel.EVENT_BOOTH,
                address="Kuaro",
                location=cat.GeoPoint(lat=-2.2, lon=116.0),
                active_window=window,
                calendar_id="PORPROV",
                **REVISION,
            ),
        }
        self.event = cat.CalendarEventChanged(
            calendar_id="PORPROV",
            name="Porprov",
            starts_at=DAY,
            ends_at=DAY + timedelta(days=3),
            venues=[cat.Venue(name="Stadion", location=STADIUM)],
            sessions=sessions or [],
            **REVISION,
        )
        self.supplier_record = cat.SupplierChanged(
            supplier_id="SUP-1",
            name="Sari",
            owner_name="Sari",
            restock_lead_time_days=lead_days,
            delivery_days=delivery_days or list(cat.WEEK),
            **REVISION,
        )
        self.product_record = cat.ProductChanged(
            sku="AMPLANG",
            name="Amplang",
            supplier_id="SUP-1",
            category="camilan",
            unit="pack",
            price_idr=25_000,
            pack_size=pack_size,
            **REVISION,
        )

    def knows_sku(self, sku: str) -> bool:
        return True

    def supplier_of(self, sku: str) -> str | None:
        return "SUP-1"

    def supplier(self, supplier_id: str) -> cat.SupplierChanged | None:
        return self.supplier_record

    def product(self, sku: str) -> cat.ProductChanged | None:
        return self.product_record

    def outlet(self, outlet_id: str) -> cat.OutletChanged | None:
        return self.outlets.get(outlet_id)

    def calendar_event(self, calendar_id: str) -> cat.CalendarEventChanged | None:
        return self.event


def match(start_hour: float, hours: float = 2.0) -> cat.Session:
    starts = DAY + timedelta(hours=start_hour)
    return cat.Session(
        name="Sepak bola",
        venue="Stadion",
        kind=cat.SessionKind.MATCH,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
    )


# -- the pieces --------------------------------------------------------------------------


def test_a_cell_keeps_two_days_of_sales_per_slot_oldest_first_and_copies_on_write() -> None:
    now = slot_of(NOW)
    sold = note_sale([], now, 2, now)
    kept = note_sale(sold, now, 3, now)
    assert sold == [[now, 2]]
    assert kept == [[now, 5]]
    late = note_sale(kept, now - 3, 1, now)
    assert late == [[now - 3, 1], [now, 5]]
    assert note_sale(late, now - HISTORY_SLOTS, 9, now) == late  # too old to count
    assert note_sale(late, now + HISTORY_SLOTS - 2, 1, now + HISTORY_SLOTS - 2)[0] == [now, 5]


def test_a_steady_seller_has_a_steady_velocity_and_runs_out_when_the_units_do() -> None:
    shape = Shape(WITA)
    sold: list[list[int]] = []
    for minute in range(0, 180, 10):  # 07:00-10:00, 2 units every 10 minutes
        moment = DAY.replace(hour=7) + timedelta(minutes=minute)
        sold = note_sale(sold, slot_of(moment), 2, slot_of(NOW))
    view = outlook(shape, dict(map(tuple, sold)), NOW)  # type: ignore[arg-type]
    velocity = view.velocity(sold)
    assert velocity == pytest.approx(0.2, rel=0.05)  # units a minute
    eta = view.eta(velocity, 24)
    assert eta is not None
    assert abs(eta - (NOW + timedelta(hours=2))) < timedelta(minutes=10)
    # 12 due at 11:00 push it an hour further; nothing sells overnight
    later = view.eta(velocity, 24, [(NOW + timedelta(hours=1), 12)])
    assert later is not None
    assert abs(later - (NOW + timedelta(hours=3))) < timedelta(minutes=10)
    tomorrow = view.eta(velocity, 24 + 12 * 12)  # 12 h of selling from 10:00: 22:00 and on
    assert tomorrow is not None
    assert tomorrow.date() > NOW.date()
    assert view.eta(velocity, 0) == NOW


def test_a_booth_near_a_session_expects_a_rush_and_a_booth_far_from_it_does_not() -> None:
    catalog = Catalog([match(14)])
    from lumbung.inventory.service import shape_of

    near, far = shape_of(BOOTH, catalog, Profile()), shape_of(FAR_BOOTH, catalog, Profile())
    before = slot_of(DAY.replace(hour=13))
    after = slot_of(DAY.replace(hour=16))
    quiet = slot_of(DAY.replace(hour=11))
    assert near.weight(before) == near.weight(after) == 4 * near.weight(quiet)
    assert far.weight(before) == far.weight(quiet) == 1.0
    assert near.weight(slot_of(DAY.replace(hour=3))) == 0.0  # night
    assert near.weight(slot_of(DAY + timedelta(days=3, hours=10))) == 0.0  # window closed


def test_a_kiosk_learns_its_daily_shape_from_the_day_before() -> None:
    tz = WITA
    learned = Profile()
    totals = {slot_of(DAY + timedelta(hours=h)): (30 if h == 12 else 5) for h in range(8, 20)}
    learned.fold(totals, slot_of(DAY + timedelta(days=1, hours=7)), tz)
    assert learned.learned
    shape = Shape(tz, profile=learned)
    lunch = shape.weight(slot_of(DAY + timedelta(days=1, hours=12)))
    morning = shape.weight(slot_of(DAY + timedelta(days=1, hours=9)))
    assert lunch == pytest.approx(6 * morning)
    assert shape.weight(slot_of(DAY + timedelta(days=1, hours=12, minutes=30))) == 0.0


def test_an_outlet_gone_silent_has_an_unknown_velocity_not_zero() -> None:
    sold = [[slot_of(DAY.replace(hour=h)), 10] for h in (7, 8, 9)]
    busy = outlook(Shape(WITA), dict(map(tuple, sold)), DAY.replace(hour=10))  # type: ignore[arg-type]
    assert busy.velocity(sold) is not None
    # it sold ~10 an hour; three hours of nothing is far more than SILENT_UNITS missed
    assert SILENT_UNITS < 10 * 3
    silent = outlook(Shape(WITA), dict(map(tuple, sold)), DAY.replace(hour=13))  # type: ignore[arg-type]
    assert silent.silent
    assert silent.velocity(sold) is None


# -- the worker's tick -------------------------------------------------------------------


def sell(shelf: Shelf, outlet: str, sku: str, qty: int, at: datetime, n: int) -> None:
    shelf.now = at
    shelf.send(
        "pos.sales",
        pos.SaleRecorded(
            sale_id=f"S-{outlet}-{at:%d%H%M}-{n}",
            outlet_id=outlet,
            lines=[pos.SaleLine(sku=sku, qty=qty, unit_price_idr=10_000)],
            sold_at=at,
        ),
    )


def count(shelf: Shelf, outlet: str, sku: str, units: int, n: int) -> None:
    shelf.send(
        "inventory.commands",
        inv.StockCounted(
            count_id=f"C-{outlet}-{n}",
            outlet_id=outlet,
            lines=[inv.CountedLine(sku=sku, counted=units)],
            counted_at=shelf.now,
        ),
    )


def tick(
    shelf: Shelf, catalog: Catalog, at: datetime, restock: bool = False
) -> list[dict[str, Any]]:
    outcome = predict_stockouts(catalog, restock)(shelf.state, at)
    for key, value in outcome.changes.items():
        shelf.state[key] = value
    return [orjson.loads(emit.value) for emit in outcome.events]


def steady_day(shelf: Shelf, outlet: str, until: datetime, every_min: int = 10) -> None:
    moment, n = DAY.replace(hour=7), 0
    while moment < until:
        sell(shelf, outlet, "AMPLANG", 2, moment, n)
        moment, n = moment + timedelta(minutes=every_min), n + 1


def test_a_stockout_is_predicted_once_and_cleared_by_a_restock() -> None:
    catalog = Catalog(lead_days=0)  # lead 0 h: the reach is the 2 h margin
    shelf = Shelf(stock_stream(catalog))
    shelf.now = DAY.replace(hour=6)
    count(shelf, KIOSK, "AMPLANG", 200, 1)
    steady_day(shelf, KIOSK, NOW)  # 0.2 a minute, 36 sold by 10:00: 164 left
    assert tick(shelf, catalog, NOW) == []
    count(shelf, KIOSK, "AMPLANG", 20, 2)  # 20 left: out in about 1 h 40
    [predicted] = tick(shelf, catalog, NOW)
    assert predicted["event_type"] == "inventory.StockoutPredicted"
    data = predicted["data"]
    assert data["available"] == 20
    assert data["lead_time_hours"] == 0
    assert data["units_per_hour"] == pytest.approx(12, rel=0.1)
    eta = datetime.fromisoformat(data["expected_at"])
    assert abs(eta - (NOW + timedelta(minutes=100))) < timedelta(minutes=10)
    assert "20 left" in data["reason"]
    assert tick(shelf, catalog, NOW + timedelta(minutes=1)) == []  # once per episode
    count(shelf, KIOSK, "AMPLANG", 100, 3)
    [cleared] = tick(shelf, catalog, NOW + timedelta(minutes=2))
    assert cleared["event_type"] == "inventory.StockoutCleared"
    assert cleared["data"]["cleared_by"] == "restock"
    assert cleared["data"]["prediction_id"] == data["prediction_id"]
    assert shelf.stock(KIOSK, "AMPLANG").forecast is None


def test_goods_on_order_and_due_in_time_mean_no_prediction() -> None:
    catalog = Catalog(lead_days=0)
    shelf = Shelf(stock_stream(catalog))
    shelf.now = DAY.replace(hour=6)
    count(shelf, KIOSK, "AMPLANG", 56, 1)
    steady_day(shelf, KIOSK, NOW)  # 20 left at 10:00
    stock = shelf.stock(KIOSK, "AMPLANG")
    stock.restock_id, stock.on_order = "R-1", 30
    stock.due_at = (NOW + timedelta(minutes=30)).isoformat()
    shelf.state[f"s|{KIOSK}|AMPLANG"] = stock.to_list()
    assert tick(shelf, catalog, NOW) == []


def test_a_booth_predicts_the_stockout_its_session_rush_brings() -> None:
    """Steady at 0.2 a minute, 40 units last past 13:00 at that pace; with the match at
    14:00 near it, the rush from 12:30 empties it sooner, and it is predicted."""
    sessions = [match(14)]
    catalog, plain = Catalog(sessions, lead_days=0), Catalog(lead_days=0)
    for cat_, expect in ((plain, False), (catalog, True)):
        shelf = Shelf(stock_stream(cat_))
        shelf.now = DAY.replace(hour=6)
        count(shelf, BOOTH, "AMPLANG", 76, 1)
        steady_day(shelf, BOOTH, NOW.replace(hour=11))  # 48 sold, 28 left at 11:00
        events = tick(shelf, cat_, NOW.replace(hour=11))
        assert bool(events) is expect, events
    eta = datetime.fromisoformat(events[0]["data"]["expected_at"])
    assert DAY.replace(hour=12, minute=30) <= eta < DAY.replace(hour=13, minute=0)


def test_a_silent_outlet_predicts_nothing_new_and_what_it_predicted_stands() -> None:
    catalog = Catalog(lead_days=0)
    shelf = Shelf(stock_stream(catalog))
    shelf.now = DAY.replace(hour=6)
    count(shelf, KIOSK, "AMPLANG", 56, 1)
    steady_day(shelf, KIOSK, NOW)
    [predicted] = tick(shelf, catalog, NOW)
    assert predicted["event_type"] == "inventory.StockoutPredicted"
    # Nothing sold for two and a half hours: the pace is unknown, not zero. The open
    # prediction is not cleared (nothing says it was wrong) ...
    later = NOW + timedelta(hours=2, minutes=30)
    assert tick(shelf, catalog, later) == []
    assert shelf.stock(KIOSK, "AMPLANG").forecast is not None
    # ... and a shelf counted low now is not predicted to run out: nobody knows the pace.
    stock = shelf.stock(KIOSK, "AMPLANG")
    stock.forecast = None
    shelf.state[f"s|{KIOSK}|AMPLANG"] = stock.to_list()
    count(shelf, KIOSK, "AMPLANG", 3, 2)
    assert tick(shelf, catalog, later + timedelta(minutes=1)) == []


def test_the_learned_profile_is_kept_per_outlet() -> None:
    catalog = Catalog()
    shelf = Shelf(stock_stream(catalog))
    shelf.now = DAY.replace(hour=6)
    count(shelf, KIOSK, "AMPLANG", 500, 1)
    steady_day(shelf, KIOSK, DAY.replace(hour=21))
    tick(shelf, catalog, DAY + timedelta(days=1, hours=6))
    kept = Profile.from_list(shelf.state[profile(KIOSK)])
    assert kept.learned
    assert profile(BOOTH) not in shelf.state  # a booth's day is its sessions'


# -- restocks the forecast sends ---------------------------------------------------------


def predicted_low(catalog: Catalog, outlet: str = KIOSK, units: int = 20) -> Shelf:
    """A steady 12 an hour since 07:00, and `units` left at 10:00."""
    shelf = Shelf(stock_stream(catalog))
    shelf.now = DAY.replace(hour=6)
    count(shelf, outlet, "AMPLANG", 200, 1)
    steady_day(shelf, outlet, NOW)
    count(shelf, outlet, "AMPLANG", units, 2)
    return shelf


def test_a_predicted_stockout_asks_the_supplier_for_what_the_forecast_needs_in_packs() -> None:
    catalog = Catalog(lead_days=1, pack_size=10)
    shelf = predicted_low(catalog)
    predicted, requested = tick(shelf, catalog, NOW, restock=True)
    assert predicted["event_type"] == "inventory.StockoutPredicted"
    assert requested["event_type"] == "restock.RestockRequested"
    data = requested["data"]
    # 12 an hour, 15 open hours a day. It arrives tomorrow (Thursday) 10:00 and covers
    # 1.5 x (24 h lead + 12 h margin) = 54 h after that, until Saturday 16:00: 12 open
    # hours today, 15 Thursday, 15 Friday, 9 Saturday = 51 h, 612 units; less the 20
    # there, 592; in packs of 10, 600.
    assert data["suggested_qty"] % 10 == 0
    assert 560 <= data["suggested_qty"] <= 640, data
    assert "expected to sell by" in data["reason"]
    assert "packs of 10" in data["reason"]
    assert shelf.stock(KIOSK, "AMPLANG").restock_id == data["restock_id"]
    assert tick(shelf, catalog, NOW + timedelta(minutes=1), restock=True) == []


def test_a_booth_is_never_sent_more_than_it_can_sell_before_its_window_closes() -> None:
    catalog = Catalog(lead_days=0)
    closes = DAY.replace(hour=13)
    booth = catalog.outlets[BOOTH]
    assert booth.active_window is not None
    catalog.outlets[BOOTH] = booth.model_copy(
        update={"active_window": cat.TimeWindow(starts_at=DAY, ends_at=closes)}
    )
    shelf = predicted_low(catalog, BOOTH, units=20)
    _, requested = tick(shelf, catalog, NOW, restock=True)
    # 3 h left at 12 an hour: 36 units will sell before it closes, 20 are there
    assert requested["data"]["suggested_qty"] == pytest.approx(16, abs=2)
    assert "when the outlet closes" in requested["data"]["reason"]


def test_a_restock_arrives_on_a_day_the_supplier_delivers() -> None:
    from lumbung.inventory.service import arrival

    wednesday = NOW  # 2026-12-02; one day's lead: Thursday, when the supplier does not come
    catalog = Catalog(lead_days=1, delivery_days=[cat.Weekday.MONDAY, cat.Weekday.FRIDAY])
    arrives = arrival(catalog, "AMPLANG", wednesday, WITA)
    assert arrives.date().isoformat() == "2026-12-04"  # Friday, from its opening
    assert arrives.hour == 7


def test_no_request_when_a_restock_is_already_open() -> None:
    catalog = Catalog(lead_days=1)
    shelf = predicted_low(catalog)
    stock = shelf.stock(KIOSK, "AMPLANG")
    stock.restock_id = "R-OPEN"
    shelf.state[f"s|{KIOSK}|AMPLANG"] = stock.to_list()
    [predicted] = tick(shelf, catalog, NOW, restock=True)
    assert predicted["event_type"] == "inventory.StockoutPredicted"


def edit(shelf: Shelf, restock_id: str, qty: int, send_now: bool) -> list[Any]:
    sent = shelf.send(
        "inventory.commands",
        inv.RestockQuantitySet(
            outlet_id=KIOSK, sku="AMPLANG", restock_id=restock_id, qty=qty, send_now=send_now
        ),
    )
    return [s for s in sent if s.topic == "restock.events"]


def test_a_suggested_restock_waits_for_ops_who_may_change_it_and_send_it() -> None:
    catalog = Catalog(lead_days=1, pack_size=10)
    shelf = predicted_low(catalog)
    review = timedelta(minutes=10)
    outcome = predict_stockouts(catalog, True, review)(shelf.state, NOW)
    shelf.state.update(outcome.changes)
    predicted, suggested = (orjson.loads(e.value) for e in outcome.events)
    assert predicted["event_type"] == "inventory.StockoutPredicted"
    assert suggested["event_type"] == "restock.RestockSuggested"
    restock_id = suggested["data"]["restock_id"]
    assert datetime.fromisoformat(suggested["data"]["send_at"]) == NOW + review
    # ops lower it, without sending: nothing goes out yet, the suggestion says 300 now
    [again] = edit(shelf, restock_id, 300, send_now=False)
    assert again.type == "restock.RestockSuggested"
    assert (again.data["restock_id"], again.data["suggested_qty"]) == (restock_id, 300)
    assert again.data["send_at"] == suggested["data"]["send_at"]
    assert shelf.stock(KIOSK, "AMPLANG").held[0] == 300  # type: ignore[index]
    # then send it: the supplier gets 300, with why
    [sent] = edit(shelf, restock_id, 300, send_now=True)
    assert sent.type == "restock.RestockRequested"
    assert sent.data["suggested_qty"] == 300
    assert "set to 300 by ops" in sent.data["reason"]
    # a change after it went out changes nothing, and the tick does not send it again
    assert edit(shelf, restock_id, 50, send_now=True) == []
    assert predict_stockouts(catalog, True, review)(shelf.state, NOW + review).events == []


def test_a_suggestion_nobody_touched_goes_out_at_its_time() -> None:
    catalog = Catalog(lead_days=1, pack_size=10)
    shelf = predicted_low(catalog)
    review = timedelta(minutes=10)
    first = predict_stockouts(catalog, True, review)(shelf.state, NOW)
    shelf.state.update(first.changes)
    suggested = orjson.loads(first.events[1].value)["data"]
    early = predict_stockouts(catalog, True, review)(shelf.state, NOW + timedelta(minutes=5))
    assert early.events == []
    due = predict_stockouts(catalog, True, review)(shelf.state, NOW + review)
    [requested] = (orjson.loads(e.value) for e in due.events)
    assert requested["event_type"] == "restock.RestockRequested"
    assert requested["data"]["restock_id"] == suggested["restock_id"]
    assert requested["data"]["suggested_qty"] == suggested["suggested_qty"]


def test_a_restock_is_cut_to_what_the_supplier_can_still_deliver_this_week() -> None:
    """The supplier delivers 250 a week; 200 were already asked of it by other outlets."""
    catalog = Catalog(lead_days=1, pack_size=10)
    catalog.supplier_record = catalog.supplier_record.model_copy(update={"weekly_capacity": 250})
    shelf = predicted_low(catalog)
    asked: list[tuple[str, datetime]] = []

    def committed(supplier_id: str, since: datetime) -> int:
        asked.append((supplier_id, since))
        return 200

    outcome = predict_stockouts(catalog, True, timedelta(0), committed)(shelf.state, NOW)
    _, requested = (orjson.loads(e.value) for e in outcome.events)
    assert requested["data"]["suggested_qty"] == 50
    assert "what the supplier can still deliver this week" in requested["data"]["reason"]
    assert asked == [("SUP-1", NOW - timedelta(days=7))]


def test_no_restock_when_the_supplier_s_week_is_full() -> None:
    catalog = Catalog(lead_days=1, pack_size=10)
    catalog.supplier_record = catalog.supplier_record.model_copy(update={"weekly_capacity": 250})
    shelf = predicted_low(catalog)
    outcome = predict_stockouts(catalog, True, timedelta(0), lambda _, __: 245)(shelf.state, NOW)
    [predicted] = (orjson.loads(e.value) for e in outcome.events)
    assert predicted["event_type"] == "inventory.StockoutPredicted"
    assert shelf.stock(KIOSK, "AMPLANG").restock_id is None


def test_an_outlet_that_reports_through_retailer_reports_is_not_forecast() -> None:
    catalog = Catalog(lead_days=0)
    catalog.outlets[KIOSK] = catalog.outlets[KIOSK].model_copy(
        update={"sales_source": cat.SalesSource.RETAILER_REPORT}
    )
    shelf = predicted_low(catalog)
    assert tick(shelf, catalog, NOW, restock=True) == []
