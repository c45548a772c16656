"""Transfer suggestions (issue 21): which outlet could lend a short outlet what it will
run out of, sooner than the supplier could bring it. Pure: what is short, what is held
where, and how long a transfer takes come in; suggestions go out.

- A **shortage** is a predicted stockout (`inventory.StockoutPredicted`): the cell runs
  out at `runs_out_at`, and the supplier could deliver at the earliest after its lead
  time. What a transfer should bring is what the cell would sell in between: the gap
  it would otherwise stand empty, at its present pace.
- A **holding** is the same SKU at another outlet. Its spare is what it holds beyond
  what it will sell itself until `keep_until`: its window's end (a booth that closes
  sells nothing after), or its own next delivery, whichever comes first.
- A source is suggested only if a transfer from it arrives before the supplier could,
  and the soonest arrival first; no source's spare is promised twice.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lumbung.contracts.events import inventory as inv
from lumbung.inventory.forecast import margin


@dataclass(frozen=True)
class Shortage:
    outlet_id: str
    sku: str
    runs_out_at: datetime
    units_per_hour: float
    supplier_at: datetime
    """The earliest the supplier could deliver (now plus its lead time)."""
    prediction_id: str
    coming: int = 0
    """Units already in transit to the cell (a transfer dispatched, not counted yet)."""


@dataclass(frozen=True)
class Holding:
    outlet_id: str
    sku: str
    available: int
    units_per_hour: float
    keep_until: datetime
    """Until when it keeps what it will sell itself: its window's end or next delivery."""


@dataclass(frozen=True)
class Suggestion:
    sku: str
    from_outlet_id: str
    to_outlet_id: str
    qty: int
    arrives_at: datetime
    supplier_at: datetime
    runs_out_at: datetime
    prediction_id: str

    @property
    def suggestion_id(self) -> str:
        """Stable while the same prediction and source stand: ops accept it by this."""
        return f"{self.prediction_id}.{self.from_outlet_id}"

    @property
    def transfer_id(self) -> str:
        """The transfer an acceptance makes: the same for the same suggestion, so an
        acceptance sent twice moves the goods once."""
        return "SUG-" + hashlib.sha256(self.suggestion_id.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "suggestion_id": self.suggestion_id,
            "sku": self.sku,
            "from_outlet_id": self.from_outlet_id,
            "to_outlet_id": self.to_outlet_id,
            "qty": self.qty,
            "arrives_at": self.arrives_at.isoformat(),
            "supplier_at": self.supplier_at.isoformat(),
            "runs_out_at": self.runs_out_at.isoformat(),
            "prediction_id": self.prediction_id,
            "transfer_id": self.transfer_id,
        }


def hours(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)


def needed(shortage: Shortage, now: datetime) -> int:
    """Units the short cell would sell from when it runs out until the supplier could
    deliver, at its present pace (at least one, since it is predicted to run out), less
    what is already on its way to it."""
    empty_from = max(shortage.runs_out_at, now)
    gap = max(1, math.ceil(shortage.units_per_hour * hours(empty_from, shortage.supplier_at)))
    return max(0, gap - shortage.coming)


def spare(holding: Holding, now: datetime) -> int:
    """Units a holding can give without running short itself before `keep_until`."""
    keeps = math.ceil(holding.units_per_hour * hours(now, holding.keep_until))
    return max(0, holding.available - keeps)


def suggest(
    shortages: Iterable[Shortage],
    holdings: Iterable[Holding],
    transit: Callable[[str, str], timedelta],
    now: datetime,
) -> list[Suggestion]:
    """Suggestions for the shortages, the one that runs out first served first; for each,
    the sources that arrive before its supplier could, soonest first, until its need is
    met or no such source has spare left."""
    left: dict[tuple[str, str], Holding] = {}
    spares: dict[tuple[str, str], int] = {}
    for holding in holdings:
        key = (holding.outlet_id, holding.sku)
        left[key] = holding
        spares[key] = spare(holding, now)
    out: list[Suggestion] = []
    for shortage in sorted(shortages, key=lambda s: (s.runs_out_at, s.outlet_id, s.sku)):
        need = needed(shortage, now)
        sources = []
        for (outlet, sku), holding in left.items():
            if sku != shortage.sku or outlet == shortage.outlet_id or spares[(outlet, sku)] <= 0:
                continue
            arrives = now + transit(outlet, shortage.outlet_id)
            if arrives < shortage.supplier_at:
                sources.append((arrives, outlet, holding))
        for arrives, outlet, holding in sorted(sources, key=lambda s: (s[0], s[1])):
            if need <= 0:
                break
            qty = min(need, spares[(outlet, holding.sku)])
            spares[(outlet, holding.sku)] -= qty
            need -= qty
            out.append(
                Suggestion(
                    sku=shortage.sku,
                    from_outlet_id=outlet,
                    to_outlet_id=shortage.outlet_id,
                    qty=qty,
                    arrives_at=arrives,
                    supplier_at=shortage.supplier_at,
                    runs_out_at=shortage.runs_out_at,
                    prediction_id=shortage.prediction_id,
                )
            )
    return out


