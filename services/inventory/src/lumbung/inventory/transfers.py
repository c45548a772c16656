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

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Shortage:
    outlet_id: str
    sku: str
    runs_out_at: datetime
    units_per_hour: float
    supplier_at: datetime
    """The earliest the supplier could deliver (now plus its lead time)."""
    prediction_id: str = ""


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
    prediction_id: str = ""

    @property
    def suggestion_id(self) -> str:
        """Stable while the same prediction and source stand: ops accept it by this."""
        about = self.prediction_id or f"{self.to_outlet_id}|{self.sku}"
        return f"{about}|{self.from_outlet_id}"


def hours(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)


def needed(shortage: Shortage, now: datetime) -> int:
    """Units the short cell would sell from when it runs out until the supplier could
    deliver, at its present pace (at least one, since it is predicted to run out)."""
    empty_from = max(shortage.runs_out_at, now)
    return max(1, math.ceil(shortage.units_per_hour * hours(empty_from, shortage.supplier_at)))


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
