"""Foresight in plain Python: how fast each product sells at an outlet, and when it runs out.

Time is cut into half-hour slots. A cell (outlet, SKU) keeps the units it sold per slot
for the last two days (`Stock.sold`), on the sale's own time, bounded by when the sale
arrived. Nothing else is kept per sale: every estimate is made when asked, from those
counts and the outlet's *shape*, its busyness by slot relative to a quiet hour:

- outside an outlet's window (a booth's `active_window`) it sells nothing;
- a kiosk or rest area learns its daily shape from earlier days (`Profile`); before a
  whole day is seen it is assumed to trade 07:00-22:00 local time at an even pace;
- a booth trades 07:00-22:00 too, and is `RUSH_HEIGHT` times busier again (scaled by the
  session's expected visitors against the event's usual session) in the `RUSH_BEFORE`
  before each session at a venue near it starts and the `RUSH_AFTER` after it ends
  (visitors arriving, and leaving).

The velocity is a ratio: units sold over the outlet's shape-weighted open time, both
decayed with the open time since (`MEMORY_MIN`), so a night does not age an estimate and a
rush does not read as a new normal. Demand ahead is that velocity times the shape ahead;
the stockout ETA is when demand exceeds what is available plus what is on order and due
by then. An outlet that has gone silent (no sale while it should have sold
`SILENT_UNITS`) has no velocity at all: unknown, not zero.

Then `judge` decides a cell's episode (predict once, clear with hysteresis on the pace),
and `size` how much a forecast's restock asks for. docs/FORECAST.md has the evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

SLOT_S = 1800
SLOT_MIN = SLOT_S / 60
SLOTS_PER_DAY = 24 * 3600 // SLOT_S
HISTORY_SLOTS = 2 * SLOTS_PER_DAY
"""How far back a cell keeps its sales: two days of slots."""
OPENS, CLOSES = time(7, 0), time(22, 0)
"""Trading hours assumed until an outlet's own shape is learned."""
RUSH_BEFORE, RUSH_AFTER = timedelta(minutes=90), timedelta(minutes=60)
RUSH_HEIGHT = 3.0
"""How many times busier than quiet a booth is around a session near it (a prior: the
velocity absorbs a booth that is busier or quieter overall)."""
MEMORY_MIN = 600.0
"""Shape-weighted open minutes over which old sales fade (by e)."""
LEAST_EXPOSURE_MIN = 30.0
"""Less shape-weighted open time seen than this, and the velocity is unknown."""
SILENT_UNITS = 12.0
"""An outlet that should have sold this many units since its last sale has gone silent."""
PROFILE_WEIGHT = 0.4
"""How much the newest day counts in a learned daily shape."""


def slot_of(moment: datetime) -> int:
    return int(moment.timestamp()) // SLOT_S