# -- from what the inventory API reads: the open predictions and the stock read model -----


class Predictions:
    """The open stockout predictions, folded from `inventory.alerts`, and the transfers in
    transit, from `inventory.commands` (the inventory API follows both, `bootstrap.py`).
    A prediction is open until its clearing; one whose stockout happened stays (the cell
    is short still) until its stock comes back, which `plan` checks against the read
    model. A transfer is in transit from its dispatch to its arrival."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], inv.StockoutPredicted] = {}
        self._transit: dict[str, inv.TransferDispatched] = {}

    def apply(self, data: Any) -> None:
        match data:
            case inv.StockoutPredicted():
                self._open[(data.outlet_id, data.sku)] = data
            case inv.StockoutCleared():
                held = self._open.get((data.outlet_id, data.sku))
                if held is not None and held.prediction_id == data.prediction_id:
                    del self._open[(data.outlet_id, data.sku)]
            case inv.TransferDispatched():
                self._transit[f"{data.to_outlet_id}|{data.transfer_id}"] = data
            case inv.TransferArrived():
                self._transit.pop(f"{data.to_outlet_id}|{data.transfer_id}", None)

    def open(self) -> list[inv.StockoutPredicted]:
        return sorted(self._open.values(), key=lambda p: (p.expected_at, p.outlet_id, p.sku))

    def coming(self, outlet_id: str, sku: str) -> int:
        """Units of `sku` in transit to the outlet."""
        return sum(
            line.qty
            for transfer in self._transit.values()
            if transfer.to_outlet_id == outlet_id
            for line in transfer.lines
            if line.sku == sku
        )


LEAST_HOURS_OF_SALES = 1.0
"""A source's pace is today's sales over the hours since the day began, at least this."""
HOURS_OPEN_A_DAY = 12.0
"""Yesterday's sales are spread over this many hours for a source's pace: early in the
day, before it has sold much, a source keeps what it sold yesterday at that pace."""


def plan(
    predictions: Predictions,
    cells: Mapping[str, Mapping[str, Mapping[str, Any]]],
    sold_today: Mapping[str, Mapping[str, int]],
    closes: Mapping[str, datetime | None],
    transit: Callable[[str, str], timedelta],
    now: datetime,
    day_began: datetime,
    sold_yesterday: Mapping[str, Mapping[str, int]] | None = None,
) -> list[Suggestion]:
    """The suggestions as things stand. `cells`: SKU -> outlet -> its read-model cell
    (`available`); `sold_today` (and `sold_yesterday`): outlet -> SKU -> units sold since
    `day_began` (and the day before); `closes`: outlet -> the end of its window (a booth),
    or None.

    A prediction whose cell holds more now than when it was made is over (stock came).
    A source keeps what it sells until its window closes or until its own supplier could
    come (the short cell's lead time), whichever is sooner, at today's pace or
    yesterday's, whichever is faster (early in the day today's says little).

    A booth gives nothing before or during its window: its rushes come with the sessions
    near it, which a pace from its sales cannot see (the forecast evaluation: booths as
    sources took more stockout minutes than the transfers saved), and its leftovers go
    home at its close-out. Nor does a cell predicted to run out itself."""
    shortages = []
    for p in predictions.open():
        cell = cells.get(p.sku, {}).get(p.outlet_id)
        if cell is not None and int(cell["available"]) > p.available:
            continue
        supplier_at = now + timedelta(hours=p.lead_time_hours)
        shortages.append(
            Shortage(
                p.outlet_id,
                p.sku,
                p.expected_at,
                p.units_per_hour,
                supplier_at,
                p.prediction_id,
                predictions.coming(p.outlet_id, p.sku),
            )
        )
    hours_today = max(LEAST_HOURS_OF_SALES, hours(day_began, now))
    yesterday = sold_yesterday or {}
    short_too = {(p.outlet_id, p.sku) for p in predictions.open()}
    holdings = []
    for sku in {s.sku for s in shortages}:
        # Kept until its own supplier could come, with the forecast's margin on the lead
        # time: a source left with less is predicted short itself at once.
        lead = max(s.supplier_at for s in shortages if s.sku == sku)
        lead += margin(lead - now)
        for outlet, cell in cells.get(sku, {}).items():
            if (outlet, sku) in short_too:
                continue
            closing = closes.get(outlet)
            if closing is not None and closing > now:
                continue  # a booth keeps its stock while it sells (its leftovers: close-out)
            keep_until = lead if closing is None else min(lead, closing)
            pace = max(
                sold_today.get(outlet, {}).get(sku, 0) / hours_today,
                yesterday.get(outlet, {}).get(sku, 0) / HOURS_OPEN_A_DAY,
            )
            holdings.append(Holding(outlet, sku, int(cell["available"]), pace, keep_until))
    return suggest(shortages, holdings, transit, now)
