"""Inventory's stream handlers: pure functions of (state, event, now) for the stream kernel.

State is kept per (outlet, SKU) cell, not per outlet, so a sale changes (and writes)
only the cells it touches:

- `s|OUTLET|SKU`   the cell's `Stock` as a list (see `domain.Stock.to_list`);
- `h|OUTLET|ORDER` units held for an open order, {sku: qty};
- `p|OUTLET`       the outlet's learned daily shape (`forecast.Profile`);
- `d|OUTLET|ORDER` the answer given to an order [reserved?, hour], so a repeated
  `OrderPlaced` gets the same answer; dropped after `DECISION_HORIZON` by a tick;
- `r|OUTLET|SALE`  what came back of a sale, [sold at, {sku: units}], kept while the
  sale's note is (`returns`), so a return never finds the sale without what came back
  of it; what the sale sold is the note `OUTLET|SALE` kept beside its remembered id
  (`kernel.Outcome.note`);
- `t|OUTLET|TRANSFER` a transfer in transit to this outlet, [expected at, {sku: units
  sent}, from outlet, flagged overdue?], until it counts what arrived;
- `c|OUTLET`       a booth's close-out: [the window's end, closed?], so its closing count
  is asked for once per window.

Each handler loads the cells an event touches into the domain's `OutletStock`, lets
`service.apply` decide and translate, and returns the cells that changed. The rules live
in `domain.py`; this module only knows where they are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from lumbung.contracts import Envelope
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import orders, pos, restock
from lumbung.inventory import returns
from lumbung.inventory.domain import OutletStock, Stock
from lumbung.inventory.forecast import Profile
from lumbung.inventory.service import (
    PRICE_TOLERANCE,
    CatalogLookup,
    Committed,
    Prices,
    Translator,
    UnexpectedEvent,
    apply,
    close_out_due,
    foresee,
    lots_of,
    overdue,
    price_flags,
    refused,
    transfer_overdue,
    translate,
    tz_of,
)
from lumbung.platform.kernel import Handler, Outcome, Tick, Unprocessable, note_key

DECISION_HORIZON = timedelta(days=7)
OVERDUE_EVERY_S = 10.0
"""How often the open restocks are checked for a due time passed."""
FORECAST_EVERY_S = 60.0
"""How often every cell's stockout forecast is made again."""
EXPIRY_EVERY_S = 10.0
"""How often best-before dates are checked."""
EXPIRY_ALERT_DAYS = 3
"""A batch is warned of when it is good for this many more days or fewer."""
BATCHES = [f.name for f in fields(Stock)].index("batches")
"""Where a cell's batches sit in its list (`Stock.to_list`), so the expiry tick skips
cells without any undecoded."""

APPLIED: tuple[type[Any], ...] = (
    pos.SaleRecorded,
    pos.SaleReturned,
    inv.StockCounted,
    inv.BoothClosed,
    inv.StockAdjusted,
    inv.GoodsSentBack,
    inv.TransferRequested,
    inv.TransferArrived,
    inv.TransferDispatched,
    inv.RestockReceived,
    inv.StockLevelsSet,
    inv.RestockQuantitySet,
    orders.OrderPlaced,
    orders.OrderCancelled,
    orders.OrderExpired,
    orders.OrderFailed,
    orders.OrderFulfilled,
    restock.RestockAccepted,
    restock.RestockDeclined,
)
"""Every event the inventory worker applies; another on its inputs is dead-lettered."""


def cell(outlet: str, sku: str) -> str:
    return f"s|{outlet}|{sku}"


def profile(outlet: str) -> str:
    return f"p|{outlet}"


def hold(outlet: str, order_id: str) -> str:
    return f"h|{outlet}|{order_id}"


def decision(outlet: str, order_id: str) -> str:
    return f"d|{outlet}|{order_id}"


def sold_key(outlet: str, sale_id: str) -> str:
    """The name of a sale's note: what it sold (`kernel.Outcome.note`)."""
    return f"{outlet}|{sale_id}"


def in_transit(outlet: str, transfer_id: str) -> str:
    return f"t|{outlet}|{transfer_id}"


def counted_key(outlet: str, transfer_id: str) -> str:
    """The name of the note an arrival with no dispatch to check leaves, so a dispatch
    read after it (the destination counted before the source's worker wrote it) is not
    taken for a transfer still on its way."""
    return f"arrived|{outlet}|{transfer_id}"


