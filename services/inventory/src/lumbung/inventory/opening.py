"""Opening stock for a new booth, in plain Python: how much of each product to bring.

- **From history.** Other booths of the same calendar event have sold for whole days
  already: the suggestion is what they sold per open day, on average over every such
  booth-day, for each product of the new booth's assortment, times the new booth's open
  days.
- **From the event's visitors**, when no booth of the event has a whole day behind it: the
  visitors expected at sessions near the booth during its window (or the event's expected
  visitors spread over its days and booths, if those sessions name none), of whom
  `BUYING_SHARE` buy `UNITS_PER_BUYER`, shared with the event's booths near the same place
  and spread evenly over the booth's products. These two numbers are priors, not learned:
  the history replaces them as soon as there is one.

Either way `SAFETY` more, rounded up to whole packs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from lumbung.contracts.events.catalog import CalendarEventChanged, OutletChanged

BUYING_SHARE = 0.02
"""Of the visitors near a booth, the share who buy there (a prior)."""
UNITS_PER_BUYER = 1.6
SAFETY = 0.2
NEAR_KM = 3.0


@dataclass(frozen=True)
class OpeningLine:
    sku: str
    qty: int
    per_day: float
    why: str


@dataclass(frozen=True)
class Opening:
    outlet_id: str
    basis: str
    """"history" or "visitors"."""
    days: int
    lines: list[OpeningLine]


def open_days(outlet: OutletChanged) -> list[date]:
    """The local days a booth's window covers."""
    window = outlet.active_window
    if window is None:
        return []
    tz = ZoneInfo(outlet.timezone)
    first = window.starts_at.astimezone(tz).date()
    last = (window.ends_at - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def suggest(
    booth: OutletChanged,
    event: CalendarEventChanged | None,
    peers: Sequence[tuple[OutletChanged, Mapping[date, Mapping[str, int]]]],
    pack_sizes: Mapping[str, int],
    today: date,
) -> Opening:
    """`peers`: the event's other booths, each with its units sold per day and SKU."""
    days = open_days(booth)
    skus = [item.sku for item in booth.assortment]
    history = _history(peers, today)
    if history is not None:
        rates, booth_days = history
        lines = [
            _line(sku, rates.get(sku, 0.0) / booth_days, len(days), pack_sizes, "history")
            for sku in skus
        ]
        basis = "history"
    else:
        others = [peer for peer, _ in peers]
        per_day = _visitor_rate(booth, event, days, others) / max(len(skus), 1)
        lines = [_line(sku, per_day, len(days), pack_sizes, "visitors") for sku in skus]
        basis = "visitors"
    return Opening(booth.outlet_id, basis, len(days), lines)


def _history(
    peers: Sequence[tuple[OutletChanged, Mapping[date, Mapping[str, int]]]], today: date
) -> tuple[dict[str, float], int] | None:
    """Units per SKU over every whole open day of the peers before today, and how many
    booth-days that is; None without any."""
    totals: dict[str, float] = {}
    booth_days = 0
    for peer, sold in peers:
        for day in open_days(peer):
            if day >= today:
                continue
            booth_days += 1
            for sku, units in sold.get(day, {}).items():
                totals[sku] = totals.get(sku, 0.0) + units
    return (totals, booth_days) if booth_days else None


def _visitor_rate(
    booth: OutletChanged,
    event: CalendarEventChanged | None,
    days: list[date],
    peers: Sequence[OutletChanged],
) -> float:
    """Units a day the booth can expect to sell in all, from the visitors near it, shared
    with the event's other booths near the same place."""
    if event is None or not days:
        return 0.0
    tz = ZoneInfo(booth.timezone)
    near = event.sessions_near(booth.location, NEAR_KM) if booth.location is not None else []
    in_window = [s for s in near if s.starts_at.astimezone(tz).date() in days]
    visitors = sum(s.expected_visitors or 0 for s in in_window)
    if visitors:
        sharing = 1 + sum(
            1
            for peer in peers
            if peer.location is not None
            and booth.location is not None
            and peer.location.km_to(booth.location) <= NEAR_KM
        )
        return visitors * BUYING_SHARE * UNITS_PER_BUYER / len(days) / sharing
    if event.expected_visitors:
        event_days = max(math.ceil((event.ends_at - event.starts_at) / timedelta(days=1)), 1)
        per_booth = event.expected_visitors / event_days / (1 + len(peers))
        return per_booth * BUYING_SHARE * UNITS_PER_BUYER
    return 0.0


def _line(sku: str, per_day: float, days: int, packs: Mapping[str, int], basis: str) -> OpeningLine:
    pack = max(packs.get(sku, 1), 1)
    need = per_day * days * (1 + SAFETY)
    qty = math.ceil(need / pack) * pack if need > 0 else 0
    source = (
        "what the event's other booths sold per open day"
        if basis == "history"
        else "the visitors expected near it"
    )
    why = f"about {per_day:.1f} a day from {source}, {days} days, {SAFETY:.0%} more"
    if pack > 1:
        why += f", in packs of {pack}"
    return OpeningLine(sku, qty, round(per_day, 2), why)
