"""Inventory's use case: apply one input event to an outlet's stock, and say which contract
events follow. Effects become contract events here and nowhere else; every derived event
gets an id computed from its cause, so a reprocessed input re-emits the same ids."""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from lumbung.contracts import Envelope, derived_event_text, event_json
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders, pos, restock
from lumbung.contracts.events.catalog import (
    CalendarEventChanged,
    Channel,
    OutletChanged,
    ProductChanged,
    SalesSource,
    SupplierChanged,
)
from lumbung.contracts.events.common import Payload
from lumbung.inventory.domain import (
    Alerted,
    ClosedOut,
    Effect,
    ExpiryNoted,
    LeftoversBack,
    LeftoversHome,
    Lot,
    Moved,
    OutletStock,
    Rejected,
    Reserved,
    RestockDone,
    RestockHeld,
    RestockNeeded,
    RestockSent,
    Stock,
    TransferSent,
    sellable,
)
from lumbung.inventory.forecast import (
    OPENS,
    PACE_SLACK,
    Clear,
    End,
    Outlook,
    Predict,
    Profile,
    Shape,
    Sizing,
    judge,
    margin,
    outlook,
    size,
    slot_of,
)
from lumbung.platform.clock import WITA
from lumbung.platform.kernel import Emit

log = logging.getLogger(__name__)
PRODUCER = "inventory"
DEFAULT_LEAD_TIME = timedelta(days=2)
"""A SKU whose supplier the catalog does not know is assumed to need two days."""
COVER = 1.5
"""A forecast's restock covers the demand until this many lead times (plus margin) after
it arrives: the next request, sent when the next stockout is predicted, has that long to
arrive (`docs/FORECAST.md` has the trade-off between stockouts and leftovers)."""
NEAR_KM = 3.0
"""A session at a venue this close to an outlet brings it a rush."""
PRICE_TOLERANCE = 10.0
"""Percent a sale line's price may differ from the outlet's before ops are told."""
TRAVEL_KMH = 30.0
"""How fast goods move between outlets by road here (Paser's roads, a pickup truck)."""
HANDLING = timedelta(hours=2)
"""Loading, waiting and unloading, on top of the drive."""
UNKNOWN_TRANSIT = timedelta(hours=24)
"""A transfer between outlets whose places the catalog does not know is expected in a day."""


class CatalogLookup(Protocol):
    def knows_sku(self, sku: str) -> bool: ...

    def supplier_of(self, sku: str) -> str | None: ...

    def supplier(self, supplier_id: str) -> SupplierChanged | None: ...

    def product(self, sku: str) -> ProductChanged | None: ...

    def outlet(self, outlet_id: str) -> OutletChanged | None: ...

    def calendar_event(self, calendar_id: str) -> CalendarEventChanged | None: ...


Committed = Callable[[str, datetime], int]
"""Units asked of a supplier since a moment, from every outlet (`RestockView.committed`)."""
WEEK = timedelta(days=7)


class UnexpectedEvent(Exception):
    """An event that does not belong on the topic it came from."""


def _lines(lines: list[Any]) -> list[tuple[str, int]]:
    return [(line.sku, line.qty) for line in lines]


def _totals(lines: list[inv.CountedLine]) -> list[tuple[str, int]]:
    """A count's units per SKU, a SKU listed once per batch summed, in the lines' order."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.counted
    return list(totals.items())


def lots_of(lines: list[Any]) -> dict[str, list[tuple[Lot, int]]]:
    """The dated batches of count or transfer lines: {sku: [((best before, code), units)]}."""
    lots: dict[str, list[tuple[Lot, int]]] = {}
    for line in lines:
        if line.best_before is not None:
            qty = line.counted if isinstance(line, inv.CountedLine) else line.qty
            lots.setdefault(line.sku, []).append(
                ((line.best_before.isoformat(), line.batch_code), qty)
            )
    return lots


def _prices(lines: list[pos.SaleLine]) -> dict[str, int]:
    return {line.sku: line.unit_price_idr for line in lines}


def close_out(state: OutletStock, closed: inv.BoothClosed, catalog: CatalogLookup) -> list[Effect]:
    """A booth's closing count (`OutletStock.close_out`): its leftovers go to the home
    outlet the catalog names, or back to a producer who asked for its goods back; the
    minutes out count up to the window's end, or the count if it came sooner."""
    outlet = catalog.outlet(closed.outlet_id)
    home = outlet.home_outlet_id if outlet is not None else None
    window = outlet.active_window if outlet is not None else None
    until = closed.closed_at
    if window is not None and window.ends_at < until:
        until = window.ends_at

    def producer_of(sku: str) -> str | None:
        supplier_id = catalog.supplier_of(sku)
        supplier = catalog.supplier(supplier_id) if supplier_id is not None else None
        return supplier_id if supplier is not None and supplier.takes_back_leftovers else None

    counted = [(line.sku, line.counted) for line in closed.lines]
    return state.close_out(closed.close_id, counted, home, producer_of, int(until.timestamp()))