def closing(outlet: str) -> str:
    return f"c|{outlet}"


def came_back(outlet: str, sale_id: str) -> str:
    return f"r|{outlet}|{sale_id}"


def sold_note(state: Mapping[str, Any], outlet: str, sale_id: str) -> returns.Sold | None:
    """What a sale sold, as the worker remembers it (None: never, or no longer)."""
    return returns.Sold.from_note(state.get(note_key(sold_key(outlet, sale_id))))


outlet_of = inv.outlet_key
"""The outlet whose stock an event changes, which is also its key."""


def _field(data: Any, name: str) -> Any:
    """A payload's field, or None for a payload without it (a pydantic model's fields are
    in its `__dict__`; `getattr` with a default costs an exception on a miss)."""
    return data.__dict__.get(name)


def _skus_of(data: Any) -> list[str]:
    lines = _field(data, "lines")
    if lines is not None:
        return [line.sku for line in lines]
    sku = _field(data, "sku")
    return [sku] if sku is not None else []


def _load(
    state: Mapping[str, Any], outlet: str, data: Any, more: Iterable[str] = ()
) -> OutletStock:
    """The cells `data` touches (and the SKUs `more`), with its order's hold and answer."""
    view = OutletStock(outlet)
    order_id = _field(data, "order_id")
    skus = [*_skus_of(data), *more]
    if order_id is not None:
        held = state.get(hold(outlet, order_id))
        if held is not None:
            view.holds[order_id] = dict(held)
            skus += list(held)
        answer = state.get(decision(outlet, order_id))
        if answer is not None:
            view.decisions[order_id] = bool(answer[0])
    for sku in skus:
        raw = state.get(cell(outlet, sku))
        if raw is not None:
            view.skus[sku] = Stock.from_list(raw)
    return view


def _changes(
    state: Mapping[str, Any], view: OutletStock, order_id: str | None, now: datetime
) -> dict[str, Any]:
    outlet = view.outlet_id
    changes: dict[str, Any] = {}
    for sku, stock in view.skus.items():
        key = cell(outlet, sku)
        new = stock.to_list()
        if state.get(key) != new:
            changes[key] = new
    if order_id is not None:
        key = hold(outlet, order_id)
        held = view.holds.get(order_id)
        if held != state.get(key):
            changes[key] = held
        if order_id in view.decisions and decision(outlet, order_id) not in state:
            changes[decision(outlet, order_id)] = [
                view.decisions[order_id],
                int(now.timestamp()),
            ]
    return changes


