"""The books worker's stream handlers: pure functions of (state, event, now) for the
stream kernel, over `pos.sales`, `inventory.alerts` and `inventory.commands` (all keyed
by outlet_id, so an outlet's sales, returns, refused returns and goods sent back to their
producers meet in one task).

State:

- `b|OUTLET|MONTH|SUPPLIER`  the `domain.Ledger` of that supplier's goods at the outlet in
  that month (the outlet's time zone): what the read model and the statements show;
- `r|OUTLET|RETURN`  [hour applied, [ledger keys]]: a return counted, and where;
- `x|OUTLET|RETURN`  hour refused: inventory refused this return (`ReturnRefused`);
- `s|OUTLET|SENDBACK`  hour applied: goods sent back counted once, whatever month or
  supplier a retry of it would name (its `sent_at` may be filled in anew);
- the note `OUTLET|SALE` kept beside a sale's remembered id (`kernel.Outcome.note`): the
  day it sold, so its returns are charged at that day's rate (while the id is kept).

A refused return never counts, whichever comes first: a refusal after its return takes it
out of the ledgers `r|` names; a return after its refusal finds the `x|` marker. Both are
forgotten after `RETURN_MEMORY` (a tick). Commission is not applied here: a statement
applies the rate in force on each day when it is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from lumbung.books.domain import Ledger, period_of
from lumbung.contracts import DEFAULT, Envelope, OutletChanged
from lumbung.contracts.events import inventory as inv
from lumbung.contracts.events import pos
from lumbung.platform.clock import WITA
from lumbung.platform.kernel import Handler, Outcome, note_key

RETURN_MEMORY = timedelta(days=90)
"""How long a counted or refused return is remembered: inventory refuses a return as it
applies it, seconds after it came; a refusal later than this would leave it counted."""
FORGET_EVERY_S = 3600.0
UNKNOWN_SUPPLIER = "UNKNOWN"
"""The ledger of SKUs the catalog does not know (yet): sales are facts, kept and shown."""


class CatalogLookup(Protocol):
    def supplier_of(self, sku: str) -> str | None: ...

    def outlet(self, outlet_id: str) -> OutletChanged | None: ...


def ledger_key(outlet_id: str, month: str, supplier_id: str) -> str:
    return f"b|{outlet_id}|{month}|{supplier_id}"


def counted_key(outlet_id: str, return_id: str) -> str:
    return f"r|{outlet_id}|{return_id}"


def refused_key(outlet_id: str, return_id: str) -> str:
    return f"x|{outlet_id}|{return_id}"


def sent_back_key(outlet_id: str, sendback_id: str) -> str:
    return f"s|{outlet_id}|{sendback_id}"


def sale_note(outlet_id: str, sale_id: str) -> str:
    return f"{outlet_id}|{sale_id}"


REPORTED_DEVICE = "report:"
"""The device of a sale imported from a retailer's report: `report:<retailer>`."""


def is_reported(sale: pos.SaleRecorded) -> bool:
    return (sale.device_id or "").startswith(REPORTED_DEVICE)


outlet_of = inv.outlet_key
"""The outlet an input is keyed by (a transfer on `inventory.commands` names two)."""


def _hour(moment: datetime) -> int:
    return int(moment.timestamp()) // 3600