def apply(
    state: OutletStock, cause: Envelope[Any], catalog: CatalogLookup, now: datetime | None = None
) -> list[Emit]:
    """What `cause` does to `state` (changed in place) and the events it emits. `now`,
    when the event arrived, bounds a sale's time in the velocity (an outlet's clock may
    run ahead)."""
    data = cause.data
    effects: list[Effect]
    match data:
        case pos.SaleRecorded():
            known = {line.sku for line in data.lines if catalog.knows_sku(line.sku)}
            slot = None
            if now is not None:
                slot = (slot_of(min(data.sold_at, now)), slot_of(now))
            effects = state.sell(_lines(data.lines), known, slot, _prices(data.lines))
        case pos.SaleReturned():
            reason = f"sale_{data.kind.value}"
            effects = state.take_back(_lines(data.lines), reason, _prices(data.lines))
            if data.disposition is pos.ReturnDisposition.DAMAGED:
                for sku, qty in _lines(data.lines):
                    effects += state.adjust(sku, -qty, inv.AdjustmentReason.DAMAGED.value)
        case inv.StockCounted():
            reason = "opening" if data.kind is inv.CountKind.OPENING else "count"
            effects = state.count(_totals(data.lines), reason, lots_of(data.lines))
        case inv.StockAdjusted():
            effects = state.adjust(data.sku, data.delta, data.reason.value)
        case inv.GoodsSentBack():
            effects = state.send_back(_lines(data.lines), data.reason.value)
        case inv.BoothClosed():
            effects = close_out(state, data, catalog)
        case inv.TransferRequested():
            effects = state.dispatch(data.transfer_id, data.to_outlet_id, _lines(data.lines))
        case inv.TransferArrived():
            effects = state.arrive(_lines(data.lines), lots_of(data.lines))
        case inv.RestockReceived():
            lot = (data.best_before.isoformat(), data.batch_code) if data.best_before else None
            effects = state.receive(data.sku, data.qty, data.restock_id, lot)
        case inv.StockLevelsSet():
            effects = state.set_levels(data.sku, data.reorder_point, data.par_level)
        case inv.RestockQuantitySet():
            effects = state.set_restock_qty(data.sku, data.restock_id, data.qty, data.send_now)
        case orders.OrderPlaced():
            effects = state.reserve(data.order_id, _lines(data.lines))
        case orders.OrderCancelled():
            effects = state.release(data.order_id, "order_cancelled")
        case orders.OrderExpired():
            effects = state.release(data.order_id, "order_expired")
        case orders.OrderFailed():
            effects = state.release(data.order_id, "order_failed")
        case orders.OrderFulfilled():
            effects = state.fulfil(data.order_id)
        case restock.RestockAccepted():
            effects = state.restock_accepted(
                data.sku, data.restock_id, data.qty, data.expected_at.isoformat()
            )
        case restock.RestockDeclined():
            effects = state.restock_declined(data.sku, data.restock_id)
        case _:
            raise UnexpectedEvent(f"inventory does not apply {cause.event_type}")
    return translate(state, cause, catalog, effects)


def translate(
    state: OutletStock, cause: Envelope[Any], catalog: CatalogLookup, effects: list[Effect]
) -> list[Emit]:
    """The contract events that `effects` of `cause` emit."""
    return Translator(state, cause, catalog).events(effects)


FLAG_MAX_PERCENT = 1_000_000.0
"""The largest difference a flag states (`PriceFlagged.difference_percent`'s bound): a
sale at Rp 200.000 of a Rp 10 item is flagged as +1,000,000 %."""


class PriceLookup(Protocol):
    def product(self, sku: str) -> ProductChanged | None: ...

    def outlet(self, outlet_id: str) -> OutletChanged | None: ...


