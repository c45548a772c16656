"""The simulation, through the real APIs: outlets sell through the outlet client (spooling
while offline, flushing when back), bulk souvenir orders go to the orders API, suppliers
answer open restock requests through the supplier API and outlets receive the goods.

A speed factor turns a day into minutes: at speed 600, one simulated minute lasts 0.1 s.
A supplier's lead time in days becomes hours of the simulated day, so that answers and
receipts happen within it.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import httpx

from lumbung.inventory.outlet import HttpSender, OutletClient, Spool, Unreachable
from lumbung.platform.clock import WITA
from lumbung.simulator.day import Day

OPENING_STOCK = {"event_booth": 80, "ikn_kiosk": 60, "souvenir_center": 60}
DEFAULT_OPENING = 40
REORDER_POINT, PAR_LEVEL = 10, 50
SOUVENIR_CHANNELS = ("souvenir_center", "ikn_kiosk")


@dataclass(frozen=True)
class Urls:
    catalog: str
    inventory: str
    orders: str
    notifications: str


@dataclass
class Tally:
    sales: int = 0
    sale_lines: int = 0
    refused: int = 0
    orders: int = 0
    accepted: int = 0
    received: int = 0
    flushes_after_outage: int = 0
    errors: list[str] = field(default_factory=list)


class Simulation:
    def __init__(
        self,
        urls: Urls,
        ops_key: str,
        day: date,
        seed: int,
        speed: float,
        spool_dir: Path,
        out: TextIO = sys.stderr,
        hours: float | None = None,
        intensity: float = 1.0,
    ) -> None:
        self.urls = urls
        self.http = httpx.Client(timeout=30, headers={"X-API-Key": ops_key})
        self.day_of = day
        self.seed = seed
        self.speed = speed
        self.spool_dir = spool_dir
        self.out = out
        self.hours = hours
        self.intensity = intensity
        self.tally = Tally()
        self.clients: dict[str, OutletClient] = {}
        self.keys: dict[str, str] = {}
        self.pending_receipts: list[tuple[Any, dict[str, Any]]] = []
        self.answered: set[str] = set()

    # -- set-up ------------------------------------------------------------------------------

    def _all(self, collection: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.http.get(
                f"{self.urls.catalog}/v1/{collection}", params={"offset": len(items), "limit": 500}
            )
            page.raise_for_status()
            body = page.json()
            items += body["items"]
            if len(items) >= body["total"] or not body["items"]:
                return items

    def setup(self) -> None:
        self._wait_until_ready(self.urls.inventory)
        self.outlets = [o for o in self._all("outlets") if o.get("assortment")]
        self.prices = {p["sku"]: p["price_idr"] for p in self._all("products")}
        self.lead = {s["supplier_id"]: s["restock_lead_time_days"] for s in self._all("suppliers")}
        self.day = Day(self.day_of, self.outlets, self.seed, self.intensity)
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        # The seed repeats what happens; each run's ids are its own, so a second run on the
        # same stack is a new day, not a resend of the first one's sales.
        tag = self.run_id = f"{self.day_of:%Y%m%d}-{self.seed}-{uuid.uuid4().hex[:6]}"
        for outlet in self.outlets:
            outlet_id = outlet["outlet_id"]
            issued = self.http.post(
                f"{self.urls.catalog}/v1/keys",
                json={"role": "outlet", "subject": outlet_id, "label": "simulator"},
            )
            issued.raise_for_status()
            key = self.keys[outlet_id] = issued.json()["key"]
            self._wait_for_key(key)
            skus = [item["sku"] for item in outlet["assortment"]]
            opening = round(OPENING_STOCK.get(outlet["channel"], DEFAULT_OPENING) * self.intensity)
            # A day on a system in use goes on from the stock there: only a product the
            # outlet never had gets an opening count (a second `make up` once re-counted
            # every outlet and wiped what people had counted and sold).
            shown = httpx.get(
                f"{self.urls.inventory}/v1/outlets/{outlet_id}/stock",
                headers={"X-API-Key": key},
                timeout=30,
            )
            shown.raise_for_status()
            new = [sku for sku in skus if sku not in shown.json()["stock"]]
            if new:
                httpx.post(
                    f"{self.urls.inventory}/v1/outlets/{outlet_id}/counts",
                    headers={"X-API-Key": key},
                    json={
                        "count_id": f"SIM-OPEN-{tag}",
                        "kind": "opening",
                        "lines": [{"sku": sku, "counted": opening} for sku in new],
                    },
                    timeout=30,
                ).raise_for_status()
            for sku in skus:
                self.http.put(
                    f"{self.urls.inventory}/v1/outlets/{outlet_id}/levels/{sku}",
                    json={"reorder_point": REORDER_POINT, "par_level": PAR_LEVEL},
                ).raise_for_status()
            self._wait_for_stock(outlet_id, key, set(skus))
            spool = Spool(self.spool_dir / f"{outlet_id}-{tag}.sqlite")
            self.clients[outlet_id] = OutletClient(
                outlet_id, spool, HttpSender(self.urls.inventory, key)
            )

    def _wait_until_ready(self, url: str) -> None:
        """The stock shown is whole only once the API is ready (its read model may be
        rebuilding after a restart): the opening counts depend on it."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=10).is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{url} was not ready within 300 s")

    def _wait_for_key(self, key: str) -> None:
        """A key issued by the catalog reaches the inventory API through the `auth.keys`
        topic: until it has, the key is not known there (401). A chaos run saw it late,
        a broker having just gone."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            known = httpx.get(
                f"{self.urls.inventory}/v1/whoami", headers={"X-API-Key": key}, timeout=30
            )
            if known.status_code != 401:
                known.raise_for_status()
                return
            time.sleep(0.2)
        raise RuntimeError("a key issued by the catalog was not known to inventory in 120 s")

    def _wait_for_stock(self, outlet_id: str, key: str, skus: set[str]) -> None:
        """Counts and sales travel on different topics: sell only once the opening count
        is in, or the count would overwrite sales made before it was applied."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            shown = httpx.get(
                f"{self.urls.inventory}/v1/outlets/{outlet_id}/stock",
                headers={"X-API-Key": key},
                timeout=30,
            )
            if shown.is_success and skus <= set(shown.json()["stock"]):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the opening stock of {outlet_id} did not show within 120 s")

    # -- the day -----------------------------------------------------------------------------

    def run(self) -> Tally:
        self.setup()
        minutes = self.day.minutes if self.hours is None else int(self.hours * 60)
        began = time.monotonic()
        was_offline: set[str] = set()
        for minute in range(minutes):
            moment = self.day.at(minute)
            for outlet in self.outlets:
                self._sell(outlet, moment)
            for outlet_id, client in self.clients.items():
                if self.day.offline(outlet_id, moment):
                    was_offline.add(outlet_id)
                    continue
                if outlet_id in was_offline:
                    was_offline.discard(outlet_id)
                    self.tally.flushes_after_outage += 1
                self._flush(client)
            if minute % 30 == 0:
                self._tolerant(self._souvenir_order, moment)
            if minute % 15 == 0:
                self._tolerant(self._suppliers_answer, moment)
                self._tolerant(self._receive_due, moment)
            self._progress(minute + 1, minutes, moment)
            lag = began + (minute + 1) * 60 / self.speed - time.monotonic()
            if lag > 0:
                time.sleep(lag)
        for client in self.clients.values():
            self._flush(client)
        self.out.write("\n")
        return self.tally

    def _tolerant(self, step: Any, moment: Any) -> None:
        """A step of the day whose request did not get through (a server restarting, a
        connection dropped) is noted and the day goes on, as people would."""
        try:
            step(moment)
        except httpx.TransportError as exc:
            self.tally.errors.append(f"{step.__name__}: {exc!r}")

    def _sell(self, outlet: dict[str, Any], moment: Any) -> None:
        skus = [item["sku"] for item in outlet["assortment"]]
        prices = {
            i["sku"]: i.get("price_idr") or self.prices.get(i["sku"], 0)
            for i in outlet["assortment"]
        }
        for n in range(self.day.sales_in_minute(outlet, moment)):
            basket = self.day.basket(skus)
            sale_id = (
                f"SIM-{moment:%H%M}-{n}-{uuid.UUID(int=self.day.random.getrandbits(128)).hex[:8]}"
            )
            self.clients[outlet["outlet_id"]].record(
                [(sku, qty, prices[sku]) for sku, qty in basket],
                moment + timedelta(seconds=n),
                sale_id=sale_id,
            )
            self.tally.sales += 1
            self.tally.sale_lines += len(basket)

    def _flush(self, client: OutletClient) -> None:
        try:
            client.flush()
        except Unreachable as exc:
            self.tally.errors.append(f"{client.outlet_id}: {exc}")
        self.tally.refused = sum(len(c.spool.refused()) for c in self.clients.values())

    def _souvenir_order(self, moment: Any) -> None:
        """Now and then a Hajj group or an office orders souvenirs in bulk."""
        rng = self.day.random
        if rng.random() > 0.6:
            return
        outlets = [o for o in self.outlets if o["channel"] in SOUVENIR_CHANNELS]
        if not outlets:
            return
        outlet = rng.choice(outlets)
        skus = [item["sku"] for item in outlet["assortment"]]
        lines = [
            {"sku": sku, "qty": rng.randint(5, 20)} for sku in rng.sample(skus, k=min(2, len(skus)))
        ]
        placed = self.http.post(
            f"{self.urls.orders}/v1/orders",
            headers={"Idempotency-Key": f"sim-{self.run_id}-{moment:%H%M}"},
            json={
                "customer_name": rng.choice(
                    ["KBIH Al-Ikhlas Paser", "Dinas Pariwisata", "PT Kideco"]
                ),
                "customer_phone": "+6281250019999",
                "kind": "souvenir_bulk",
                "outlet_id": outlet["outlet_id"],
                "pickup_at": (datetime_now() + timedelta(hours=rng.randint(2, 30))).isoformat(),
                "lines": lines,
                "note": "simulasi",
            },
        )
        if placed.is_success:
            self.tally.orders += 1
        else:
            self.tally.errors.append(f"order: {placed.status_code} {placed.text[:120]}")

    def _suppliers_answer(self, moment: Any) -> None:
        """Suppliers accept what is open, to arrive after their lead time (days as hours)."""
        for supplier_id, lead in self.lead.items():
            listed = self.http.get(
                f"{self.urls.notifications}/v1/restocks",
                params={"supplier_id": supplier_id, "status": "open"},
            )
            if not listed.is_success:
                continue
            for request in listed.json():
                if request["restock_id"] in self.answered:
                    continue
                arrives = moment + timedelta(hours=max(1, lead))
                # The API refuses an arrival in the past, and a simulated morning can be
                # hours behind the wall clock: say at least an hour from now.
                expected = max(arrives, datetime_now() + timedelta(hours=1))
                answer = self.http.post(
                    f"{self.urls.notifications}/v1/restocks/{request['restock_id']}/accept",
                    json={"qty": request["suggested_qty"], "expected_at": expected.isoformat()},
                )
                self.answered.add(request["restock_id"])
                if answer.is_success:
                    self.tally.accepted += 1
                    self.pending_receipts.append((arrives, request))

    def _receive_due(self, moment: Any) -> None:
        due = [(at, r) for at, r in self.pending_receipts if at <= moment]
        self.pending_receipts = [(at, r) for at, r in self.pending_receipts if at > moment]
        for _, request in due:
            outlet_id = request["outlet_id"]
            received = httpx.post(
                f"{self.urls.inventory}/v1/outlets/{outlet_id}/receipts",
                headers={"X-API-Key": self.keys.get(outlet_id, "")},
                json={
                    "receipt_id": f"RCV-{request['restock_id']}",
                    "sku": request["sku"],
                    "qty": request["suggested_qty"],
                    "restock_id": request["restock_id"],
                },
                timeout=30,
            )
            if received.is_success:
                self.tally.received += 1

    def _progress(self, done: int, total: int, moment: Any) -> None:
        width = 30
        filled = int(width * done / total)
        t = self.tally
        self.out.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}% "
            f"{moment:%H:%M} WITA  sales {t.sales}  orders {t.orders}  "
            f"restocks {t.accepted}/{t.received}  "
        )
        self.out.flush()

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.http.close()


def datetime_now() -> datetime:
    return datetime.now(WITA)