def handlers(catalog: CatalogLookup) -> dict[type[Any], Handler]:
    def zone(outlet_id: str) -> Any:
        outlet = catalog.outlet(outlet_id)
        return ZoneInfo(outlet.timezone) if outlet is not None else WITA

    def supplier(sku: str) -> str:
        return catalog.supplier_of(sku) or UNKNOWN_SUPPLIER

    def load(state: Mapping[str, Any], ledgers: dict[str, Ledger], key: str) -> Ledger:
        if key not in ledgers:
            ledgers[key] = Ledger.from_dict(state.get(key))
        return ledgers[key]

    def sale(state: Mapping[str, Any], event: Envelope[Any], _: datetime) -> Outcome:
        data: pos.SaleRecorded = event.data
        month, day = period_of(data.sold_at, zone(data.outlet_id))
        ledgers: dict[str, Ledger] = {}
        live = not is_reported(data)
        for line in data.lines:
            key = ledger_key(data.outlet_id, month, supplier(line.sku))
            load(state, ledgers, key).sell(day, line.sku, line.unit_price_idr, line.qty, live)
        changes = {key: ledger.to_dict() for key, ledger in ledgers.items()}
        return Outcome(changes, note=(sale_note(data.outlet_id, data.sale_id), day))

    def sale_returned(state: Mapping[str, Any], event: Envelope[Any], now: datetime) -> Outcome:
        data: pos.SaleReturned = event.data
        outlet = data.outlet_id
        if refused_key(outlet, data.return_id) in state:
            return Outcome()
        if counted_key(outlet, data.return_id) in state:
            return Outcome()  # the same return again under another event id
        month, day = period_of(data.returned_at, zone(outlet))
        by_ledger: dict[str, list[list[Any]]] = {}
        for line in data.lines:
            key = ledger_key(outlet, month, supplier(line.sku))
            by_ledger.setdefault(key, []).append([line.sku, line.unit_price_idr, line.qty])
        refunds = _shares(data.refund(), by_ledger)
        sold_on = state.get(note_key(sale_note(outlet, data.sale_id)), day)
        ledgers: dict[str, Ledger] = {}
        for key, lines in by_ledger.items():
            ledger = load(state, ledgers, key)
            ledger.take_back(data.return_id, day, lines, refunds[key], sold_on)
        changes: dict[str, Any] = {key: ledger.to_dict() for key, ledger in ledgers.items()}
        changes[counted_key(outlet, data.return_id)] = [_hour(now), sorted(ledgers)]
        return Outcome(changes)

    def return_refused(state: Mapping[str, Any], event: Envelope[Any], now: datetime) -> Outcome:
        data: inv.ReturnRefused = event.data
        outlet = data.outlet_id
        changes: dict[str, Any] = {refused_key(outlet, data.return_id): _hour(now)}
        counted = state.get(counted_key(outlet, data.return_id))
        if counted is not None:
            for key in counted[1]:
                ledger = Ledger.from_dict(state.get(key))
                if ledger.forget_return(data.return_id):
                    changes[key] = ledger.to_dict()
            changes[counted_key(outlet, data.return_id)] = None
        return Outcome(changes)

    def sent_back(state: Mapping[str, Any], event: Envelope[Any], now: datetime) -> Outcome:
        data: inv.GoodsSentBack = event.data
        marker = sent_back_key(data.outlet_id, data.sendback_id)
        if marker in state:  # a retry, maybe dated anew (inventory took it once too)
            return Outcome()
        month, day = period_of(data.sent_at, zone(data.outlet_id))
        by_ledger: dict[str, list[list[Any]]] = {}
        for line in data.lines:
            key = ledger_key(data.outlet_id, month, supplier(line.sku))
            by_ledger.setdefault(key, []).append([line.sku, line.qty])
        ledgers: dict[str, Ledger] = {}
        for key, lines in by_ledger.items():
            load(state, ledgers, key).send_back(data.sendback_id, day, lines, data.reason.value)
        changes: dict[str, Any] = {key: ledger.to_dict() for key, ledger in ledgers.items()}
        changes[marker] = _hour(now)
        return Outcome(changes)

    # Every other event on inventory.alerts and inventory.commands is not the books'
    # business, and not bad input.
    others = {
        spec.payload: ignore
        for topic in ("inventory.alerts", "inventory.commands")
        for spec in DEFAULT.events_on(topic)
    }
    return {
        **others,
        pos.SaleRecorded: sale,
        pos.SaleReturned: sale_returned,
        inv.ReturnRefused: return_refused,
        inv.GoodsSentBack: sent_back,
    }


def ignore(_: Mapping[str, Any], __: Envelope[Any], ___: datetime) -> Outcome:
    return Outcome()


def _shares(refund: int, by_ledger: dict[str, list[list[Any]]]) -> dict[str, int]:
    """A return's refund split over its suppliers' ledgers by the value of their lines
    (the first ledger takes what whole rupiah leave over)."""
    values = {key: sum(price * qty for _, price, qty in lines) for key, lines in by_ledger.items()}
    total = sum(values.values())
    shares = {key: refund * value // total if total else 0 for key, value in values.items()}
    first = next(iter(shares))
    shares[first] += refund - sum(shares.values())
    return shares


def forget_old_markers(state: Mapping[str, Any], now: datetime) -> Outcome:
    """A tick: counted and refused returns, and goods sent back, older than
    `RETURN_MEMORY` are forgotten."""
    horizon = _hour(now - RETURN_MEMORY)
    changes: dict[str, Any] = {}
    for key, value in state.items():
        # r| holds [hour, ledgers], x| and s| the hour alone
        hour = value[0] if key.startswith("r|") else value if key[:2] in ("x|", "s|") else None
        if hour is not None and hour < horizon:
            changes[key] = None
    return Outcome(changes)