class Prices:
    """Each outlet's price of each SKU: its assortment's own price, else the product's;
    an outlet's table is built once per catalog version of it."""

    def __init__(self, catalog: PriceLookup) -> None:
        self._catalog = catalog
        self._tables: dict[str, tuple[int, dict[str, int]]] = {}

    def of(self, outlet_id: str, sku: str) -> int | None:
        outlet = self._catalog.outlet(outlet_id)
        if outlet is None:
            return None
        table = self._tables.get(outlet_id)
        if table is None or table[0] != outlet.version:
            own = {i.sku: i.price_idr for i in outlet.assortment if i.price_idr is not None}
            table = (outlet.version, own)
            self._tables[outlet_id] = table
        price = table[1].get(sku)
        if price is not None:
            return price
        product = self._catalog.product(sku)
        return None if product is None else product.price_idr


def price_flags(cause: Envelope[Any], prices: Prices, tolerance: float) -> list[Emit]:
    """The lines of a sale sold at a price more than `tolerance` percent off the outlet's:
    the sale stands (a fact), and each such line is flagged to ops."""
    sale: pos.SaleRecorded = cause.data
    flags = []
    for index, line in enumerate(sale.lines):
        expected = prices.of(sale.outlet_id, line.sku)
        if not expected:
            continue
        difference = (line.unit_price_idr - expected) * 100 / expected
        if abs(difference) <= tolerance:
            continue
        try:
            flag = inv.PriceFlagged(
                outlet_id=sale.outlet_id,
                sale_id=sale.sale_id,
                sku=line.sku,
                qty=line.qty,
                unit_price_idr=line.unit_price_idr,
                outlet_price_idr=expected,
                difference_percent=round(min(difference, FLAG_MAX_PERCENT), 1),
                tolerance_percent=tolerance,
                sold_at=sale.sold_at,
            )
        except ValidationError:  # a flag must never take its sale down (a fact)
            log.exception("no price flag for sale %s line %d", sale.sale_id, index)
            continue
        flags.append(_caused("inventory.alerts", sale.outlet_id, flag, cause, f"{index}:price"))
    return flags


def refused(cause: Envelope[Any], reason: inv.ReturnRefusal, message: str) -> Emit:
    """A return or void the worker does not apply, to ops."""
    back: pos.SaleReturned = cause.data
    refusal = inv.ReturnRefused(
        return_id=back.return_id,
        sale_id=back.sale_id,
        outlet_id=back.outlet_id,
        kind=back.kind.value,
        reason=reason,
        message=message[:300],
    )
    return _caused("inventory.alerts", back.outlet_id, refusal, cause, "refused")


def _caused(
    topic: str,
    key: str,
    payload: Payload,
    cause: Envelope[Any],
    effect: str,
    cause_id: str | None = None,
) -> Emit:
    """An event that follows from `cause`: its id from the cause's (`cause_id`, its text
    when the caller has it already) and the effect's."""
    cause_id = cause_id or str(cause.event_id)
    value = event_json(
        payload,
        event_id=derived_event_text(cause_id, effect),
        occurred_at=cause.occurred_at,
        producer=PRODUCER,
        correlation_id=cause.correlation_id,
        causation_id=cause_id,
    )
    return Emit(topic, key, value)


def tz_of(catalog: CatalogLookup, outlet_id: str) -> tzinfo:
    """The outlet's time zone (its calendar days), WITA if the catalog does not know it."""
    shop = catalog.outlet(outlet_id)
    return ZoneInfo(shop.timezone) if shop is not None else WITA


def transit_time(catalog: CatalogLookup, from_outlet_id: str, to_outlet_id: str) -> timedelta:
    """How long a transfer takes: the distance between the outlets at `TRAVEL_KMH` (as the
    crow flies, times 1.3 for the road), plus `HANDLING`."""
    source, destination = catalog.outlet(from_outlet_id), catalog.outlet(to_outlet_id)
    if source is None or destination is None or not source.location or not destination.location:
        return UNKNOWN_TRANSIT
    km = source.location.km_to(destination.location) * 1.3
    return HANDLING + timedelta(hours=km / TRAVEL_KMH)


def close_out_due(outlet: str, ends_at: datetime, skus: int, units: int, now: datetime) -> Emit:
    """Lumbung asks for a booth's closing count, once per window (a tick's event)."""
    value = event_json(
        inv.CloseOutDue(
            outlet_id=outlet,
            window_ends_at=ends_at,
            skus=skus,
            units=units,
            message=f"{outlet} closed with {units} units of {skus} products on its books: "
            "count what is left (POST /v1/outlets/{outlet_id}/close-out)",
        ),
        event_id=derived_event_text(f"{outlet}|{ends_at.isoformat()}", "close-out-due"),
        occurred_at=now,
        producer=PRODUCER,
        correlation_id=outlet,
    )
    return Emit("inventory.alerts", outlet, value)


