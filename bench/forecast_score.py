"""Scores stockout predictions against what really happened. Shares no code with the
forecaster (it imports nothing from lumbung): it reads the truth and the predictions as
plain records.

- A booth stockout is *foreseeable* when it happened at least one supplier lead time after
  the booth opened; the others (sold out within one lead time of opening) are counted
  apart, since nobody could have ordered in time.
- A foreseeable stockout is *foreseen* when a prediction for its cell was made at least one
  lead time before it happened, and that prediction was not cleared before it happened.
- A *false alarm* is a prediction for a cell that did not run out while its outlet was
  open: the predicted stockout did not happen. They are counted per outlet-day (days the
  outlet was open).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Cell:
    outlet: str
    sku: str
    channel: str
    opens: datetime
    lead: timedelta
    ran_out: datetime | None


@dataclass(frozen=True)
class Said:
    """A prediction (`cleared` None) or the clearing of one."""

    at: datetime
    outlet: str
    sku: str
    prediction_id: str
    cleared: bool


@dataclass(frozen=True)
class Score:
    booth_stockouts: int
    unforeseeable: int
    foreseeable: int
    foreseen: int
    predictions: int
    false_alarms: int
    outlet_days: float
    lead_ahead_hours: list[float]
    """For each foreseen stockout, how long before it the prediction came."""

    @property
    def foreseen_share(self) -> float:
        return self.foreseen / self.foreseeable if self.foreseeable else 1.0

    @property
    def false_alarms_per_outlet_day(self) -> float:
        return self.false_alarms / self.outlet_days if self.outlet_days else 0.0


def score(cells: list[Cell], said: list[Said], outlet_days: float) -> Score:
    by_cell = {(c.outlet, c.sku): c for c in cells}
    cleared_at: dict[str, datetime] = {s.prediction_id: s.at for s in said if s.cleared}
    predictions = [s for s in said if not s.cleared]
    booth = [c for c in cells if c.channel == "event_booth" and c.ran_out is not None]
    unforeseeable = [c for c in booth if c.ran_out is not None and c.ran_out - c.opens < c.lead]
    foreseeable = [c for c in booth if c not in unforeseeable]
    foreseen = 0
    ahead: list[float] = []
    for c in foreseeable:
        assert c.ran_out is not None
        early = [
            p
            for p in predictions
            if (p.outlet, p.sku) == (c.outlet, c.sku)
            and p.at <= c.ran_out - c.lead
            and cleared_at.get(p.prediction_id, c.ran_out) >= c.ran_out
        ]
        if early:
            foreseen += 1
            ahead.append((c.ran_out - min(p.at for p in early)).total_seconds() / 3600)
    false_alarms = sum(1 for p in predictions if by_cell[p.outlet, p.sku].ran_out is None)
    return Score(
        booth_stockouts=len(booth),
        unforeseeable=len(unforeseeable),
        foreseeable=len(foreseeable),
        foreseen=foreseen,
        predictions=len(predictions),
        false_alarms=false_alarms,
        outlet_days=outlet_days,
        lead_ahead_hours=ahead,
    )
