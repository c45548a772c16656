"""Stock at one outlet, in plain Python: what each sale, order, count, transfer and receipt
does to it, and what a person or another service must hear about as a result.

One `OutletStock` holds every SKU of one outlet, so a multi-line order is reserved
all-or-nothing in one step. Every change of a SKU bumps its version and is recorded as a
`Moved` effect; alerts and restock requests follow from status changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from lumbung.inventory.forecast import note_sale

MAX_DECISIONS = 5000
PENDING = "pending"
"""A restock request asked for in this step, whose id the service layer assigns."""


class Status(StrEnum):
    OK = "ok"
    LOW = "low"
    OUT = "out"
    NEGATIVE = "negative"


@dataclass
class Stock:
    on_hand: int = 0
    reserved: int = 0
    reorder_point: int = 0
    par_level: int = 0
    version: int = 0
    restock_id: str | None = None
    """The open restock request of this SKU, if any."""
    on_order: int = 0
    """Units the supplier accepted to bring for the open request and has not brought yet."""
    due_at: str | None = None
    """When the supplier said the open request's goods arrive (ISO 8601, with offset)."""
    received: int = 0
    """Units received so far for the open request (its partial deliveries)."""
    overdue: bool = False
    """The open request's due time passed with units still on order, and ops were told."""
    sold: list[list[int]] = field(default_factory=list)
    """[slot, units] sold per half-hour slot, two days back (`forecast.note_sale`)."""
    forecast: list[Any] | None = None
    """[prediction id, ETA, available then] of the stockout predicted, until cleared."""
    held: list[Any] | None = None
    """[qty, reason, send at] of the open request while the forecast's suggestion waits for
    ops, before it goes to the supplier."""
    tally: list[int] | None = None
    """[units sold, rupiah, seconds out, out since (epoch s, 0: not out)] since the outlet's
    last close-out (issue 21): what a booth's close-out report says of the SKU."""
    batches: list[list[Any]] | None = None
    """[best before (ISO date), batch code, units, warned?] of the units with a date, the
    soonest first (issue 21); the rest of on hand has none. Sales take the soonest first."""
    expired: int = 0
    """Units past their best-before date: on hand until written off, never available."""

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.expired

    @property
    def status(self) -> Status:
        if self.on_hand < 0:
            return Status.NEGATIVE
        if self.available <= 0:
            return Status.OUT
        if self.available <= self.reorder_point:
            return Status.LOW
        return Status.OK

    def to_list(self) -> list[Any]:
        return [
            self.on_hand,
            self.reserved,
            self.reorder_point,
            self.par_level,
            self.version,
            self.restock_id,
            self.on_order,
            self.due_at,
            self.received,
            self.overdue,
            self.sold,
            self.forecast,
            self.held,
            self.tally,
            self.batches,
            self.expired,
        ]

    @classmethod
    def from_list(cls, values: list[Any]) -> Stock:
        return cls(*values)

    def late(self, now: datetime) -> bool:
        """Whether the open request is overdue and nobody was told yet."""
        return (
            self.on_order > 0
            and not self.overdue
            and self.due_at is not None
            and datetime.fromisoformat(self.due_at) < now
        )


# -- effects: what a change causes, translated to contract events in one place ----------


@dataclass(frozen=True)
class Moved:
    sku: str
    delta_on_hand: int
    delta_reserved: int
    reason: str
    stock: Stock


@dataclass(frozen=True)
class Alerted:
    kind: str
    sku: str
    stock: Stock
    message: str = ""


@dataclass(frozen=True)
class RestockNeeded:
    sku: str
    suggested_qty: int
    stock: Stock


@dataclass(frozen=True)
class RestockDone:
    restock_id: str
    sku: str
    received_qty: int


@dataclass(frozen=True)
class RestockSent:
    """A held suggestion goes to the supplier now, with the quantity ops set."""

    restock_id: str
    sku: str
    qty: int
    reason: str
    stock: Stock


@dataclass(frozen=True)
class RestockHeld:
    """A held suggestion with the quantity ops set, still waiting to go out."""

    restock_id: str
    sku: str
    qty: int
    reason: str
    stock: Stock