def transfer_overdue(to_outlet: str, transfer_id: str, record: list[Any], now: datetime) -> Emit:
    """The flag to ops of a transfer not received by its expected time (a tick's event)."""
    expected_at, lines, from_outlet = record[0], record[1], record[2]
    value = event_json(
        inv.TransferOverdue(
            transfer_id=transfer_id,
            from_outlet_id=from_outlet,
            to_outlet_id=to_outlet,
            lines=[inv.TransferLine(sku=sku, qty=qty) for sku, qty in lines.items()],
            expected_at=datetime.fromisoformat(expected_at),
        ),
        event_id=derived_event_text(f"{to_outlet}|{transfer_id}", "transfer-overdue"),
        occurred_at=now,
        producer=PRODUCER,
        correlation_id=transfer_id,
    )
    return Emit("inventory.alerts", to_outlet, value)


def overdue(outlet: str, sku: str, stock: Stock, now: datetime) -> Emit:
    """The flag to ops of a restock still on order after its due time: a tick's event,
    with no cause, so its id comes from the request and the due time it missed."""
    assert stock.restock_id is not None, "only an open request is late"
    assert stock.due_at is not None, "only an accepted request is late"
    value = event_json(
        restock.RestockOverdue(
            restock_id=stock.restock_id,
            outlet_id=outlet,
            sku=sku,
            on_order=stock.on_order,
            expected_at=datetime.fromisoformat(stock.due_at),
        ),
        event_id=derived_event_text(stock.restock_id, f"overdue:{stock.due_at}"),
        occurred_at=now,
        producer=PRODUCER,
        correlation_id=stock.restock_id,
    )
    return Emit("restock.events", outlet, value)


def shape_of(outlet_id: str, catalog: CatalogLookup, profile: Profile) -> Shape:
    """An outlet's busyness as the catalog describes it: its window, the sessions near
    it; a booth's day is its sessions', any other outlet's is learned (`profile`)."""
    outlet = catalog.outlet(outlet_id)
    if outlet is None:
        return Shape(WITA, profile=profile)
    window = None
    if outlet.active_window is not None:
        window = (outlet.active_window.starts_at, outlet.active_window.ends_at)
    rushes: tuple[tuple[datetime, datetime, float], ...] = ()
    if outlet.calendar_id is not None and outlet.location is not None:
        event = catalog.calendar_event(outlet.calendar_id)
        if event is not None:
            crowds = [s.expected_visitors for s in event.sessions if s.expected_visitors]
            usual = statistics.median(crowds) if crowds else None
            rushes = tuple(
                (
                    session.starts_at,
                    session.ends_at,
                    session.expected_visitors / usual
                    if session.expected_visitors and usual
                    else 1.0,
                )
                for session in event.sessions_near(outlet.location, NEAR_KM)
            )
    booth = outlet.channel is Channel.EVENT_BOOTH
    return Shape(ZoneInfo(outlet.timezone), window, rushes, None if booth else profile)


def lead_time(catalog: CatalogLookup, sku: str) -> timedelta:
    supplier_id = catalog.supplier_of(sku)
    supplier = catalog.supplier(supplier_id) if supplier_id is not None else None
    if supplier is None:
        return DEFAULT_LEAD_TIME
    return timedelta(days=supplier.restock_lead_time_days)


def arrival(catalog: CatalogLookup, sku: str, now: datetime, tz: tzinfo) -> datetime:
    """The earliest a restock asked for now arrives: after the lead time, on a day the
    supplier delivers (from the day's opening then)."""
    moment = now + lead_time(catalog, sku)
    supplier_id = catalog.supplier_of(sku)
    supplier = catalog.supplier(supplier_id) if supplier_id is not None else None
    for _ in range(7):
        if supplier is None or supplier.delivers_on(moment.astimezone(tz).date()):
            return moment
        next_day = moment.astimezone(tz).date() + timedelta(days=1)
        moment = datetime.combine(next_day, OPENS, tz)
    return moment


