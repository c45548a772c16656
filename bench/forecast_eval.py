"""The forecast evaluation (`make forecast-eval`): simulated Porprov weeks, replayed through
the inventory worker's own stream handlers and forecast tick, scored against the truth.

    python bench/forecast_eval.py [--seeds 11 12 13 14 15] [--tick-min 15]

For each seed, `lumbung.simulator.event.week` draws a week (venues, sessions, booths
opening and closing, kiosks, rest areas, a souvenir centre and an Indomaret) and what
sold in it, open loop: nobody restocks. This script turns that week into what a live
system would hold (catalog entities, opening counts, `SaleRecorded` events at the time
each sale happened) and hands them, in time order, to `handlers(catalog)` and
`predict_stockouts(catalog)` of the inventory worker: the code the worker runs, without
the broker around it (the broker path has its own tests). The forecast tick runs every
`--tick-min` simulated minutes. `forecast_score` then scores the predictions against the
week's truth, sharing no code with the forecaster.

The forecaster was developed on seeds 1 and 2; the default seeds were never used to tune it.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forecast_score import Cell, Said, Score, score

from lumbung.contracts import Registry, make_event
from lumbung.contracts.events import catalog as cat
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos, restock
from lumbung.inventory.domain import Stock
from lumbung.inventory.forecast import SLOT_S
from lumbung.inventory.handlers import handlers, predict_stockouts
from lumbung.inventory.service import transit_time
from lumbung.inventory.transfers import Predictions, plan
from lumbung.simulator.event import DAYS, SUPPLIER_OF, VENUES, Shelves, Week, week

DEFAULT_SEEDS = (11, 12, 13, 14, 15)
PACK_SIZES = {"AMPLANG": 10, "KERUPUK": 10, "KERIPIK": 12, "MADU": 6, "KOPI": 5, "GULA": 10}
REORDER_SHARE = 0.3
"""The reorder-point policy compared against: reorder at 30 % of the opening stock, back
up to the opening stock (par), as an operator sets levels from what they started with."""
TARGET_FORESEEN, TARGET_FALSE_ALARMS = 0.90, 1.0
POLICIES = ("reorder_point", "forecast", "forecast_transfers")
REGISTRY = Registry()
DAY_SLOTS = 24 * 3600 // SLOT_S


class WeekCatalog:
    """The catalog an operator would have entered for the week: the worker's view of it."""

    def __init__(self, w: Week) -> None:
        revision: dict[str, Any] = {"version": 1, "changed_at": w.ends - timedelta(days=DAYS)}
        event_starts = w.ends - timedelta(days=DAYS)
        noise = random.Random(w.seed)
        self.event = cat.CalendarEventChanged(
            calendar_id="PORPROV",
            name="Porprov",
            starts_at=event_starts,
            ends_at=w.ends,
            venues=[
                cat.Venue(name=name, location=cat.GeoPoint(lat=lat, lon=lon))
                for name, (lat, lon) in VENUES.items()
            ],
            sessions=[
                cat.Session(
                    name=s.name,
                    venue=s.venue,
                    kind=cat.SessionKind(s.kind),
                    starts_at=s.starts,
                    ends_at=s.ends,
                    # the organisers' estimate: within about a quarter of the crowd
                    expected_visitors=round(s.crowd * noise.lognormvariate(0, 0.25), -2),
                )
                for s in w.sessions
            ],
            **revision,
        )
        self.outlets = {
            o.outlet_id: cat.OutletChanged(
                outlet_id=o.outlet_id,
                name=o.outlet_id,
                channel=cat.Channel(o.channel),
                address="Paser",
                location=cat.GeoPoint(lat=o.location[0], lon=o.location[1]),
                active_window=cat.TimeWindow(starts_at=o.opens, ends_at=o.closes)
                if o.channel == "event_booth"
                else None,
                commission_percent=10 if o.channel == "indomaret" else None,
                calendar_id="PORPROV" if o.channel == "event_booth" else None,
                **revision,
            )
            for o in w.outlets
        }
        self.suppliers = {
            supplier: cat.SupplierChanged(
                supplier_id=supplier,
                name=supplier,
                owner_name=supplier,
                restock_lead_time_days=days,
                **revision,
            )
            for supplier, days in w.lead_days.items()
        }

        self.products = {
            sku: cat.ProductChanged(
                sku=sku,
                name=sku,
                supplier_id=SUPPLIER_OF[sku],
                category="oleh-oleh",
                unit="pack",
                price_idr=25_000,
                pack_size=PACK_SIZES.get(sku.split("-")[0], 1),
                **revision,
            )
            for sku in SUPPLIER_OF
        }

    def knows_sku(self, sku: str) -> bool:
        return sku in SUPPLIER_OF

    def product(self, sku: str) -> cat.ProductChanged | None:
        return self.products.get(sku)

    def supplier_of(self, sku: str) -> str | None:
        return SUPPLIER_OF.get(sku)

    def supplier(self, supplier_id: str) -> cat.SupplierChanged | None:
        return self.suppliers.get(supplier_id)

    def outlet(self, outlet_id: str) -> cat.OutletChanged | None:
        return self.outlets.get(outlet_id)

    def calendar_event(self, calendar_id: str) -> cat.CalendarEventChanged | None:
        return self.event