@dataclass(frozen=True)
class Reserved:
    order_id: str
    lines: dict[str, int]


@dataclass(frozen=True)
class Rejected:
    order_id: str
    shortfall: list[tuple[str, int, int]]
    """(sku, requested, available) for every line that could not be held."""


@dataclass(frozen=True)
class TransferSent:
    transfer_id: str
    to_outlet_id: str
    lines: dict[str, int]


Lot = tuple[str, str | None]
"""A batch: (best before as an ISO date, batch code or None)."""


@dataclass(frozen=True)
class ExpiryNoted:
    """A batch nears its best-before date (`soon`) or is past it (`expired`)."""

    sku: str
    lot: Lot
    qty: int
    kind: str


@dataclass(frozen=True)
class CloseOutRow:
    """What a booth's close-out report says of one SKU."""

    sku: str
    sold: int
    revenue: int
    left_over: int
    difference: int
    stockout_minutes: int
    leftovers_to: str
    """`home`, `producer`, `stays` or `none` (`inventory.LeftoversTo`)."""
    destination_id: str | None


@dataclass(frozen=True)
class LeftoversHome:
    """The leftovers the booth's home outlet takes, asked for as a transfer."""

    transfer_id: str
    to_outlet_id: str
    lines: dict[str, int]


@dataclass(frozen=True)
class LeftoversBack:
    """The leftovers a producer takes back, sent back to it."""

    sendback_id: str
    supplier_id: str
    lines: dict[str, int]


@dataclass(frozen=True)
class ClosedOut:
    close_id: str
    rows: list[CloseOutRow]
    transfer_id: str | None


Effect = (
    Moved
    | Alerted
    | RestockNeeded
    | RestockDone
    | RestockSent
    | RestockHeld
    | Reserved
    | Rejected
    | TransferSent
    | ExpiryNoted
    | LeftoversHome
    | LeftoversBack
    | ClosedOut
)