def slot_start(slot: int, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(slot * SLOT_S, tz)


def note_sale(sold: list[list[int]], slot: int, qty: int, newest: int) -> list[list[int]]:
    """`sold` with `qty` more units in `slot`: a new list, oldest first, without slots
    older than two days before `newest`. (A new list: the old one may be the kernel's.)"""
    oldest = newest - HISTORY_SLOTS + 1
    if slot < oldest:
        return sold
    kept = [pair for pair in sold if pair[0] >= oldest]
    for i, (at, units) in enumerate(kept):
        if at == slot:
            kept[i] = [at, units + qty]
            return kept
        if at > slot:
            kept.insert(i, [slot, qty])
            return kept
    kept.append([slot, qty])
    return kept


@dataclass
class Profile:
    """An outlet's daily shape, learned: units per slot of the local day, each day blended
    into the last (`PROFILE_WEIGHT`). `folded` is the newest slot blended in."""

    weights: list[float] = field(default_factory=lambda: [0.0] * SLOTS_PER_DAY)
    days: int = 0
    folded: int = 0

    def to_list(self) -> list[object]:
        return [self.weights, self.days, self.folded]

    @classmethod
    def from_list(cls, values: Sequence[object]) -> Profile:
        weights, days, folded = values
        return cls(list(weights), int(days), int(folded))  # type: ignore[call-overload]

    def fold(self, totals: dict[int, int], upto: int, tz: tzinfo) -> bool:
        """Blend in every slot finished before `upto` and not blended yet (`totals`: the
        outlet's units per slot). Whether anything changed."""
        start = self.folded + 1 if self.folded else min(totals, default=upto)
        first = max(start, upto - HISTORY_SLOTS)
        if first >= upto:
            return False
        for slot in range(first, upto):
            index = _slot_of_day(slot, tz)
            units = totals.get(slot, 0)
            if self.days == 0:
                self.weights[index] = units
            else:
                learned = self.weights[index]
                self.weights[index] = (1 - PROFILE_WEIGHT) * learned + PROFILE_WEIGHT * units
            if index == SLOTS_PER_DAY - 1:
                self.days += 1
        self.folded = upto - 1
        return True

    @property
    def learned(self) -> bool:
        return self.days >= 1 and any(self.weights)


def _slot_of_day(slot: int, tz: tzinfo) -> int:
    local = slot_start(slot, tz)
    return (local.hour * 3600 + local.minute * 60) // SLOT_S


@dataclass(frozen=True)
class Shape:
    """An outlet's busyness by slot, relative to a quiet open hour."""

    tz: tzinfo
    window: tuple[datetime, datetime] | None = None
    rushes: tuple[tuple[datetime, datetime, float], ...] = ()
    """(start, end, size) of every session at a venue near the outlet; size 1 is a
    session of the event's usual crowd."""
    profile: Profile | None = None
    _known: dict[int, float] = field(default_factory=dict, compare=False, repr=False)

    def weight(self, slot: int) -> float:
        known = self._known.get(slot)
        if known is None:
            known = self._known[slot] = self._weight(slot)
        return known

    def _weight(self, slot: int) -> float:
        middle = slot_start(slot, self.tz) + timedelta(seconds=SLOT_S / 2)
        if self.window is not None and not self.window[0] <= middle < self.window[1]:
            return 0.0
        if self.profile is not None and self.profile.learned:
            index = _slot_of_day(slot, self.tz)
            total = sum(self.profile.weights)
            base = self.profile.weights[index] * SLOTS_PER_DAY / total
        else:
            base = 1.0 if OPENS <= middle.timetz().replace(tzinfo=None) < CLOSES else 0.0
        if base == 0.0:
            return 0.0
        rush = 0.0
        for start, end, size in self.rushes:
            if start - RUSH_BEFORE <= middle < start or end <= middle < end + RUSH_AFTER:
                rush += RUSH_HEIGHT * size
        return base * (1 + rush)


@dataclass
class Outlook:
    """What an outlet's cells are measured against, for one moment `now`."""

    now: datetime
    shape: Shape
    decay: dict[int, float]
    """Each past slot's weight in the velocity: exp(-open time since / MEMORY_MIN)."""
    exposure: float
    """Shape-weighted open minutes behind the velocity, decayed."""
    silent: bool
    ahead: list[float] = field(default_factory=list)
    """Shape-weighted open minutes from now to the end of each slot ahead, cumulative:
    extended as far as a question needs (`_ahead`)."""

    def _ahead(self, k: int) -> float:
        """Shape-weighted open minutes from now to the end of the k-th slot ahead."""
        first = slot_of(self.now)
        while len(self.ahead) <= k:
            n = len(self.ahead)
            share = 1.0
            if n == 0:
                share = 1 - (self.now.timestamp() - first * SLOT_S) / SLOT_S
            previous = self.ahead[-1] if self.ahead else 0.0
            self.ahead.append(previous + self.shape.weight(first + n) * SLOT_MIN * share)
        return self.ahead[k]

    def velocity(self, sold: Sequence[Sequence[int]]) -> float | None:
        """Units per shape-weighted minute, or None when it cannot be known."""
        if self.silent or self.exposure < LEAST_EXPOSURE_MIN:
            return None
        units = sum(qty * self.decay.get(slot, 0.0) for slot, qty in sold)
        return units / self.exposure

    def per_hour(self, velocity: float, shape: Shape) -> float:
        """Units an hour at the present pace of the shape."""
        return velocity * 60 * shape.weight(slot_of(self.now))

    def exposure_until(self, moment: datetime) -> float:
        """Shape-weighted open minutes from now until `moment`."""
        if moment <= self.now:
            return 0.0
        first = slot_of(self.now)
        k = slot_of(moment) - first
        before = self._ahead(k - 1) if k > 0 else 0.0
        starts = self.now.timestamp() if k == 0 else (first + k) * SLOT_S
        ends = (first + k + 1) * SLOT_S
        share = (moment.timestamp() - starts) / (ends - starts)
        return before + (self._ahead(k) - before) * share

    def eta(
        self,
        velocity: float,
        available: int,
        arrivals: Sequence[tuple[datetime, int]] = (),
        within: timedelta = timedelta(days=3),
    ) -> datetime | None:
        """When demand first exceeds what is available plus the arrivals due by then,
        or None if not `within` from now."""
        if available <= 0:
            return self.now
        if velocity <= 0:
            return None
        first = slot_of(self.now)
        starts, before = self.now.timestamp(), 0.0
        last = slot_of(self.now + within) - first
        for k in range(last + 1):
            cumulative = self._ahead(k)
            ends = (first + k + 1) * SLOT_S
            stock = available + sum(qty for at, qty in arrivals if at.timestamp() <= ends)
            if velocity * cumulative >= stock:  # within this slot, at its pace
                share = (stock / velocity - before) / max(cumulative - before, 1e-9)
                moment = starts + (ends - starts) * min(max(share, 0.0), 1.0)
                return datetime.fromtimestamp(moment, self.now.tzinfo)
            starts, before = ends, cumulative
        return None


def outlook(shape: Shape, sold_per_slot: dict[int, int], now: datetime) -> Outlook:
    """The outlet's decay weights and exposure at `now`; `sold_per_slot` is every cell's
    sales summed, to tell whether the outlet has gone silent."""
    now_slot = slot_of(now)
    into = (now.timestamp() - now_slot * SLOT_S) / SLOT_S
    decay: dict[int, float] = {}
    exposure = 0.0
    behind = 0.0  # open minutes newer than the slot looked at
    last_sale: int | None = max(sold_per_slot) if sold_per_slot else None
    first_sale = min(sold_per_slot) if sold_per_slot else now_slot
    since_last = 0.0
    # Open time before the outlet's first sale in reach does not count: it may not
    # have been selling yet (a new booth, a kiosk's first day).
    for slot in range(now_slot, max(now_slot - HISTORY_SLOTS, first_sale - 1), -1):
        minutes = shape.weight(slot) * SLOT_MIN * (into if slot == now_slot else 1.0)
        weight = math.exp(-(behind + minutes / 2) / MEMORY_MIN)
        decay[slot] = weight
        exposure += minutes * weight
        if last_sale is not None and slot > last_sale:
            since_last += minutes
        behind += minutes
    silent = False
    if last_sale is not None and since_last > 0:
        # the pace it sold at up to its last sale, against the open time since
        before = sum(shape.weight(slot) * SLOT_MIN for slot in range(first_sale, last_sale + 1))
        pace = sum(sold_per_slot.values()) / max(before, SLOT_MIN)
        silent = pace * since_last >= SILENT_UNITS
    return Outlook(now, shape, decay, exposure, silent)


# -- episodes: a stockout predicted once, until it is cleared or happens ---------------------

PACE_SLACK = 2.0
"""A prediction is cleared by slower sales only when even this many times the present
pace would not empty the shelf within reach, so an ETA wavering at the edge (a booth
between its rushes, or near its closing) does not predict and clear in turn."""


def margin(lead: timedelta) -> timedelta:
    """Safety margin on a supplier's lead time: a quarter of it, at least two hours."""
    return max(lead / 2, timedelta(hours=2))


@dataclass(frozen=True)
class Predict:
    eta: datetime


@dataclass(frozen=True)
class Clear:
    by: str
    """restock, on_order, slower_sales or unknown_pace (`ClearedBy`)."""
    eta: datetime | None


@dataclass(frozen=True)
class End:
    """The stockout happened: the episode is over with nothing to say (an out-of-stock
    alert says it)."""


def judge(
    open_episode: list[Any] | None,
    available: int,
    eta: datetime | None,
    eta_faster: datetime | None,
    eta_without_arrivals: datetime | None,
    known: bool,
    lead: timedelta,
    now: datetime,
) -> Predict | Clear | End | None:
    """What one cell's forecast calls for. `open_episode`: [id, ETA, available then];
    `eta_faster`: the ETA at `PACE_SLACK` times the pace."""
    reach = now + lead + margin(lead)
    if open_episode is None:
        if known and available > 0 and eta is not None and eta <= reach:
            return Predict(eta)
        return None
    if available <= 0:
        return End()
    if not known:  # nothing says the prediction was wrong: it stands
        return None
    if eta_faster is not None and eta_faster <= reach:
        return None
    if available > int(open_episode[2]):
        return Clear("restock", eta)
    if eta_without_arrivals is not None and eta_without_arrivals <= reach:
        return Clear("on_order", eta)
    return Clear("slower_sales", eta)


# -- sizing: how much a forecast's restock request asks for ----------------------------------


@dataclass(frozen=True)
class Sizing:
    qty: int
    reason: str


def size(
    view: Outlook,
    velocity: float,
    available: int,
    on_order: int,
    arrives: datetime,
    cover_until: datetime,
    closes: datetime | None,
    pack: int,
) -> Sizing | None:
    """Enough to cover the expected demand from now until `cover_until` (the next delivery
    after this one could arrive, plus the margin), less what is there and on order, in
    whole packs; never more than sells before the outlet `closes` (a booth's window)."""
    until = cover_until if closes is None else min(cover_until, closes)
    expected = velocity * view.exposure_until(until)
    need = expected - available - on_order
    if need <= 0:
        return None
    packs = math.ceil(need / pack)
    if closes is not None and closes < cover_until:
        packs = max(1, math.floor(need / pack))  # what sells before it closes, no more
    qty = packs * pack
    tz = view.now.tzinfo
    words = (
        f"about {expected:.0f} expected to sell by {until.astimezone(tz):%a %H:%M}"
        + (" (when the outlet closes)" if until == closes else "")
        + f"; {available} left"
        + (f" and {on_order} on order" if on_order else "")
        + f"; arrives {arrives.astimezone(tz):%a %H:%M} at the earliest"
        + (f"; {packs} packs of {pack}" if pack > 1 else "")
    )
    return Sizing(qty, words)
