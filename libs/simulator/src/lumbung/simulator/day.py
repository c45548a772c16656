"""A Porprov event day as numbers, without any network: how busy each outlet is minute by
minute, what a basket holds, which outlets lose their connection and when. A seed makes
the same day every time."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from lumbung.platform.clock import WITA

OPENS, CLOSES = time(7, 0), time(22, 0)
# Sales per minute at the quiet times of the day, by channel.
BASE_RATE = {
    "event_booth": 0.35,
    "ikn_kiosk": 0.5,
    "rest_area": 0.4,
    "indomaret": 0.2,
    "souvenir_center": 0.3,
    "online": 0.1,
}


@dataclass(frozen=True)
class Outage:
    outlet_id: str
    starts: datetime
    ends: datetime

    def covers(self, moment: datetime) -> bool:
        return self.starts <= moment < self.ends


def rush(channel: str, moment: datetime) -> float:
    """How many times busier than quiet: booths near venues have a morning and an evening
    rush around the games; rest areas a lunchtime one; the rest is steady."""
    hour = moment.hour + moment.minute / 60
    if channel == "event_booth":
        return (
            1 + 5 * math.exp(-((hour - 9.5) ** 2) / 1.2) + 6 * math.exp(-((hour - 18.5) ** 2) / 1.5)
        )
    if channel == "rest_area":
        return 1 + 2 * math.exp(-((hour - 12.5) ** 2) / 2)
    return 1.0


class Day:
    def __init__(
        self, day: date, outlets: list[dict[str, Any]], seed: int, intensity: float = 1.0
    ) -> None:
        self.random = random.Random(seed)  # noqa: S311 - a repeatable day, not a secret
        self.intensity = intensity
        """How many times busier than a normal day (load and chaos runs)."""
        self.start = datetime.combine(day, OPENS, WITA)
        self.end = datetime.combine(day, CLOSES, WITA)
        self.outlets = outlets
        self.outages = self._outages()

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def at(self, minute: int) -> datetime:
        return self.start + timedelta(minutes=minute)

    def _outages(self) -> list[Outage]:
        """Two outlets lose their connection for an hour or two (booths and rest areas
        first: a tent in a field, a highway stop)."""
        candidates = [o for o in self.outlets if o["channel"] in ("event_booth", "rest_area")]
        chosen = self.random.sample(candidates, k=min(2, len(candidates)))
        outages = []
        for outlet in chosen:
            starts = self.start + timedelta(minutes=self.random.randint(120, 480))
            length = timedelta(minutes=self.random.randint(60, 120))
            outages.append(Outage(outlet["outlet_id"], starts, starts + length))
        return outages

    def offline(self, outlet_id: str, moment: datetime) -> bool:
        return any(o.outlet_id == outlet_id and o.covers(moment) for o in self.outages)

    def sales_in_minute(self, outlet: dict[str, Any], moment: datetime) -> int:
        rate = BASE_RATE.get(outlet["channel"], 0.2) * rush(outlet["channel"], moment)
        rate *= self.intensity
        return _poisson(self.random, rate)

    def basket(self, skus: list[str]) -> list[tuple[str, int]]:
        """One to three products, one to three of each."""
        chosen = self.random.sample(skus, k=min(len(skus), self.random.choice((1, 1, 2, 3))))
        return [(sku, self.random.choice((1, 1, 1, 2, 3))) for sku in chosen]


def _poisson(rng: random.Random, rate: float) -> int:
    limit, k, p = math.exp(-rate), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