@dataclass
class OutletStock:
    outlet_id: str
    skus: dict[str, Stock] = field(default_factory=dict)
    holds: dict[str, dict[str, int]] = field(default_factory=dict)
    """Units held per open order: order_id → {sku: qty}."""
    decisions: dict[str, bool] = field(default_factory=dict)
    """Recent answers to orders (True: reserved), so a repeated OrderPlaced gets the same."""
    now: int | None = None
    """When the change happens (epoch seconds), for the minutes a SKU is out; None: not
    tracked (tests of other rules)."""

    # -- facts from the point of sale ------------------------------------------------

    def sell(
        self,
        lines: list[tuple[str, int]],
        known: set[str] | None = None,
        slot: tuple[int, int] | None = None,
        prices: dict[str, int] | None = None,
    ) -> list[Effect]:
        """A sale is a fact: applied even below zero, even for a SKU never heard of.
        `slot`: (the sale's half-hour slot, the newest slot now), for the velocity;
        `prices`: rupiah a unit of each SKU, for the close-out report's revenue."""
        effects: list[Effect] = []
        for sku, qty in lines:
            if sku not in self.skus and (known is None or sku not in known):
                stock = self.skus.setdefault(sku, Stock())
                effects.append(
                    Alerted(
                        "unknown_sku",
                        sku,
                        _copy(stock),
                        f"sold {qty} of {sku}, which inventory has not heard of",
                    )
                )
            effects += self._change(sku, -qty, 0, "sale")
            stock = self.skus[sku]
            if slot is not None:
                stock.sold = note_sale(stock.sold, slot[0], qty, slot[1])
            if prices is not None:
                _count_sold(stock, qty, qty * prices.get(sku, 0))
        return effects

    def take_back(
        self, lines: list[tuple[str, int]], reason: str, prices: dict[str, int] | None = None
    ) -> list[Effect]:
        """Units back from a customer (a return or void): they were not sold after all."""
        effects: list[Effect] = []
        for sku, qty in lines:
            effects += self._change(sku, qty, 0, reason)
            if prices is not None:
                _count_sold(self.skus[sku], -qty, -qty * prices.get(sku, 0))
        return effects

    def close_out(
        self,
        close_id: str,
        counted: list[tuple[str, int]],
        home: str | None,
        producer_of: Callable[[str], str | None],
        until: int,
    ) -> list[Effect]:
        """A booth's closing count: on hand becomes what was counted (a SKU left out is
        taken as booked), and what is left goes home: back to its producer when
        `producer_of` names one that takes its goods back, otherwise as one transfer to
        the `home` outlet (with none, it stays). The report tells per SKU what sold since
        the last close-out, what was left, where it goes, and the minutes it was out up
        to `until` (the window's end, or the count if sooner); its figures start over."""
        effects = self.count(counted, "closing_count")
        differences = {e.sku: e.delta_on_hand for e in effects if isinstance(e, Moved)}
        home_lines: dict[str, int] = {}
        back: dict[str, dict[str, int]] = {}
        rows = []
        for sku in sorted(self.skus):
            stock = self.skus[sku]
            left = max(stock.available, 0)
            producer = producer_of(sku) if left else None
            if not left:
                to, where = "none", None
            elif producer is not None:
                to, where = "producer", producer
                back.setdefault(producer, {})[sku] = left
            elif home is not None:
                to, where = "home", home
                home_lines[sku] = left
            else:
                to, where = "stays", None
            sold, revenue, out_s, since = stock.tally or [0, 0, 0, 0]
            if since:
                out_s += max(until - since, 0)
            rows.append(
                CloseOutRow(
                    sku, sold, revenue, left, differences.get(sku, 0), out_s // 60, to, where
                )
            )
            stock.tally = None
        transfer_id = None
        if home is not None and home_lines:
            transfer_id = f"{close_id}-HOME"
            effects.append(LeftoversHome(transfer_id, home, home_lines))
        for supplier_id, lines in sorted(back.items()):
            effects.append(LeftoversBack(f"{close_id}-{supplier_id}", supplier_id, lines))
        effects.append(ClosedOut(close_id, rows, transfer_id))
        return effects

    # -- commands --------------------------------------------------------------------

    def count(
        self,
        lines: list[tuple[str, int]],
        reason: str = "count",
        lots: dict[str, list[tuple[Lot, int]]] | None = None,
    ) -> list[Effect]:
        """On hand becomes what was counted; a SKU counted by batch (`lots`) holds those
        batches from now on (a batch already past its date is expired by the next tick)."""
        effects: list[Effect] = []
        for sku, counted in lines:
            stock = self.skus.setdefault(sku, Stock())
            recount = 0
            if lots and sku in lots:  # counted batch by batch: those are what is there
                stock.batches, recount = None, -stock.expired
            difference = counted - stock.on_hand
            effects += self._change(sku, difference, 0, reason, always=True, expiring=recount)
            for lot, qty in (lots or {}).get(sku, []):
                _add_lot(stock, lot, qty)
            _fit(stock)
        return effects

    def expire(self, today: str, soon_until: str) -> list[Effect]:
        """The tick of best-before dates (ISO days as the outlet's calendar has them):
        a batch past its date leaves what is available (it stays on hand until written
        off); a batch good through `soon_until` or sooner is warned of, once."""
        effects: list[Effect] = []
        for sku, stock in self.skus.items():
            for entry in list(stock.batches or []):
                best_before, code, qty, warned = entry
                if best_before < today:
                    stock.batches = [e for e in stock.batches or [] if e is not entry] or None
                    effects += self._change(sku, 0, 0, "expired", always=True, expiring=qty)
                    effects.append(ExpiryNoted(sku, (best_before, code), qty, "expired"))
                elif best_before <= soon_until and not warned:
                    entry[3] = True
                    effects.append(ExpiryNoted(sku, (best_before, code), qty, "soon"))
        return effects

    def adjust(self, sku: str, delta: int, reason: str) -> list[Effect]:
        return self._change(sku, delta, 0, f"adjustment:{reason}")

    def send_back(self, lines: list[tuple[str, int]], reason: str) -> list[Effect]:
        """Goods back to their producer: out of on hand, like a loss, but not a loss."""
        effects: list[Effect] = []
        for sku, qty in lines:
            effects += self._change(sku, -qty, 0, f"sent_back:{reason}")
        return effects

    def receive(
        self, sku: str, qty: int, restock_id: str | None, lot: Lot | None = None
    ) -> list[Effect]:
        """Goods in. A receipt books what it brings against the open request (the one it
        names, or the SKU's): short of what the supplier accepted, the rest stays on
        order and the request open; otherwise the request is closed. A request nobody
        accepted is closed by its first receipt: the delivery was the answer."""
        stock = self.skus.setdefault(sku, Stock())
        effects = self._change(sku, qty, 0, "restock_received")
        if lot is not None:
            _add_lot(stock, lot, qty)
        closing = restock_id or stock.restock_id
        if closing is not None and closing == stock.restock_id:
            if qty < stock.on_order:
                stock.on_order -= qty
                stock.received += qty
            else:
                effects.append(RestockDone(closing, sku, stock.received + qty))
                _close(stock)
        return effects

    def restock_accepted(self, sku: str, restock_id: str, qty: int, due_at: str) -> list[Effect]:
        """The supplier will bring `qty` by `due_at`: on order until receipts bring it. An
        answer to a request no longer open (closed, or declined) changes nothing."""
        stock = self.skus.get(sku)
        if stock is not None and stock.restock_id == restock_id:
            stock.on_order, stock.due_at = max(qty - stock.received, 0), due_at
            stock.overdue = False  # a new due time: late again only after it
        return []

    def set_restock_qty(self, sku: str, restock_id: str, qty: int, send_now: bool) -> list[Effect]:
        """Ops' quantity for a suggestion still held; sent at once with `send_now`. A
        request already sent (or closed) is not changed: the supplier has it."""
        stock = self.skus.get(sku)
        if stock is None or stock.held is None or stock.restock_id != restock_id:
            return []
        stock.held = [qty, *stock.held[1:]]
        if not send_now:  # said again with its new quantity, so every page shows it
            return [RestockHeld(restock_id, sku, qty, str(stock.held[1]), _copy(stock))]
        reason = f"{stock.held[1]}; set to {qty} by ops" if stock.held[1] else "set by ops"
        stock.held = None
        return [RestockSent(restock_id, sku, qty, reason, _copy(stock))]

    def set_levels(self, sku: str, reorder_point: int, par_level: int) -> list[Effect]:
        stock = self.skus.setdefault(sku, Stock())
        stock.reorder_point, stock.par_level = reorder_point, par_level
        return self._change(sku, 0, 0, "levels_set", always=True)

    def dispatch(
        self, transfer_id: str, to_outlet_id: str, lines: list[tuple[str, int]]
    ) -> list[Effect]:
        """The units leave this outlet now and are in transit until they arrive."""
        effects: list[Effect] = []
        sent: dict[str, int] = {}
        for sku, qty in lines:
            effects += self._change(sku, -qty, 0, "transfer_out")
            sent[sku] = sent.get(sku, 0) + qty
        effects.append(TransferSent(transfer_id, to_outlet_id, sent))
        return effects

    def arrive(
        self, lines: list[tuple[str, int]], lots: dict[str, list[tuple[Lot, int]]] | None = None
    ) -> list[Effect]:
        """Units in from another outlet, as counted (or, with no dispatch to check them
        against, as sent: the arrivals written before issue 21), with the batches the
        count named."""
        effects: list[Effect] = []
        for sku, qty in lines:
            effects += self._change(sku, qty, 0, "transfer_in")
        self.add_lots(lots)
        return effects

    def add_lots(self, lots: dict[str, list[tuple[Lot, int]]] | None) -> None:
        """Units just booked in carry these batches (as far as on hand has room)."""
        for sku, dated in (lots or {}).items():
            stock = self.skus.setdefault(sku, Stock())
            for lot, qty in dated:
                _add_lot(stock, lot, qty)
            _fit(stock)

    def receive_transfer(self, sent: dict[str, int], counted: dict[str, int]) -> list[Effect]:
        """A dispatched transfer counted at arrival: what was sent comes in, and every
        difference from what was counted is booked at once, as lost (short) or found
        (over), so the ledger shows both the transfer and its loss with their causes."""
        effects = self.arrive(list(sent.items()))
        for sku in [*sent, *(s for s in counted if s not in sent)]:
            difference = counted.get(sku, 0) - sent.get(sku, 0)
            if difference < 0:
                effects += self.adjust(sku, difference, "lost")
            elif difference > 0:
                effects += self.adjust(sku, difference, "found")
        return effects

    def restock_declined(self, sku: str, restock_id: str) -> list[Effect]:
        """A declined request is closed, so the next drop may ask again."""
        stock = self.skus.get(sku)
        if stock is not None and stock.restock_id == restock_id:
            _close(stock)
        return []

    # -- orders ----------------------------------------------------------------------

    def reserve(self, order_id: str, lines: list[tuple[str, int]]) -> list[Effect]:
        """Hold every line from available stock, or nothing at all."""
        if order_id in self.decisions:
            return [self._repeat_answer(order_id, lines)]
        wanted: dict[str, int] = {}
        for sku, qty in lines:
            wanted[sku] = wanted.get(sku, 0) + qty
        shortfall = [
            (sku, qty, self._available(sku))
            for sku, qty in wanted.items()
            if self._available(sku) < qty
        ]
        self._decide(order_id, not shortfall)
        if shortfall:
            return [Rejected(order_id, shortfall)]
        effects: list[Effect] = []
        for sku, qty in wanted.items():
            effects += self._change(sku, 0, qty, "reserved")
        self.holds[order_id] = wanted
        effects.append(Reserved(order_id, wanted))
        return effects

    def release(self, order_id: str, reason: str) -> list[Effect]:
        effects: list[Effect] = []
        for sku, qty in self.holds.pop(order_id, {}).items():
            effects += self._change(sku, 0, -qty, reason)
        return effects

    def fulfil(self, order_id: str) -> list[Effect]:
        effects: list[Effect] = []
        for sku, qty in self.holds.pop(order_id, {}).items():
            effects += self._change(sku, -qty, -qty, "order_fulfilled")
        return effects

    # -- the one place a SKU changes -------------------------------------------------

    def _change(
        self,
        sku: str,
        delta_on_hand: int,
        delta_reserved: int,
        reason: str,
        *,
        always: bool = False,
        expiring: int = 0,
    ) -> list[Effect]:
        stock = self.skus.setdefault(sku, Stock())
        if not (delta_on_hand or delta_reserved or always):
            return []
        before = stock.status
        stock.on_hand += delta_on_hand
        stock.reserved += delta_reserved
        stock.expired += expiring
        if delta_on_hand < 0:
            gone = -delta_on_hand
            if reason == "adjustment:expired":  # written off: the expired units first
                written_off = min(gone, stock.expired)
                stock.expired -= written_off
                gone -= written_off
            _consume(stock, gone)
        if delta_on_hand or expiring:
            _fit(stock)
        stock.version += 1
        snapshot = _copy(stock)
        effects: list[Effect] = [Moved(sku, delta_on_hand, delta_reserved, reason, snapshot)]
        after = stock.status
        if self.now is not None and (before in OUT_STATES) != (after in OUT_STATES):
            _count_out(stock, after in OUT_STATES, self.now)
        if after is not before:
            if after is Status.NEGATIVE:
                effects.append(
                    Alerted(
                        "negative_stock",
                        sku,
                        snapshot,
                        f"on hand of {sku} is {stock.on_hand}: count it",
                    )
                )
            elif after is Status.OUT:
                effects.append(Alerted("out_of_stock", sku, snapshot))
            elif after is Status.LOW and before is Status.OK:
                effects.append(Alerted("low_stock", sku, snapshot))
            elif before in (Status.OUT, Status.NEGATIVE):
                effects.append(Alerted("back_in_stock", sku, snapshot))
        if (
            stock.reorder_point > 0
            and stock.available <= stock.reorder_point
            and stock.restock_id is None
        ):
            suggested = max(stock.par_level - stock.available, 1)
            stock.restock_id = PENDING
            effects.append(RestockNeeded(sku, suggested, snapshot))
        return effects

    def open_restock(self, sku: str, restock_id: str) -> None:
        self.skus.setdefault(sku, Stock()).restock_id = restock_id

    def _available(self, sku: str) -> int:
        stock = self.skus.get(sku)
        return stock.available if stock is not None else 0

    def _decide(self, order_id: str, reserved: bool) -> None:
        self.decisions[order_id] = reserved
        while len(self.decisions) > MAX_DECISIONS:
            del self.decisions[next(iter(self.decisions))]

    def _repeat_answer(self, order_id: str, lines: list[tuple[str, int]]) -> Effect:
        """The same answer as the first time, whatever the stock is now."""
        if self.decisions[order_id]:
            return Reserved(order_id, self.holds.get(order_id) or dict(lines))
        short = [(sku, qty, self._available(sku)) for sku, qty in lines]
        # Only the lines short now: a line with enough has no shortfall to name (its
        # `missing` would be below 1, which the contract refuses), so a repeat that came
        # after a restock raised in the worker and stopped its partition.
        return Rejected(order_id, [line for line in short if line[2] < line[1]])

    # -- storage ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "outlet_id": self.outlet_id,
            "skus": {sku: s.to_list() for sku, s in self.skus.items()},
            "holds": self.holds,
            "decisions": self.decisions,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutletStock:
        return cls(
            data["outlet_id"],
            {sku: Stock.from_list(v) for sku, v in data.get("skus", {}).items()},
            data.get("holds", {}),
            data.get("decisions", {}),
        )