def _event(payload: Any, at: datetime) -> Any:
    return make_event(
        payload,
        event_id=uuid.uuid4(),
        occurred_at=at,
        producer="forecast-eval",
        correlation_id=str(uuid.uuid4()),
    )


def replay(w: Week, tick_every: timedelta) -> tuple[list[Said], float]:
    """Every sale through the handlers, the forecast tick between; what was said, and the
    seconds the tick took in all."""
    catalog = WeekCatalog(w)
    handle = handlers(catalog)
    forecast = predict_stockouts(catalog, restock=False)
    state: dict[str, Any] = {}
    said: list[Said] = []
    start = w.ends - timedelta(days=DAYS)
    for outlet in w.outlets:
        opening = _opening(outlet, start)
        state.update(handle[inv.StockCounted](state, _event(opening, start), start).changes)
    ticking = 0.0
    next_tick = start + tick_every
    sales = iter(w.sales)
    upcoming = next(sales, None)
    n = 0
    while next_tick <= w.ends:
        while upcoming is not None and upcoming[0] < next_tick:
            at, outlet_id, lines = upcoming
            n += 1
            sale = _sale(n, outlet_id, lines, at)
            state.update(handle[pos.SaleRecorded](state, _event(sale, at), at).changes)
            upcoming = next(sales, None)
        began = time.perf_counter()
        outcome = forecast(state, next_tick)
        ticking += time.perf_counter() - began
        for key, value in outcome.changes.items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
        for emit in outcome.events:
            event = orjson.loads(emit.value)
            data = event["data"]
            said.append(
                Said(
                    at=next_tick,
                    outlet=data["outlet_id"],
                    sku=data["sku"],
                    prediction_id=data["prediction_id"],
                    cleared=event["event_type"] == "inventory.StockoutCleared",
                )
            )
        next_tick += tick_every
    return said, ticking


@dataclass
class Loop:
    empty_minutes: float = 0.0
    ordered: int = 0
    requests: int = 0
    left: int = 0
    lost: int = 0
    transfers: int = 0
    moved: int = 0