def foresee(
    outlet: str,
    cells: dict[str, Stock],
    profile: Profile,
    catalog: CatalogLookup,
    now: datetime,
    restock: bool = True,
    review: timedelta = timedelta(0),
    committed: Committed | None = None,
) -> tuple[set[str], bool, list[Emit]]:
    """Every cell's forecast at one outlet: the SKUs whose episode changed (their
    `Stock.forecast`, changed in place), whether the learned profile did, and the
    predictions and clearings to send. With `restock`, a predicted stockout with no
    restock open asks the supplier for what the forecast says it needs (`forecast.size`),
    within what the supplier can still deliver this week (`committed`, if its catalog
    entry has a `weekly_capacity`)."""
    asked: dict[str, int] = {}  # units asked of each supplier in this call
    totals: dict[int, int] = {}
    for stock in cells.values():
        for slot, qty in stock.sold:
            totals[slot] = totals.get(slot, 0) + qty
    shape = shape_of(outlet, catalog, profile)
    learned = shape.profile is not None and profile.fold(totals, slot_of(now), shape.tz)
    leads = {sku: lead_time(catalog, sku) for sku in cells}
    if not cells:
        return set(), learned, []
    shop = catalog.outlet(outlet)
    if shop is not None and shop.sales_source is SalesSource.RETAILER_REPORT:
        return set(), learned, []  # its sales come days late, in reports: no live pace
    view = outlook(shape, totals, now)
    changed: set[str] = set()
    events: list[Emit] = []
    for sku, stock in cells.items():
        if stock.held is not None and datetime.fromisoformat(stock.held[2]) <= now:
            changed.add(sku)
            events.append(_send_held(outlet, sku, stock, catalog, now))
        velocity = view.velocity(stock.sold)
        arrivals = []
        if stock.on_order > 0 and stock.due_at is not None:
            arrivals = [(datetime.fromisoformat(stock.due_at), stock.on_order)]
        eta = faster = bare = None
        usable = stock.available
        if velocity is not None:
            usable = sellable(stock, _demand_until(view, velocity, shape.tz))
            within = leads[sku] + margin(leads[sku])
            eta = view.eta(velocity, usable, arrivals, within)
            if stock.forecast is not None:
                faster = view.eta(velocity * PACE_SLACK, usable, arrivals, within)
                bare = view.eta(velocity, usable, (), within) if arrivals else eta
        verdict = judge(
            stock.forecast,
            usable,
            eta,
            faster,
            bare,
            velocity is not None,
            leads[sku],
            now,
        )
        if verdict is None:
            continue
        changed.add(sku)
        match verdict:
            case Predict():
                assert velocity is not None
                episode = derived_event_text(f"{outlet}|{sku}", f"stockout:{slot_of(now)}")
                stock.forecast = [episode, verdict.eta.isoformat(), stock.available]
                per_hour = view.per_hour(velocity, shape)
                events.append(
                    _tick_event(
                        "inventory.alerts",
                        outlet,
                        inv.StockoutPredicted(
                            prediction_id=episode,
                            outlet_id=outlet,
                            sku=sku,
                            supplier_id=catalog.supplier_of(sku),
                            available=stock.available,
                            on_order=stock.on_order,
                            expected_at=verdict.eta,
                            units_per_hour=round(per_hour, 2),
                            lead_time_hours=int(leads[sku].total_seconds() // 3600),
                            reason=_why(stock, per_hour, verdict.eta, leads[sku], shape),
                        ),
                        episode,
                        now,
                    )
                )
                if restock and stock.restock_id is None:
                    capacity = _capacity_left(catalog, sku, now, committed, asked)
                    events += _forecast_restock(
                        outlet, sku, stock, usable, velocity, view, catalog, now, review, capacity
                    )
            case Clear():
                episode = str(stock.forecast[0]) if stock.forecast else ""
                stock.forecast = None
                events.append(
                    _tick_event(
                        "inventory.alerts",
                        outlet,
                        inv.StockoutCleared(
                            prediction_id=episode,
                            outlet_id=outlet,
                            sku=sku,
                            cleared_by=inv.ClearedBy(verdict.by),
                            available=stock.available,
                            expected_at=verdict.eta,
                        ),
                        episode,
                        now,
                    )
                )
            case End():
                stock.forecast = None
    return changed, learned, events


def _demand_until(view: Outlook, velocity: float, tz: tzinfo) -> Callable[[str], float]:
    """Units expected to sell from now to the end of an ISO day, at the outlet's pace."""

    def until(day: str) -> float:
        end = datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(0), tz)
        return velocity * view.exposure_until(end)

    return until