def handlers(
    catalog: CatalogLookup,
    void_window: timedelta = returns.VOID_WINDOW,
    price_tolerance: float = PRICE_TOLERANCE,
) -> dict[type[Any], Handler]:
    """{payload type: handler} for every event the inventory worker applies. A sale is
    kept (what it sold, beside its remembered id) for its returns, and its lines priced
    off the outlet's price by more than `price_tolerance` percent are flagged; a return
    or void is checked against its sale (`returns.check`) and refused, with no change,
    when it does not fit."""
    prices = Prices(catalog)

    def handle(state: Mapping[str, Any], event: Envelope[Any], now: datetime) -> Outcome:
        data = event.data
        view = _load(state, outlet_of(data), data)
        view.now = int(now.timestamp())
        try:
            outbound = apply(view, event, catalog, now)
        except UnexpectedEvent as exc:
            raise Unprocessable(str(exc)) from exc
        return Outcome(_changes(state, view, _field(data, "order_id"), now), outbound)

    def sale(state: Mapping[str, Any], event: Envelope[Any], now: datetime) -> Outcome:
        outcome = handle(state, event, now)
        outcome.events += price_flags(event, prices, price_tolerance)
        sold = event.data
        outcome.note = (sold_key(sold.outlet_id, sold.sale_id), returns.Sold.note_of(sold))
        return outcome

    def sale_return(state: Mapping[str, Any], event: Envelope[Any], now: datetime) -> Outcome:
        back: pos.SaleReturned = event.data
        key = came_back(back.outlet_id, back.sale_id)
        sold = sold_note(state, back.outlet_id, back.sale_id)
        so_far = state.get(key)
        returned = so_far[1] if so_far is not None else {}
        refusal = returns.check(sold, returned, back, void_window)
        if refusal is not None:
            return Outcome(events=[refused(event, refusal.reason, refusal.message)])
        assert sold is not None
        outcome = handle(state, event, now)
        outcome.changes[key] = [sold.sold_at, returns.after(returned, back)]
        return outcome

    def dispatched(state: Mapping[str, Any], event: Envelope[Any], now: datetime) -> Outcome:
        """Units on their way here: kept until this outlet counts what arrived."""
        sent: inv.TransferDispatched = event.data
        key = in_transit(sent.to_outlet_id, sent.transfer_id)
        if key in state or note_key(counted_key(sent.to_outlet_id, sent.transfer_id)) in state:
            return Outcome()  # read again, or counted already (the count came first)
        lines = returns.per_sku(sent.lines)
        record = [sent.expected_at.isoformat(), lines, sent.from_outlet_id, False]
        return Outcome({key: record})

    def arrived(state: Mapping[str, Any], event: Envelope[Any], now: datetime) -> Outcome:
        """What arrived, as counted: against its dispatch when this outlet knows it
        (differences booked lost or found), else as it says (arrivals before issue 21)."""
        came: inv.TransferArrived = event.data
        key = in_transit(came.to_outlet_id, came.transfer_id)
        record = state.get(key)
        if record is None:
            outcome = handle(state, event, now)
            outcome.note = (counted_key(came.to_outlet_id, came.transfer_id), 1)
            return outcome
        view = _load(state, came.to_outlet_id, came, record[1])
        counted = returns.per_sku(came.lines)
        effects = view.receive_transfer(dict(record[1]), counted)
        view.add_lots(lots_of(came.lines))
        outbound = translate(view, event, catalog, effects)
        changes = _changes(state, view, None, now)
        changes[key] = None
        return Outcome(changes, outbound)

    def booth_closed(state: Mapping[str, Any], event: Envelope[Any], now: datetime) -> Outcome:
        """A booth's closing count, over every SKU it holds (`service.close_out`)."""
        closed: inv.BoothClosed = event.data
        outlet = closed.outlet_id
        prefix = f"s|{outlet}|"
        view = _load(
            state, outlet, closed, [k[len(prefix) :] for k in state if k.startswith(prefix)]
        )
        view.now = int(now.timestamp())
        outbound = apply(view, event, catalog, now)
        changes = _changes(state, view, None, now)
        booth = catalog.outlet(outlet)
        window = booth.active_window if booth is not None else None
        changes[closing(outlet)] = [window.ends_at.isoformat() if window else "", True]
        return Outcome(changes, outbound)

    table: dict[type[Any], Handler] = dict.fromkeys(APPLIED, handle)
    table[inv.BoothClosed] = booth_closed
    table[pos.SaleRecorded] = sale
    table[pos.SaleReturned] = sale_return
    table[inv.TransferDispatched] = dispatched
    table[inv.TransferArrived] = arrived
    return table


def forget_old_decisions(state: Mapping[str, Any], now: datetime) -> Outcome:
    """A tick: answers to orders older than the horizon are dropped, and what came back
    of a sale once the sale's own note is gone (with its remembered id)."""
    horizon = int((now - DECISION_HORIZON).timestamp())
    old: dict[str, Any] = {}
    for key, value in state.items():
        answered_long_ago = key.startswith("d|") and value[1] < horizon  # [reserved?, when]
        sale_forgotten = key.startswith("r|") and note_key(key[2:]) not in state
        if answered_long_ago or sale_forgotten:
            old[key] = None
    return Outcome(old)


def flag_overdue_transfers(state: Mapping[str, Any], now: datetime) -> Outcome:
    """A tick: a transfer still in transit after its expected time is flagged to ops once
    (`inventory.TransferOverdue`)."""
    moment = now.isoformat()
    out = Outcome()
    for key, record in state.items():
        if not key.startswith("t|") or record[3]:
            continue
        if datetime.fromisoformat(record[0]) <= now:
            _, outlet, transfer_id = key.split("|", 2)
            out.changes[key] = [record[0], record[1], record[2], moment]
            out.events.append(transfer_overdue(outlet, transfer_id, record, now))
    return out