def closed_loop(w: Week, policy: str, tick_every: timedelta) -> Loop:
    """The week with restocks: `reorder_point` (the worker's reorder-point requests, par
    minus available), `forecast` (requests sent and sized by the forecast), or
    `forecast_transfers` (those, and every transfer the inventory API suggests, accepted
    at each tick, issue 21). Suppliers accept every request at once and deliver it a lead
    time later; a transfer arrives at the time its dispatch expects, counted in full; the
    shelves sell what they hold."""
    catalog = WeekCatalog(w)
    handle = handlers(catalog)
    forecast = predict_stockouts(catalog, restock=policy != "reorder_point")
    predictions = Predictions()
    accepted: set[str] = set()
    moving: list[tuple[datetime, int, Any]] = []  # a heap of transfers on their way
    order = itertools.count()
    shelves = Shelves(w)
    state: dict[str, Any] = {}
    loop = Loop()
    due: list[tuple[datetime, int, str, str, int, str]] = []  # a heap of deliveries
    start = w.ends - timedelta(days=DAYS)

    def apply(payload: Any, at: datetime) -> None:
        outcome = handle[type(payload)](state, _event(payload, at), at)
        state.update(outcome.changes)
        answer(outcome.events, at)

    def answer(emits: list[Any], at: datetime) -> None:
        for emit in emits:
            event = orjson.loads(emit.value)
            if event["event_type"] in MOVES:
                data = REGISTRY.parse(emit.value).data
                predictions.apply(data)
                if isinstance(data, inv.TransferDispatched):
                    apply(data, at)  # the destination's worker takes it in transit
                    heapq.heappush(moving, (data.expected_at, next(order), data))
                continue
            if event["event_type"] != "restock.RestockRequested":
                continue
            data = event["data"]
            qty, sku, outlet_id = data["suggested_qty"], data["sku"], data["outlet_id"]
            arrives = at + timedelta(days=w.lead_days[SUPPLIER_OF[sku]])
            loop.ordered += qty
            loop.requests += 1
            heapq.heappush(due, (arrives, loop.requests, outlet_id, sku, qty, data["restock_id"]))
            apply(
                restock.RestockAccepted(
                    restock_id=data["restock_id"],
                    outlet_id=outlet_id,
                    sku=sku,
                    supplier_id=SUPPLIER_OF[sku],
                    qty=qty,
                    expected_at=arrives,
                ),
                at,
            )

    for outlet in w.outlets:
        apply(_opening(outlet, start), start)
        if policy == "reorder_point":
            for sku, units in outlet.opening.items():
                apply(
                    inv.StockLevelsSet(
                        outlet_id=outlet.outlet_id,
                        sku=sku,
                        reorder_point=round(units * REORDER_SHARE),
                        par_level=units,
                    ),
                    start,
                )
    baskets = iter(w.wanted)
    upcoming = next(baskets, None)
    next_tick = start + tick_every
    n = 0
    while next_tick <= w.ends:
        while True:
            basket_at = upcoming[0] if upcoming is not None else next_tick
            delivery_at = due[0][0] if due else next_tick
            arrival_at = moving[0][0] if moving else next_tick
            if min(basket_at, delivery_at, arrival_at) >= next_tick:
                break
            if arrival_at <= min(basket_at, delivery_at):
                at, _, sent = heapq.heappop(moving)
                for line in sent.lines:
                    shelves.deliver(at, sent.to_outlet_id, line.sku, line.qty)
                arrived = inv.TransferArrived(
                    transfer_id=sent.transfer_id,
                    from_outlet_id=sent.from_outlet_id,
                    to_outlet_id=sent.to_outlet_id,
                    lines=sent.lines,
                    received_at=at,
                )
                predictions.apply(arrived)
                apply(arrived, at)
                continue
            if delivery_at <= basket_at:
                at, _, outlet_id, sku, qty, restock_id = heapq.heappop(due)
                shelves.deliver(at, outlet_id, sku, qty)
                apply(
                    inv.RestockReceived(
                        receipt_id=f"R-{restock_id[:20]}",
                        outlet_id=outlet_id,
                        sku=sku,
                        qty=qty,
                        restock_id=restock_id,
                    ),
                    at,
                )
                continue
            assert upcoming is not None
            at, outlet_id, basket = upcoming
            lines = shelves.sell(at, outlet_id, basket)
            if lines:
                n += 1
                apply(_sale(n, outlet_id, lines, at), at)
            upcoming = next(baskets, None)
        outcome = forecast(state, next_tick)
        for key, value in outcome.changes.items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
        answer(outcome.events, next_tick)
        if policy == "forecast_transfers":
            for suggested in suggestions(catalog, state, predictions, next_tick):
                if suggested.transfer_id in accepted:
                    continue  # accepted once: the API's accept is one transfer
                accepted.add(suggested.transfer_id)
                taken = shelves.take(
                    next_tick, suggested.from_outlet_id, suggested.sku, suggested.qty
                )
                if not taken:
                    continue
                loop.transfers += 1
                loop.moved += taken
                line = inv.TransferLine(sku=suggested.sku, qty=taken)
                apply(
                    inv.TransferRequested(
                        transfer_id=suggested.transfer_id,
                        from_outlet_id=suggested.from_outlet_id,
                        to_outlet_id=suggested.to_outlet_id,
                        lines=[line],
                    ),
                    next_tick,
                )
        next_tick += tick_every
    loop.empty_minutes, loop.left = shelves.close()
    loop.lost = shelves.lost
    return loop