def _forecast_restock(
    outlet: str,
    sku: str,
    stock: Stock,
    available: int,
    velocity: float,
    view: Outlook,
    catalog: CatalogLookup,
    now: datetime,
    review: timedelta,
    capacity: tuple[int, dict[str, int], str] | None = None,
) -> list[Emit]:
    """The restock request a predicted stockout calls for, sized by the forecast from
    `available` (what sells before its best-before date, `domain.sellable`); opens it on
    `stock`. Held for ops as a `RestockSuggested` for `review` first, if any. None when
    what is there and on order covers the demand."""
    assert stock.forecast is not None
    shop = catalog.outlet(outlet)
    tz = ZoneInfo(shop.timezone) if shop is not None else WITA
    closes = shop.active_window.ends_at if shop and shop.active_window else None
    product = catalog.product(sku)
    lead = lead_time(catalog, sku)
    arrives = arrival(catalog, sku, now, tz)
    sizing = size(
        view,
        velocity,
        available,
        stock.on_order,
        arrives,
        arrives + (lead + margin(lead)) * COVER,
        closes,
        product.pack_size if product is not None else 1,
    )
    if sizing is None:
        return []
    qty, reason = sizing.qty, sizing.reason
    if capacity is not None:
        left, asked, supplier_id = capacity
        pack = product.pack_size if product is not None else 1
        if qty > left:
            qty = left // pack * pack
            reason += f"; cut to {qty}, what the supplier can still deliver this week"
        if qty <= 0:
            return []
        asked[supplier_id] = asked.get(supplier_id, 0) + qty
    sizing = Sizing(qty, reason)
    episode = str(stock.forecast[0])
    restock_id = stock.restock_id = derived_event_text(episode, "restock")
    if review > timedelta(0):
        send_at = now + review
        stock.held = [sizing.qty, sizing.reason, send_at.isoformat()]
        suggested = suggestion(outlet, sku, stock, catalog, restock_id, sizing.qty, sizing.reason)
        return [_tick_event("restock.events", outlet, suggested, restock_id, now)]
    stock.held = [sizing.qty, sizing.reason, now.isoformat()]
    return [_send_held(outlet, sku, stock, catalog, now)]


def request(
    outlet: str,
    sku: str,
    stock: Stock,
    catalog: CatalogLookup,
    restock_id: str,
    qty: int,
    reason: str,
) -> restock.RestockRequested:
    """A forecast's request as it goes to the supplier."""
    return restock.RestockRequested(
        restock_id=restock_id,
        outlet_id=outlet,
        sku=sku,
        supplier_id=catalog.supplier_of(sku),
        suggested_qty=qty,
        available=stock.available,
        reorder_point=stock.reorder_point,
        par_level=stock.par_level,
        reason=reason,
    )


def suggestion(
    outlet: str,
    sku: str,
    stock: Stock,
    catalog: CatalogLookup,
    restock_id: str,
    qty: int,
    reason: str,
) -> restock.RestockSuggested:
    """A forecast's request while it is held for ops (`stock.held` says until when)."""
    assert stock.held is not None, "a suggestion is held"
    return restock.RestockSuggested(
        restock_id=restock_id,
        outlet_id=outlet,
        sku=sku,
        supplier_id=catalog.supplier_of(sku),
        suggested_qty=qty,
        available=stock.available,
        reason=reason,
        send_at=datetime.fromisoformat(stock.held[2]),
    )


def _capacity_left(
    catalog: CatalogLookup,
    sku: str,
    now: datetime,
    committed: Committed | None,
    asked: dict[str, int],
) -> tuple[int, dict[str, int], str] | None:
    """(units the SKU's supplier can still deliver in the week to come, the units asked in
    this call so far, the supplier), or None when it has no weekly capacity."""
    supplier_id = catalog.supplier_of(sku)
    supplier = catalog.supplier(supplier_id) if supplier_id is not None else None
    if supplier is None or supplier.weekly_capacity is None or supplier_id is None:
        return None
    used = (committed(supplier_id, now - WEEK) if committed is not None else 0) + asked.get(
        supplier_id, 0
    )
    return max(supplier.weekly_capacity - used, 0), asked, supplier_id


def _send_held(outlet: str, sku: str, stock: Stock, catalog: CatalogLookup, now: datetime) -> Emit:
    """The held suggestion goes to the supplier, with the quantity it holds now."""
    assert stock.held is not None, "only a held suggestion is sent"
    assert stock.restock_id is not None, "a held suggestion has its request's id"
    qty, reason, _ = stock.held
    stock.held = None
    requested = request(outlet, sku, stock, catalog, stock.restock_id, int(qty), str(reason))
    return _tick_event("restock.events", outlet, requested, stock.restock_id, now)


