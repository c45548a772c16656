"""A whole Porprov week as numbers, for the forecast evaluation: venues and their sessions,
outlets of every channel (booths opening and closing on different days), what each sells
minute by minute, and the ground truth of when each (outlet, SKU) ran out.

Nothing here is shared with the forecaster: demand follows this module's own curves (a
booth's crowd arrives and leaves around each session at its venue, in proportion to the
session's crowd; a kiosk or rest area has a daily shape of its own, with day-to-day
noise), and the forecaster sees only what a live system would: the catalog (outlets,
windows, venues, sessions, lead times) and the sales that happened. A seed makes the
same week every time.

Open loop (`week`): nobody restocks, so the stock only falls; demand that finds no stock
is lost, as at a real stall (`Week.sales` holds only what was sold), and `Week.ran_out`
is the truth. Closed loop: a driver sells `Week.wanted` through `Shelves` and delivers
what its restock policy ordered, and `Shelves.close` says how long shelves stood empty.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from lumbung.platform.clock import WITA

DAYS = 5
OPENS, CLOSES = time(7, 0), time(22, 0)
SKUS = (
    "AMPLANG-IKAN",
    "AMPLANG-UDANG",
    "KERUPUK-IKAN",
    "KERIPIK-PISANG",
    "MADU-KELULUT",
    "KOPI-LIBERIKA",
    "GULA-AREN",
    "LEMPOK-DURIAN",
)
SUPPLIER_OF = {sku: f"SUP-{sku.split('-')[0]}" for sku in SKUS}
VENUES = {  # name: (lat, lon), each well apart from the others
    "Stadion Sadurengas": (-1.905, 116.195),
    "GOR Tanah Grogot": (-1.935, 116.235),
    "Lapangan Kuaro": (-1.985, 116.105),
}
BASE = {  # sales a minute at a quiet hour
    "event_booth": 0.25,
    "ikn_kiosk": 0.45,
    "rest_area": 0.35,
    "souvenir_center": 0.3,
    "indomaret": 0.2,
}


@dataclass(frozen=True)
class Session:
    name: str
    venue: str
    starts: datetime
    ends: datetime
    crowd: int
    kind: str


@dataclass(frozen=True)
class Outlet:
    outlet_id: str
    channel: str
    location: tuple[float, float]
    venue: str | None
    """The venue a booth stands at."""
    opens: datetime
    closes: datetime
    skus: tuple[str, ...]
    popularity: tuple[float, ...]
    opening: dict[str, int]


@dataclass
class Week:
    seed: int
    start: date
    sessions: list[Session]
    outlets: list[Outlet]
    lead_days: dict[str, int]
    wanted: list[tuple[datetime, str, list[tuple[str, int]]]] = field(default_factory=list)
    """(when, outlet, [(sku, qty)]) of every visitor's basket, in time order, whatever
    there is to sell."""
    sales: list[tuple[datetime, str, list[tuple[str, int]]]] = field(default_factory=list)
    """What sold of it, open loop (nobody restocks)."""
    ran_out: dict[tuple[str, str], datetime] = field(default_factory=dict)
    """When each (outlet, SKU) that ran out did, open loop: the truth scored against."""

    @property
    def ends(self) -> datetime:
        return datetime.combine(self.start + timedelta(days=DAYS), time(0), WITA)


def _sessions(rng: random.Random, start: date) -> list[Session]:
    sessions: list[Session] = []
    main = "Stadion Sadurengas"
    opening_day = datetime.combine(start, time(19, 0), WITA)
    sessions.append(
        Session(
            "Upacara pembukaan",
            main,
            opening_day,
            opening_day + timedelta(hours=2),
            12000,
            "ceremony",
        )
    )
    for day in range(DAYS):
        for venue in VENUES:
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                hour = rng.choice((8, 9, 10, 13, 14, 15, 16, 19, 20))
                starts = datetime.combine(start + timedelta(days=day), time(hour), WITA)
                length = timedelta(minutes=rng.choice((90, 120, 150)))
                crowd = rng.randint(800, 6000)
                sessions.append(
                    Session("Pertandingan", venue, starts, starts + length, crowd, "match")
                )
    closing = datetime.combine(start + timedelta(days=DAYS - 1), time(19, 0), WITA)
    sessions.append(
        Session("Upacara penutupan", main, closing, closing + timedelta(hours=2), 10000, "ceremony")
    )
    return sorted(sessions, key=lambda s: s.starts)


def _near(venue: str, rng: random.Random) -> tuple[float, float]:
    lat, lon = VENUES[venue]
    return (lat + rng.uniform(-0.004, 0.004), lon + rng.uniform(-0.004, 0.004))


def _outlets(rng: random.Random, start: date) -> list[Outlet]:
    day0 = datetime.combine(start, time(0), WITA)
    outlets: list[Outlet] = []
    venues = list(VENUES)
    for n in range(8):
        venue = venues[n % len(venues)]
        first = rng.choice((0, 0, 0, 1, 1, 2))
        last = min(DAYS - 1, first + rng.choice((2, 3, 4, 4)))
        outlets.append(
            _outlet(
                rng,
                f"BOOTH-{n + 1}",
                "event_booth",
                _near(venue, rng),
                venue,
                day0 + timedelta(days=first),
                day0 + timedelta(days=last + 1),
            )
        )
    for n, channel in enumerate(
        ("ikn_kiosk", "ikn_kiosk", "rest_area", "rest_area", "souvenir_center", "indomaret")
    ):
        location = (-1.0 - rng.uniform(0, 1.5), 116.5 + rng.uniform(0, 0.8))
        outlets.append(
            _outlet(
                rng,
                f"{channel.upper().replace('_', '-')}-{n + 1}",
                channel,
                location,
                None,
                day0,
                day0 + timedelta(days=DAYS),
            )
        )
    return outlets


def _outlet(
    rng: random.Random,
    outlet_id: str,
    channel: str,
    location: tuple[float, float],
    venue: str | None,
    opens: datetime,
    closes: datetime,
) -> Outlet:
    skus = tuple(rng.sample(SKUS, k=rng.randint(5, len(SKUS))))
    raw = [rng.lognormvariate(0, 0.6) for _ in skus]
    popularity = tuple(w / sum(raw) for w in raw)
    opening: dict[str, int] = {}  # set from the demand drawn (`week`)
    return Outlet(outlet_id, channel, location, venue, opens, closes, skus, popularity, opening)


def _busyness(
    outlet: Outlet, moment: datetime, sessions: list[Session], day_factor: float
) -> float:
    """How many times busier than quiet the outlet is this minute."""
    if not outlet.opens <= moment < outlet.closes:
        return 0.0
    clock = moment.timetz().replace(tzinfo=None)
    if not OPENS <= clock < CLOSES:
        return 0.0
    hour = moment.hour + moment.minute / 60
    if outlet.channel == "event_booth":
        crowd = 0.0
        for session in sessions:
            if session.venue != outlet.venue:
                continue
            to_start = (session.starts - moment).total_seconds() / 60
            from_end = (moment - session.ends).total_seconds() / 60
            scale = session.crowd / 2500
            crowd += 4.0 * scale * math.exp(-(((to_start - 45) / 35) ** 2))
            crowd += 3.0 * scale * math.exp(-(((from_end - 20) / 30) ** 2))
        return day_factor * (1 + crowd)
    if outlet.channel == "rest_area":
        shape = (
            1
            + 2.2 * math.exp(-((hour - 12.3) ** 2) / 1.5)
            + 1.2 * math.exp(-((hour - 17.5) ** 2) / 1.0)
        )
    elif outlet.channel == "ikn_kiosk":
        shape = (
            0.6 + 1.4 * math.exp(-((hour - 11) ** 2) / 6) + 0.8 * math.exp(-((hour - 16) ** 2) / 3)
        )
    else:
        shape = 0.8 + 0.8 * math.exp(-((hour - 18.5) ** 2) / 4)
    return day_factor * shape


def week(seed: int, start: date = date(2026, 7, 13)) -> Week:
    rng = random.Random(seed)  # noqa: S311 - a repeatable week, not a secret
    sessions = _sessions(rng, start)
    outlets = _outlets(rng, start)
    lead_days = {supplier: rng.choice((1, 1, 2)) for supplier in sorted(set(SUPPLIER_OF.values()))}
    result = Week(seed, start, sessions, outlets, lead_days)
    day_factors = {
        (o.outlet_id, d): rng.lognormvariate(0, 0.15) for o in outlets for d in range(DAYS)
    }
    # What visitors want, whatever there is to sell...
    wanted: list[tuple[datetime, str, list[tuple[str, int]]]] = []
    moment = datetime.combine(start, time(0), WITA)
    while moment < result.ends:
        day = (moment.date() - start).days
        for outlet in outlets:
            factor = day_factors[outlet.outlet_id, day]
            rate = BASE[outlet.channel] * _busyness(outlet, moment, sessions, factor)
            for _ in range(_poisson(rng, rate)):
                basket = [(sku, rng.choice((1, 1, 1, 2, 3))) for sku in _basket(rng, outlet)]
                wanted.append(
                    (moment + timedelta(seconds=rng.randint(0, 59)), outlet.outlet_id, basket)
                )
        moment += timedelta(minutes=1)
    wanted.sort(key=lambda sale: sale[0])
    # ...an opening stock of 35 % to 130 % of the whole window's demand, so that about
    # half the cells run out and half do not...
    demand: dict[tuple[str, str], int] = {}
    for _, outlet_id, basket in wanted:
        for sku, qty in basket:
            demand[outlet_id, sku] = demand.get((outlet_id, sku), 0) + qty
    for outlet in outlets:
        for sku in outlet.skus:
            outlet.opening[sku] = max(
                6, round(demand.get((outlet.outlet_id, sku), 0) * rng.uniform(0.35, 1.3))
            )
    result.wanted = wanted
    shelves = Shelves(result)
    for at, outlet_id, basket in wanted:
        lines = shelves.sell(at, outlet_id, basket)
        if lines:
            result.sales.append((at, outlet_id, lines))
    result.ran_out = dict(shelves.ran_out)
    return result


class Shelves:
    """What is on each shelf as the week goes: a basket line finds stock or is lost, a
    delivery fills the shelf. Counts the minutes each shelf stood empty while its outlet
    was open, and what was left when it closed."""

    def __init__(self, w: Week) -> None:
        self.week = w
        self.outlets = {o.outlet_id: o for o in w.outlets}
        self.stock = {(o.outlet_id, sku): o.opening[sku] for o in w.outlets for sku in o.skus}
        self.empty_since: dict[tuple[str, str], datetime] = {}
        self.ran_out: dict[tuple[str, str], datetime] = {}
        self.empty_minutes = 0.0
        self.lost = 0

    def sell(
        self, at: datetime, outlet_id: str, basket: list[tuple[str, int]]
    ) -> list[tuple[str, int]]:
        lines = []
        for sku, qty in basket:
            cell = (outlet_id, sku)
            sold = min(qty, self.stock[cell])
            self.lost += qty - sold
            if sold:
                self.stock[cell] -= sold
                lines.append((sku, sold))
                if self.stock[cell] == 0:
                    self.ran_out.setdefault(cell, at)
                    self.empty_since[cell] = at
        return lines

    def deliver(self, at: datetime, outlet_id: str, sku: str, qty: int) -> None:
        cell = (outlet_id, sku)
        if cell in self.empty_since:
            self.empty_minutes += self._open_minutes(outlet_id, self.empty_since.pop(cell), at)
        self.stock[cell] += qty

    def take(self, at: datetime, outlet_id: str, sku: str, qty: int) -> int:
        """Units leave a shelf for another outlet (a transfer): as many as are there."""
        cell = (outlet_id, sku)
        taken = min(qty, self.stock.get(cell, 0))
        self.stock[cell] = self.stock.get(cell, 0) - taken
        if taken and self.stock[cell] == 0:
            self.empty_since[cell] = at
        return taken

    def close(self) -> tuple[float, int]:
        """(minutes shelves stood empty while open, units left when each outlet closed)."""
        for (outlet_id, _), since in self.empty_since.items():
            self.empty_minutes += self._open_minutes(outlet_id, since, self.week.ends)
        self.empty_since.clear()
        return self.empty_minutes, sum(self.stock.values())

    def _open_minutes(self, outlet_id: str, since: datetime, until: datetime) -> float:
        outlet = self.outlets[outlet_id]
        minute, total = max(since, outlet.opens), 0.0
        until = min(until, outlet.closes)
        while minute < until:
            day_opens = datetime.combine(minute.date(), OPENS, WITA)
            day_closes = datetime.combine(minute.date(), CLOSES, WITA)
            start, end = max(minute, day_opens), min(until, day_closes)
            if end > start:
                total += (end - start).total_seconds() / 60
            minute = datetime.combine(minute.date() + timedelta(days=1), time(0), WITA)
        return total


def _basket(rng: random.Random, outlet: Outlet) -> list[str]:
    k = rng.choice((1, 1, 2, 3))
    chosen: list[str] = []
    while len(chosen) < min(k, len(outlet.skus)):
        sku = rng.choices(outlet.skus, weights=outlet.popularity)[0]
        if sku not in chosen:
            chosen.append(sku)
    return chosen


def _poisson(rng: random.Random, rate: float) -> int:
    limit, k, p = math.exp(-rate), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