MOVES = {
    "inventory.StockoutPredicted",
    "inventory.StockoutCleared",
    "inventory.TransferDispatched",
}


def suggestions(
    catalog: WeekCatalog, state: dict[str, Any], predictions: Predictions, now: datetime
) -> list[Any]:
    """What `GET /v1/transfers/suggestions` would answer now, from the worker's state as
    the read model would hold it (`transfers.plan`, the API's own planner)."""
    wanted = {p.sku for p in predictions.open()}
    if not wanted:
        return []
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    sold: dict[str, dict[str, int]] = {}
    before: dict[str, dict[str, int]] = {}
    day_began = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first_slot = int(day_began.timestamp()) // SLOT_S
    for key, value in state.items():
        if not key.startswith("s|"):
            continue
        _, outlet, sku = key.split("|", 2)
        if sku not in wanted:
            continue
        stock = Stock.from_list(value)
        cells.setdefault(sku, {})[outlet] = {"available": stock.available}
        today = sum(units for slot, units in stock.sold if slot >= first_slot)
        sold.setdefault(outlet, {})[sku] = today
        day_before = sum(
            units for slot, units in stock.sold if first_slot - DAY_SLOTS <= slot < first_slot
        )
        before.setdefault(outlet, {})[sku] = day_before
    closes = {
        outlet_id: outlet.active_window.ends_at if outlet.active_window else None
        for outlet_id, outlet in catalog.outlets.items()
    }
    return plan(
        predictions,
        cells,
        sold,
        closes,
        lambda source, to: transit_time(catalog, source, to),
        now,
        day_began,
        before,
    )


def _opening(outlet: Any, at: datetime) -> inv.StockCounted:
    return inv.StockCounted(
        count_id=f"OPEN-{outlet.outlet_id}",
        outlet_id=outlet.outlet_id,
        kind=inv.CountKind.OPENING,
        lines=[inv.CountedLine(sku=sku, counted=n) for sku, n in outlet.opening.items()],
        counted_at=at,
    )


def _sale(n: int, outlet_id: str, lines: list[tuple[str, int]], at: datetime) -> pos.SaleRecorded:
    return pos.SaleRecorded(
        sale_id=f"S{n}",
        outlet_id=outlet_id,
        lines=[pos.SaleLine(sku=sku, qty=qty, unit_price_idr=10_000) for sku, qty in lines],
        sold_at=at,
    )