def _why(stock: Stock, per_hour: float, eta: datetime, lead: timedelta, shape: Shape) -> str:
    when = eta.astimezone(shape.tz).strftime("%a %H:%M")
    hours = int(lead.total_seconds() // 3600)
    words = f"{stock.available} left, selling {per_hour:.1f} an hour now: out around {when}"
    if stock.on_order > 0:
        words += f", counting the {stock.on_order} on order"
    return f"{words}; the supplier needs {hours} h to deliver"


def _tick_event(topic: str, outlet: str, payload: Payload, about: str, now: datetime) -> Emit:
    """A tick's event: no cause, so its id comes from what it is about (an episode, a
    request) and its type."""
    value = event_json(
        payload,
        event_id=derived_event_text(about, type(payload).__name__),
        occurred_at=now,
        producer=PRODUCER,
        correlation_id=about,
    )
    return Emit(topic, outlet, value)


class Translator:
    """Effects into contract events, their ids from their cause's, or for a tick's effects
    (no cause) from what the tick is `about` and `now`."""

    def __init__(
        self,
        state: OutletStock,
        cause: Envelope[Any] | None,
        catalog: CatalogLookup,
        about: str = "",
        now: datetime | None = None,
    ) -> None:
        self._state = state
        self._cause = cause
        self._catalog = catalog
        self._outlet = state.outlet_id
        self._cause_id = str(cause.event_id) if cause is not None else about
        self._now = now

    def events(self, effects: list[Effect]) -> list[Emit]:
        return [self._one(i, effect) for i, effect in enumerate(effects)]

    @property
    def _origin(self) -> Envelope[Any]:
        """The cause of an effect only an event makes (a transfer, a close-out)."""
        assert self._cause is not None, "this effect comes from an event, not a tick"
        return self._cause

    def _event(self, topic: str, key: str, payload: Payload, effect: str) -> Emit:
        if self._cause is not None:
            return _caused(topic, key, payload, self._cause, effect, self._cause_id)
        assert self._now is not None
        value = event_json(
            payload,
            event_id=derived_event_text(self._cause_id, effect),
            occurred_at=self._now,
            producer=PRODUCER,
            correlation_id=self._cause_id,
        )
        return Emit(topic, key, value)

    def _one(self, index: int, effect: Effect) -> Emit:
        outlet = self._outlet
        tag: Callable[[str], str] = lambda what: f"{index}:{what}"  # noqa: E731
        match effect:
            case Moved(sku=sku, stock=stock):
                return self._event(
                    "inventory.stock",
                    outlet,
                    inv.StockChanged(
                        outlet_id=outlet,
                        sku=sku,
                        on_hand=stock.on_hand,
                        reserved=stock.reserved,
                        available=stock.available,
                        delta=effect.delta_on_hand,
                        reason=effect.reason,
                        version=stock.version,
                    ),
                    tag(f"stock:{sku}"),
                )
            case Alerted(sku=sku, stock=stock):
                return self._event(
                    "inventory.alerts",
                    outlet,
                    inv.StockAlertRaised(
                        alert=inv.AlertKind(effect.kind),
                        outlet_id=outlet,
                        sku=sku,
                        on_hand=stock.on_hand,
                        available=stock.available,
                        reorder_point=stock.reorder_point,
                        message=effect.message,
                    ),
                    tag(f"alert:{effect.kind}:{sku}"),
                )
            case RestockNeeded(sku=sku, stock=stock):
                restock_id = derived_event_text(self._cause_id, tag(f"restock:{sku}"))
                self._state.open_restock(sku, restock_id)
                return self._event(
                    "restock.events",
                    outlet,
                    restock.RestockRequested(
                        restock_id=restock_id,
                        outlet_id=outlet,
                        sku=sku,
                        supplier_id=self._catalog.supplier_of(sku),
                        suggested_qty=effect.suggested_qty,
                        available=stock.available,
                        reorder_point=stock.reorder_point,
                        par_level=stock.par_level,
                    ),
                    tag(f"restock-requested:{sku}"),
                )
            case RestockSent(stock=stock):
                payload = request(
                    outlet,
                    effect.sku,
                    stock,
                    self._catalog,
                    effect.restock_id,
                    effect.qty,
                    effect.reason,
                )
                return self._event(
                    "restock.events", outlet, payload, tag(f"restock-sent:{effect.sku}")
                )
            case RestockHeld(stock=stock):
                held = suggestion(
                    outlet,
                    effect.sku,
                    stock,
                    self._catalog,
                    effect.restock_id,
                    effect.qty,
                    effect.reason,
                )
                return self._event(
                    "restock.events", outlet, held, tag(f"restock-held:{effect.sku}")
                )
            case RestockDone():
                return self._event(
                    "restock.events",
                    outlet,
                    restock.RestockClosed(
                        restock_id=effect.restock_id,
                        outlet_id=outlet,
                        sku=effect.sku,
                        received_qty=effect.received_qty,
                    ),
                    tag(f"restock-closed:{effect.sku}"),
                )
            case Reserved():
                return self._event(
                    "inventory.reservations",
                    effect.order_id,
                    inv.StockReserved(
                        order_id=effect.order_id,
                        outlet_id=outlet,
                        lines=[inv.ReservedLine(sku=s, qty=q) for s, q in effect.lines.items()],
                    ),
                    tag("reserved"),
                )
            case Rejected():
                return self._event(
                    "inventory.reservations",
                    effect.order_id,
                    inv.ReservationRejected(
                        order_id=effect.order_id,
                        outlet_id=outlet,
                        shortfall=[
                            inv.Shortfall(sku=s, requested=r, available=a, missing=r - max(a, 0))
                            for s, r, a in effect.shortfall
                        ],
                    ),
                    tag("rejected"),
                )
            case TransferSent():
                sent_at = self._origin.occurred_at
                took = transit_time(self._catalog, outlet, effect.to_outlet_id)
                return self._event(
                    "inventory.commands",
                    effect.to_outlet_id,
                    inv.TransferDispatched(
                        transfer_id=effect.transfer_id,
                        from_outlet_id=outlet,
                        to_outlet_id=effect.to_outlet_id,
                        lines=_transfer_lines(effect.lines),
                        dispatched_at=sent_at,
                        expected_at=sent_at + took,
                    ),
                    tag("transfer-dispatch"),
                )
            case ExpiryNoted(sku=sku, lot=(best_before, code)):
                kind = inv.ExpiryKind(effect.kind)
                said = (
                    "good through {day}: sell them first, or move them"
                    if kind is inv.ExpiryKind.SOON
                    else "past {day}: not available; write them off (reason expired)"
                )
                return self._event(
                    "inventory.alerts",
                    outlet,
                    inv.ExpiryAlert(
                        kind=kind,
                        outlet_id=outlet,
                        sku=sku,
                        batch_code=code,
                        best_before=date.fromisoformat(best_before),
                        qty=effect.qty,
                        message=f"{effect.qty} of {sku} ({code or 'no batch code'}) "
                        + said.format(day=best_before),
                    ),
                    tag(f"expiry:{kind.value}:{sku}:{best_before}:{code}"),
                )
            case LeftoversHome():
                return self._event(
                    "inventory.commands",
                    outlet,
                    inv.TransferRequested(
                        transfer_id=effect.transfer_id,
                        from_outlet_id=outlet,
                        to_outlet_id=effect.to_outlet_id,
                        lines=_transfer_lines(effect.lines),
                    ),
                    tag("leftovers-home"),
                )
            case LeftoversBack():
                return self._event(
                    "inventory.commands",
                    outlet,
                    inv.GoodsSentBack(
                        sendback_id=effect.sendback_id,
                        outlet_id=outlet,
                        lines=_transfer_lines(effect.lines),
                        reason=inv.SendBackReason.UNSOLD,
                        sent_at=self._origin.occurred_at,
                        note=f"booth close-out to {effect.supplier_id}",
                    ),
                    tag(f"leftovers-back:{effect.supplier_id}"),
                )
            case ClosedOut():
                return self._event("inventory.alerts", outlet, self._report(effect), tag("report"))
        raise AssertionError(f"no translation for {effect!r}")

    def _report(self, effect: ClosedOut) -> inv.BoothClosedOut:
        closed: inv.BoothClosed = self._origin.data
        outlet = self._catalog.outlet(self._outlet)
        window = outlet.active_window if outlet is not None else None
        lines = [
            inv.CloseOutLine(
                sku=row.sku,
                sold=row.sold,
                revenue_idr=row.revenue,
                left_over=row.left_over,
                difference=row.difference,
                stockout_minutes=row.stockout_minutes,
                leftovers_to=inv.LeftoversTo(row.leftovers_to),
                destination_id=row.destination_id,
            )
            for row in effect.rows
        ]
        return inv.BoothClosedOut(
            close_id=effect.close_id,
            outlet_id=self._outlet,
            closed_at=closed.closed_at,
            window_starts_at=window.starts_at if window is not None else None,
            window_ends_at=window.ends_at if window is not None else None,
            lines=lines,
            revenue_idr=sum(row.revenue for row in effect.rows),
            transfer_id=effect.transfer_id,
        )


def _transfer_lines(lines: dict[str, int]) -> list[inv.TransferLine]:
    return [inv.TransferLine(sku=sku, qty=qty) for sku, qty in lines.items()]