def ask_for_closing_counts(catalog: CatalogLookup) -> Tick:
    """A tick: an outlet whose selling window (`active_window`, a booth's) has closed with
    units on its books is asked for its closing count, once per window
    (`inventory.CloseOutDue`)."""

    def ask(state: Mapping[str, Any], now: datetime) -> Outcome:
        books: dict[str, list[int]] = {}
        for key, value in state.items():
            if key.startswith("s|") and value[0] > 0:  # on hand
                counted = books.setdefault(key.split("|", 2)[1], [0, 0])
                counted[0] += 1
                counted[1] += value[0]
        out = Outcome()
        for outlet_id, (skus, units) in sorted(books.items()):
            outlet = catalog.outlet(outlet_id)
            window = outlet.active_window if outlet is not None else None
            if window is None or window.ends_at > now:
                continue
            ends = window.ends_at.isoformat()
            asked = state.get(closing(outlet_id))
            if asked is not None and asked[0] == ends:
                continue
            out.changes[closing(outlet_id)] = [ends, False]
            out.events.append(close_out_due(outlet_id, window.ends_at, skus, units, now))
        return out

    return ask


def expire_batches(catalog: CatalogLookup, alert_days: int = EXPIRY_ALERT_DAYS) -> Tick:
    """A tick: batches past their best-before date (as the outlet's calendar has it)
    leave what is available, and those good for `alert_days` more days or fewer are
    warned of, once per batch (`inventory.ExpiryAlert`)."""

    def expire(state: Mapping[str, Any], now: datetime) -> Outcome:
        dated: dict[str, list[str]] = {}
        for key, value in state.items():
            if key.startswith("s|") and len(value) > BATCHES and value[BATCHES]:
                _, outlet, sku = key.split("|", 2)
                dated.setdefault(outlet, []).append(sku)
        out = Outcome()
        for outlet, skus in sorted(dated.items()):
            view = OutletStock(
                outlet, {sku: Stock.from_list(state[cell(outlet, sku)]) for sku in skus}
            )
            today = now.astimezone(tz_of(catalog, outlet)).date()
            soon = today + timedelta(days=alert_days)
            effects = view.expire(today.isoformat(), soon.isoformat())
            if not effects:
                continue
            about = f"{outlet}|{today.isoformat()}|expiry"
            out.events += Translator(view, None, catalog, about, now).events(effects)
            out.changes.update(_changes(state, view, None, now))
        return out

    return expire


def flag_overdue_restocks(state: Mapping[str, Any], now: datetime) -> Outcome:
    """A tick: an accepted restock still on order after its due time is flagged to ops,
    once per request and due time (`Stock.overdue`)."""
    changes: dict[str, Any] = {}
    events = []
    for key, value in state.items():
        if not key.startswith("s|"):
            continue
        stock = Stock.from_list(value)
        if stock.late(now):
            stock.overdue = True
            _, outlet, sku = key.split("|", 2)
            changes[key] = stock.to_list()
            events.append(overdue(outlet, sku, stock, now))
    return Outcome(changes, events)


def predict_stockouts(
    catalog: CatalogLookup,
    restock: bool = True,
    review: timedelta = timedelta(0),
    committed: Committed | None = None,
) -> Tick:
    """A tick: every cell's stockout forecast (`service.foresee`), outlet by outlet; the
    learned daily shape of each outlet is kept at `p|OUTLET`. With `restock`, a predicted
    stockout asks its supplier for a restock sized by the forecast, held `review` for ops
    to change its quantity first (and sent by this tick once that time has passed)."""

    def forecast(state: Mapping[str, Any], now: datetime) -> Outcome:
        outlets: dict[str, dict[str, Stock]] = {}
        for key, value in state.items():
            if key.startswith("s|"):
                _, outlet, sku = key.split("|", 2)
                outlets.setdefault(outlet, {})[sku] = Stock.from_list(value)
        outcome = Outcome()
        for outlet, cells in outlets.items():
            raw = state.get(profile(outlet))
            shape = Profile.from_list(raw) if raw is not None else Profile()
            changed, learned, events = foresee(
                outlet, cells, shape, catalog, now, restock, review, committed
            )
            for sku in changed:
                outcome.changes[cell(outlet, sku)] = cells[sku].to_list()
            if learned:
                outcome.changes[profile(outlet)] = shape.to_list()
            outcome.events += events
        return outcome

    return forecast


def stock_of(state: Mapping[str, Any], outlet: str) -> dict[str, Stock]:
    """Every SKU's stock at an outlet as the state holds it (tests, the upgrade check)."""
    prefix = f"s|{outlet}|"
    return {
        key[len(prefix) :]: Stock.from_list(value)
        for key, value in state.items()
        if key.startswith(prefix)
    }