def truth(w: Week) -> tuple[list[Cell], float]:
    cells = []
    outlet_days = 0.0
    for outlet in w.outlets:
        outlet_days += (outlet.closes - outlet.opens).total_seconds() / 86400
        for sku in outlet.skus:
            cells.append(
                Cell(
                    outlet=outlet.outlet_id,
                    sku=sku,
                    channel=outlet.channel,
                    opens=outlet.opens,
                    lead=timedelta(days=w.lead_days[SUPPLIER_OF[sku]]),
                    ran_out=w.ran_out.get((outlet.outlet_id, sku)),
                )
            )
    return cells, outlet_days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--tick-min", type=float, default=15.0)
    parser.add_argument("--open-only", action="store_true", help="skip the closed loop")
    args = parser.parse_args()
    began = time.monotonic()
    print("Open loop: the forecast runs, nobody acts on it.")
    print(
        f"{'seed':>4} {'sales':>6} {'booth outs':>10} {'too soon':>8} {'foreseeable':>11} "
        f"{'foreseen':>8} {'share':>6} {'ahead h (median)':>16} {'predictions':>11} "
        f"{'false':>5} {'per outlet-day':>14} {'tick s':>6}"
    )
    scores: list[Score] = []
    for seed in args.seeds:
        w = week(seed)
        said, ticking = replay(w, timedelta(minutes=args.tick_min))
        cells, outlet_days = truth(w)
        result = score(cells, said, outlet_days)
        scores.append(result)
        ahead = statistics.median(result.lead_ahead_hours) if result.lead_ahead_hours else 0.0
        print(
            f"{seed:>4} {len(w.sales):>6} {result.booth_stockouts:>10} {result.unforeseeable:>8} "
            f"{result.foreseeable:>11} {result.foreseen:>8} {result.foreseen_share:>6.0%} "
            f"{ahead:>16.1f} {result.predictions:>11} {result.false_alarms:>5} "
            f"{result.false_alarms_per_outlet_day:>14.2f} {ticking:>6.1f}"
        )
    open_loop_summary(scores)
    if args.open_only:
        return
    print()
    print("Closed loop: restocks sent by each policy, delivered a lead time later.")
    print(
        f"{'seed':>4} {'policy':>18} {'empty min':>9} {'requests':>8} {'ordered':>7} "
        f"{'left at close':>13} {'lost units':>10} {'transfers':>9} {'moved':>5}"
    )
    totals: dict[str, Loop] = {policy: Loop() for policy in POLICIES}
    for seed in args.seeds:
        w = week(seed)
        for policy, total in totals.items():
            run = closed_loop(w, policy, timedelta(minutes=args.tick_min))
            print(
                f"{seed:>4} {policy:>18} {run.empty_minutes:>9.0f} {run.requests:>8} "
                f"{run.ordered:>7} {run.left:>13} {run.lost:>10} {run.transfers:>9} "
                f"{run.moved:>5}"
            )
            total.empty_minutes += run.empty_minutes
            total.ordered += run.ordered
            total.left += run.left
            total.requests += run.requests
            total.lost += run.lost
            total.transfers += run.transfers
            total.moved += run.moved
    rp, fc = totals["reorder_point"], totals["forecast"]
    fewer = 1 - fc.empty_minutes / rp.empty_minutes if rp.empty_minutes else 0.0
    more_left = fc.left / rp.left - 1 if rp.left else 0.0
    print(
        f"all: stockout minutes {fc.empty_minutes:.0f} against {rp.empty_minutes:.0f}, "
        f"{fewer:.0%} fewer (target ≥ 50 %); ordered {fc.ordered} against {rp.ordered}; "
        f"left at close {fc.left} against {rp.left}, {more_left:+.0%} (target within ±20 %); "
        f"{time.monotonic() - began:.0f} s"
    )
    ft = totals["forecast_transfers"]
    fewer_still = 1 - ft.empty_minutes / fc.empty_minutes if fc.empty_minutes else 0.0
    print(
        f"with transfers: stockout minutes {ft.empty_minutes:.0f} against {fc.empty_minutes:.0f} "
        f"for the forecast alone ({fewer_still:.0%} fewer); {ft.transfers} transfers moved "
        f"{ft.moved} units; ordered {ft.ordered}; left at close {ft.left}; lost {ft.lost}"
    )


def open_loop_summary(scores: list[Score]) -> None:
    foreseeable = sum(s.foreseeable for s in scores)
    foreseen = sum(s.foreseen for s in scores)
    false_alarms = sum(s.false_alarms for s in scores)
    outlet_days = sum(s.outlet_days for s in scores)
    share = foreseen / foreseeable if foreseeable else 1.0
    per_day = false_alarms / outlet_days if outlet_days else 0.0
    print(
        f"all: foreseen {foreseen}/{foreseeable} = {share:.0%} (target ≥ {TARGET_FORESEEN:.0%}); "
        f"false alarms {per_day:.2f} per outlet-day (target ≤ {TARGET_FALSE_ALARMS:g})"
    )


if __name__ == "__main__":
    main()
