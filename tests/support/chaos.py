"""The chaos run: a busy event day through the whole system while processes are killed,
the broker restarts and Redis is wiped; then a checker recomputes everything from the
event log and compares it with what the services hold.

- `Load` drives the day: the simulator sells through the outlet client (spooling while
  the APIs or the broker are away), and a second thread places, fulfils and cancels orders
  through the orders API, retrying with the same Idempotency-Key.
- `Faults` kills and restarts processes, restarts the broker and flushes Redis, spread
  over the load by the number of sale lines sent.
- `Checker` waits until the system has converged and lists every mismatch:
  stock per (outlet, SKU) recomputed from the raw events against the Redis read model and
  the inventory worker's own state (its changelog); every order settled, and inventory
  holding exactly what the reserved orders hold; every alert and restock request that
  reached notifications delivered exactly once on each of the recipient's channels.

No service code decides what is right here: the checker reads raw JSON from the topics.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from lumbung.contracts import Registry
from lumbung.platform.clock import WITA
from lumbung.platform.testing import read_records, read_topic

SOUVENIR_CHANNELS = ("souvenir_center", "ikn_kiosk")
DELIVERY_HEADER = "X-Lumbung-Delivery"
OPS_CHANNELS = {"webhook", "email"}
SUPPLIER_CHANNELS = {"whatsapp", "email"}  # every demo supplier has a phone and an email


def channels_for(recipient: str, cause: dict[str, Any], booths: set[str]) -> set[str]:
    """Where a cause must be delivered (README, notifications): suppliers hear of their
    restock requests and predicted stockouts; ops of negative stock and unknown SKUs
    anywhere, of out-of-stock only at event booths, of failed orders, of predicted
    stockouts (issue 17) and of accepted restocks still on order after their due time."""
    if recipient != "ops":
        return SUPPLIER_CHANNELS
    data, kind = cause["data"], cause["event_type"]
    if kind.endswith(("OrderFailed", "StockoutPredicted", "RestockOverdue")):
        return OPS_CHANNELS
    alert = data.get("alert")
    if alert in ("negative_stock", "unknown_sku"):
        return OPS_CHANNELS
    if alert == "out_of_stock" and data["outlet_id"] in booths:
        return OPS_CHANNELS
    return set()


# -- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How much load and which faults. `sale_lines` is what the faults are spread over;
    the simulated day is made busy enough (`intensity`, `hours`) to reach it."""

    sale_lines: int
    orders: int
    intensity: float
    hours: float | None
    inventory_kills: int = 5
    orders_kills: int = 1
    notifications_kills: int = 1
    broker_restarts: int = 1
    redis_flushes: int = 1
    brokers: int = 1
    """3: a cluster, where one broker is also killed for good and the workers scale out."""
    seed: int = 2026

    def faults(self) -> list[str]:
        """The faults in the order they happen: kinds interleaved, evenly spaced. On a
        cluster a second inventory worker and orders API join a third of the way in, and
        the first inventory worker and the second API leave two thirds of the way in."""
        kinds = (
            ["kill inventory worker"] * self.inventory_kills
            + ["kill orders worker"] * self.orders_kills
            + ["kill notifications worker"] * self.notifications_kills
            + ["restart broker"] * self.broker_restarts
            + ["flush redis"] * self.redis_flushes
            + (["kill a broker for good"] if self.brokers > 1 else [])
        )
        random.Random(self.seed).shuffle(kinds)
        if self.brokers > 1:
            kinds.insert(len(kinds) // 3, "scale out")
            kinds.insert(2 * len(kinds) // 3 + 1, "scale in")
        return kinds


# -- the load ---------------------------------------------------------------------------------


@dataclass
class Urls:
    catalog: str
    inventory: str
    orders: str
    notifications: str


class Orders:
    """Places `count` orders at the souvenir outlets while the day runs (one every
    `every_lines` sale lines), fulfils or cancels some reserved ones, and retries every
    request through outages with the same Idempotency-Key."""

    def __init__(self, urls: Urls, key: str, count: int, seed: int) -> None:
        self.urls = urls
        self.count = count
        self.apis = [urls.orders]
        """The orders APIs to spread requests over (more join when the system scales)."""
        self._turn = 0
        self.http = httpx.Client(headers={"X-API-Key": key}, timeout=30)
        self.rng = random.Random(seed)
        self.placed: list[str] = []
        self.fulfilled: list[str] = []
        self.cancelled: list[str] = []
        self.retries: Counter[str] = Counter()
        """Why requests were sent again: status codes and transport errors."""
        self._lock = threading.Lock()

    def outlets(self) -> list[dict[str, Any]]:
        catalog = httpx.get(
            f"{self.urls.catalog}/v1/outlets",
            headers=self.http.headers,
            params={"limit": 500},
            timeout=30,
        ).json()["items"]
        return [o for o in catalog if o["channel"] in SOUVENIR_CHANNELS and o.get("assortment")]

    def _url(self, path: str) -> str:
        with self._lock:
            self._turn += 1
            return f"{self.apis[self._turn % len(self.apis)]}{path}"

    def _post(self, path: str, body: dict[str, Any] | None, idempotency: str) -> httpx.Response:
        deadline = time.monotonic() + 180
        while True:
            try:
                answer = self.http.post(
                    self._url(path), json=body or {}, headers={"Idempotency-Key": idempotency}
                )
                if answer.status_code < 500:
                    return answer
                why = f"{answer.status_code} {answer.text[:80]}"
            except httpx.TransportError as exc:
                why = type(exc).__name__
            with self._lock:
                self.retries[why] += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"POST {path} kept failing for 180 s")
            time.sleep(1)

    def place(self, outlets: list[dict[str, Any]], n: int) -> None:
        rng = random.Random(f"{n}")
        outlet = rng.choice(outlets)
        skus = [item["sku"] for item in outlet["assortment"]]
        body = {
            "customer_name": rng.choice(["KBIH Al-Ikhlas Paser", "Dinas Pariwisata", "PT Kideco"]),
            "customer_phone": "+6281250019999",
            "kind": "souvenir_bulk",
            "outlet_id": outlet["outlet_id"],
            "pickup_at": (datetime.now(WITA) + timedelta(hours=rng.randint(6, 30))).isoformat(),
            "lines": [
                {"sku": sku, "qty": rng.randint(1, 3)}
                for sku in rng.sample(skus, k=min(rng.randint(1, 2), len(skus)))
            ],
        }
        answer = self._post("/v1/orders", body, f"chaos-{uuid.uuid4()}")
        assert answer.status_code in (200, 201, 202), answer.text
        with self._lock:
            self.placed.append(str(answer.json()["order_id"]))

    def settle_one(self, n: int) -> None:
        """Now and then a customer picks up (or cancels) an order placed a while ago."""
        with self._lock:
            if len(self.placed) < 40:
                return
            order_id = self.placed[len(self.placed) - 40]
        try:
            shown = self.http.get(self._url(f"/v1/orders/{order_id}"))
        except httpx.TransportError:
            return
        if shown.status_code != 200 or shown.json()["state"] != "reserved":
            return
        fulfil = (n // 10) % 2 == 0  # n is 5, 15, 25…: every other one picked up
        answer = self._post(
            f"/v1/orders/{order_id}/{'fulfil' if fulfil else 'cancel'}",
            None if fulfil else {"reason": "chaos"},
            f"chaos-settle-{order_id}",
        )
        if answer.status_code in (200, 202):  # settled, or pending
            with self._lock:
                (self.fulfilled if fulfil else self.cancelled).append(order_id)

    def run(self, progress: Callable[[], float], stop: threading.Event) -> None:
        """Place order n once `progress()` (0..1, the share of the day's load sent) has
        passed n / count; after the day, the rest at once."""
        outlets = self.outlets()
        with ThreadPoolExecutor(4) as pool:
            done = []
            for n in range(self.count):
                while progress() < n / self.count and not stop.is_set():
                    time.sleep(0.05)
                done.append(pool.submit(self.place, outlets, n))
                if n % 10 == 5:
                    done.append(pool.submit(self.settle_one, n))
            for future in done:
                future.result()  # a request that failed for good fails the run

    def close(self) -> None:
        self.http.close()


class Load:
    """The simulator's day and the orders, each in a thread of its own."""

    def __init__(self, urls: Urls, key: str, plan: Plan, spool_dir: Path, out: Any) -> None:
        from lumbung.simulator import run

        self.plan = plan
        self.simulation = run.Simulation(
            run.Urls(urls.catalog, urls.inventory, urls.orders, urls.notifications),
            key,
            datetime.now(WITA).date(),
            seed=plan.seed,
            speed=1e9,  # as fast as the APIs take it
            spool_dir=spool_dir,
            out=out,
            hours=plan.hours,
            intensity=plan.intensity,
        )
        self.orders = Orders(urls, key, plan.orders, plan.seed)
        self.done = threading.Event()
        self.orders_done = threading.Event()
        self.errors: list[BaseException] = []
        self.unsent = 0
        """Sales still in the outlets' spools after the day's last flush."""

    def progress(self) -> float:
        if self.done.is_set():
            return 1.0
        return min(1.0, self.simulation.tally.sale_lines / self.plan.sale_lines)

    def start(self) -> None:
        def day() -> None:
            try:
                self.simulation.run()
                clients = self.simulation.clients.values()
                self.unsent = sum(c.spool.counts().get("pending", 0) for c in clients)
            except BaseException as exc:  # reported by the test
                self.errors.append(exc)
            finally:
                self.simulation.close()
                self.done.set()

        def orders() -> None:
            try:
                self.orders.run(self.progress, self.done)
            except BaseException as exc:
                self.errors.append(exc)
            finally:
                self.orders_done.set()

        threading.Thread(target=day, daemon=True).start()
        threading.Thread(target=orders, daemon=True).start()

    def wait(self, seconds: float) -> bool:
        return self.done.wait(seconds) and self.orders_done.wait(seconds)


# -- the faults -------------------------------------------------------------------------------


@dataclass
class Injected:
    kind: str
    at_lines: int
    seconds: float


class Faults:
    """Injects the plan's faults as the load passes evenly spaced marks; `actions` does
    each kind of fault (see `Plan.faults`)."""

    def __init__(self, plan: Plan, actions: dict[str, Callable[[], None]]) -> None:
        self.plan = plan
        self.actions = actions
        self.injected: list[Injected] = []
        self.last_at = 0.0

    def inject(self, kind: str, at_lines: int) -> None:
        began = time.monotonic()
        self.actions[kind]()
        self.last_at = time.monotonic()
        self.injected.append(Injected(kind, at_lines, round(self.last_at - began, 1)))

    def run(self, load: Load) -> None:
        """Each fault once the load has passed its mark (those the day did not reach
        right after it), the last one once the load has ended. The time from the last
        fault to convergence is then the system's recovery, not the rest of the load: with
        the last mark at 9/10 the full run went on selling for about 50 s after it, and
        with a mark at the plan's last sale line, 30 s (the day outlasts the plan)."""
        faults = self.plan.faults()
        for n, kind in enumerate(faults):
            last, mark = n == len(faults) - 1, (n + 1) / len(faults)
            while not load.done.is_set() and (last or load.progress() < mark):
                time.sleep(0.1)
            self.inject(kind, load.simulation.tally.sale_lines)


# -- the checker ------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the event log says, recomputed from raw JSON with no service code."""

    on_hand: dict[tuple[str, str], int]
    reserved: dict[tuple[str, str], int]
    orders: dict[str, str]
    records_in: int
    applied: int
    duplicates: int


ORDER_MOVES = {
    "OrderReserved": ({"placed"}, "reserved"),
    "OrderRejected": ({"placed"}, "rejected"),
    "OrderFailed": ({"placed", "reserved"}, "failed"),
    "OrderCancelled": ({"placed", "reserved"}, "cancelled"),
    "OrderFulfilled": ({"reserved"}, "fulfilled"),
    "OrderExpired": ({"reserved"}, "expired"),
}


def ledger(kafka_bootstrap: str, registry: Registry) -> Ledger:
    """Stock per (outlet, SKU): opening counts, receipts, minus sales and picked-up orders;
    held per (outlet, SKU): the lines of the orders still reserved. Every event counted
    once by its event_id."""
    on_hand: dict[tuple[str, str], int] = defaultdict(int)
    seen: set[str] = set()
    records = 0

    def first_time(event: Any) -> bool:
        nonlocal records
        records += 1
        if not isinstance(event, dict) or event["event_id"] in seen:
            return False
        seen.add(event["event_id"])
        return True

    for event in read_topic(kafka_bootstrap, registry.name("inventory.commands")):
        if not first_time(event):
            continue
        data = event["data"]
        if event["event_type"] == "inventory.StockCounted":
            for line in data["lines"]:
                on_hand[(data["outlet_id"], line["sku"])] = line["counted"]
        elif event["event_type"] == "inventory.RestockReceived":
            on_hand[(data["outlet_id"], data["sku"])] += data["qty"]
    for event in read_topic(kafka_bootstrap, registry.name("pos.sales")):
        if first_time(event):
            for line in event["data"]["lines"]:
                on_hand[(event["data"]["outlet_id"], line["sku"])] -= line["qty"]

    state: dict[str, str] = {}
    lines: dict[str, list[dict[str, Any]]] = {}
    outlet: dict[str, str] = {}
    for event in read_topic(kafka_bootstrap, registry.name("orders.events")):
        if not first_time(event):
            continue
        data, kind = event["data"], event["event_type"].split(".")[-1]
        order_id = data["order_id"]
        if kind == "OrderPlaced":
            state.setdefault(order_id, "placed")
            outlet[order_id] = data["outlet_id"]
            continue
        allowed, to = ORDER_MOVES.get(kind, (set(), ""))
        if state.get(order_id) in allowed:
            state[order_id] = to
            if kind == "OrderReserved":
                lines[order_id] = data["lines"]
            if kind == "OrderFulfilled":
                for line in lines[order_id]:
                    on_hand[(outlet[order_id], line["sku"])] -= line["qty"]
    reserved: dict[tuple[str, str], int] = defaultdict(int)
    for order_id, now in state.items():
        if now == "reserved":
            for line in lines[order_id]:
                reserved[(outlet[order_id], line["sku"])] += line["qty"]
    return Ledger(dict(on_hand), dict(reserved), state, records, len(seen), records - len(seen))


def inventory_state(
    kafka_bootstrap: str, registry: Registry
) -> dict[tuple[str, str], tuple[int, int]]:
    """(on hand, reserved) per (outlet, SKU) as the inventory worker holds them: the last
    committed value of each stock cell (`s|OUTLET|SKU`) in its changelog."""
    topic = f"{registry.prefix}.lumbung-inventory-stock-changelog"
    last: dict[bytes, bytes] = {}
    for record in read_records(kafka_bootstrap, topic):
        last[record.key] = record.value
    held: dict[tuple[str, str], tuple[int, int]] = {}
    for key, raw in last.items():
        kind, _, rest = key.decode().partition("|")
        if kind != "s" or not raw:
            continue
        outlet_id, _, sku = rest.partition("|")
        cell = orjson.loads(raw)
        held[(outlet_id, sku)] = (cell[0], cell[1])
    return held


@dataclass
class Deliveries:
    """Every cause that reached notifications' outbox, what it should have led to, and
    what was delivered for it."""

    expected: dict[tuple[str, str], set[str]]
    """(recipient, cause id) -> the channels it must be delivered on."""
    delivered: dict[tuple[str, str], set[str]]
    doubles: list[str]
    failed: list[str]
    not_received: list[str]
    messages: int


def deliveries(kafka_bootstrap: str, registry: Registry, received: set[str]) -> Deliveries:
    booths = {
        outlet["data"]["outlet_id"]
        for outlet in read_topic(kafka_bootstrap, registry.name("catalog.outlets"))
        if isinstance(outlet, dict) and outlet["data"].get("channel") == "event_booth"
    }
    expected: dict[tuple[str, str], set[str]] = {}
    for record in read_records(kafka_bootstrap, f"{registry.prefix}.notifications.outbox"):
        if record.key != b"tick" and record.value:
            cause = orjson.loads(record.value)
            recipient = record.key.decode()
            expected[(recipient, cause["event_id"])] = channels_for(recipient, cause, booths)
    by_id: dict[str, dict[str, Any]] = {}
    failed = []
    for event in read_topic(kafka_bootstrap, registry.name("notifications.deliveries")):
        data = event["data"]
        if event["event_type"].endswith("NotificationFailed"):
            failed.append(data["delivery_id"])
        else:
            by_id[data["delivery_id"]] = data
    delivered: dict[tuple[str, str], set[str]] = {}
    doubles = []
    for data in by_id.values():
        for cause_id in data["causes"]:
            channels = delivered.setdefault((data["recipient"], cause_id), set())
            if data["channel"] in channels:
                doubles.append(f"{data['recipient']} {cause_id} twice by {data['channel']}")
            channels.add(data["channel"])
    not_received = sorted(set(by_id) - received)
    return Deliveries(expected, delivered, doubles, failed, not_received, len(by_id))


@dataclass
class Report:
    plan: Plan
    sale_lines: int = 0
    sales: int = 0
    unsent: int = 0
    outlet_errors: list[str] = field(default_factory=list)
    orders_placed: int = 0
    orders_fulfilled: int = 0
    orders_cancelled: int = 0
    order_retries: Counter[str] = field(default_factory=Counter)
    records_in: int = 0
    applied: int = 0
    duplicates: int = 0
    alerts: int = 0
    messages: int = 0
    faults: list[Injected] = field(default_factory=list)
    load_seconds: float = 0.0
    converged_after_s: float | None = None
    converged_after_load_s: float | None = None
    """The load goes on after the last fault (a quarter of it, when faults are spread
    evenly): how long the system took once the last sale was sent."""
    mismatches: list[str] = field(default_factory=list)

    def render(self) -> str:
        faults = Counter(f.kind for f in self.faults)
        lines = [
            "chaos run report",
            f"  load: {self.sale_lines} sale lines in {self.sales} sales, "
            f"{self.orders_placed} orders ({self.orders_fulfilled} picked up, "
            f"{self.orders_cancelled} cancelled) in {self.load_seconds:.0f} s",
            f"  sales left unsent in outlet spools: {self.unsent}; outlet flushes that failed "
            f"and were tried again: {len(self.outlet_errors)} {self.outlet_errors[-2:]}",
            f"  events in: {self.records_in} records on pos.sales, inventory.commands and "
            f"orders.events",
            f"  events applied: {self.applied} distinct event ids",
            f"  duplicates seen and absorbed: {self.duplicates}",
            f"  order requests sent again through outages: {sum(self.order_retries.values())} "
            f"{dict(self.order_retries.most_common(4))}",
            f"  notifications: {self.alerts} alerts and restock requests due to be sent, "
            f"{self.messages} messages delivered",
            "  faults injected: " + ", ".join(f"{k} x{n}" for k, n in sorted(faults.items())),
        ]
        lines += [f"    - {f.kind} at {f.at_lines} sale lines ({f.seconds} s)" for f in self.faults]
        converged = (
            "never"
            if self.converged_after_s is None
            else f"{self.converged_after_s:.1f} s after the last fault"
            + (
                ""
                if self.converged_after_load_s is None
                else f", {self.converged_after_load_s:.1f} s after the load ended"
            )
        )
        lines += [
            f"  converged: {converged}",
            f"  mismatches: {len(self.mismatches)}",
        ]
        lines += [f"    - {m}" for m in self.mismatches[:30]]
        return "\n".join(lines)


class Checker:
    def __init__(
        self,
        kafka_bootstrap: str,
        registry: Registry,
        read_model: Any,
        orders_url: str,
        key: str,
        received: Callable[[], set[str]],
    ) -> None:
        self.kafka = kafka_bootstrap
        self.registry = registry
        self.read_model = read_model
        self.orders_url = orders_url
        self.key = key
        self.received = received

    def mismatches(self, placed: list[str]) -> tuple[list[str], Ledger, Deliveries]:
        log = ledger(self.kafka, self.registry)
        problems: list[str] = []
        outlets = {outlet for outlet, _ in log.on_hand}
        model = {
            (outlet, sku): cell
            for outlet in outlets
            for sku, cell in self.read_model.outlet(outlet).items()
        }
        state = inventory_state(self.kafka, self.registry)
        for key, on_hand in sorted(log.on_hand.items()):
            held = log.reserved.get(key, 0)
            cell = model.get(key)
            if cell is None or (cell["on_hand"], cell["reserved"]) != (on_hand, held):
                shown = None if cell is None else (cell["on_hand"], cell["reserved"])
                problems.append(f"read model {key}: {shown}, log says {(on_hand, held)}")
            if state.get(key) != (on_hand, held):
                problems.append(f"inventory state {key}: {state.get(key)}, log {(on_hand, held)}")
        problems += [f"order {i} not on orders.events" for i in placed if i not in log.orders]
        problems += [f"order {i} still placed" for i, s in log.orders.items() if s == "placed"]
        with httpx.Client(base_url=self.orders_url, headers={"X-API-Key": self.key}) as http:
            for order_id, expected in log.orders.items():
                answer = http.get(f"/v1/orders/{order_id}", timeout=30)
                state_shown = answer.json().get("state") if answer.status_code == 200 else None
                if state_shown != expected:
                    problems.append(f"order {order_id}: API says {state_shown}, log {expected}")
        sent = deliveries(self.kafka, self.registry, self.received())
        for key in sorted(set(sent.expected) | set(sent.delivered)):
            channels, due = sent.delivered.get(key, set()), sent.expected.get(key, set())
            if channels != due:
                problems.append(f"{key}: delivered by {sorted(channels)}, due {sorted(due)}")
        problems += sent.doubles
        problems += [f"delivery {i} failed" for i in sent.failed]
        problems += [f"delivery {i} recorded but never received" for i in sent.not_received]
        return problems, log, sent

    def converge(self, placed: list[str], seconds: float) -> list[str]:
        """Check again and again until nothing differs or time is up; the last result. A
        check reads every topic it needs from the start, which takes a few seconds itself:
        a second between checks is enough (5 s used to add 2.5 s to every run's wait)."""
        deadline = time.monotonic() + seconds
        while True:
            problems, self.log, self.sent = self.mismatches(placed)
            if not problems or time.monotonic() > deadline:
                return problems
            time.sleep(1)


def received_ids(receiver: Any, smtp: Any) -> set[str]:
    """Delivery ids that reached the local receivers (webhook header, gateway reference,
    email Message-ID)."""
    ids: set[str] = set()
    for request in list(receiver.requests):
        if request.path == "/wa":
            ids.add(orjson.loads(request.body)["reference"])
        elif DELIVERY_HEADER in request.headers:
            ids.add(request.headers[DELIVERY_HEADER])
    for message in list(smtp.mailbox.received):
        ids.add(message["Message-ID"].strip("<>").split("@")[0])
    return ids