OUT_STATES = (Status.OUT, Status.NEGATIVE)


def _add_lot(stock: Stock, lot: Lot, qty: int) -> None:
    """`qty` units of batch `lot` in, the batches kept soonest first."""
    batches = stock.batches or []
    for entry in batches:
        if (entry[0], entry[1]) == lot:
            entry[2] += qty
            break
    else:
        batches.append([lot[0], lot[1], qty, False])
    stock.batches = sorted(batches, key=lambda e: (e[0], e[1] or ""))


def _consume(stock: Stock, units: int) -> None:
    """`units` leave the dated batches first-expired-first-out; units with no date go
    after all of them."""
    if not stock.batches or units <= 0:
        return
    for entry in stock.batches:
        taken = min(entry[2], units)
        entry[2] -= taken
        units -= taken
        if not units:
            break
    stock.batches = [e for e in stock.batches if e[2] > 0] or None


def _fit(stock: Stock) -> None:
    """The batches and the expired units never hold more than is on hand: a count or
    a loss below them took from the soonest batches."""
    stock.expired = min(stock.expired, max(stock.on_hand, 0))
    dated = sum(entry[2] for entry in stock.batches or [])
    _consume(stock, dated - max(stock.on_hand - stock.expired, 0))


def sellable(stock: Stock, demand_until: Callable[[str], float]) -> int:
    """What is available less the units of batches that will pass their date before the
    pace sells them, first-expired-first-out: `demand_until(day)` is the units expected
    to sell from now to the end of that ISO day."""
    lost, sold_from_batches = 0, 0.0
    for best_before, _, qty, _ in stock.batches or []:
        usable = min(qty, max(0.0, demand_until(best_before) - sold_from_batches))
        lost += qty - int(usable)
        sold_from_batches += usable
    return stock.available - lost


def _count_sold(stock: Stock, units: int, amount: int) -> None:
    tally = stock.tally = stock.tally or [0, 0, 0, 0]
    tally[0] += units
    tally[1] += amount


def _count_out(stock: Stock, out: bool, now: int) -> None:
    """The SKU went out (`out`) or came back at `now`: the minutes it is out add up."""
    tally = stock.tally = stock.tally or [0, 0, 0, 0]
    if out:
        tally[3] = now
    elif tally[3]:
        tally[2] += max(now - tally[3], 0)
        tally[3] = 0


def _close(stock: Stock) -> None:
    """The SKU's restock request is over: nothing on order, the next drop may ask again."""
    stock.restock_id, stock.on_order, stock.due_at, stock.received = None, 0, None, 0
    stock.overdue, stock.held = False, None


def _copy(stock: Stock) -> Stock:
    return Stock(*stock.to_list())
