"""What a newcomer would try on `docker compose --env-file compose/demo.env --profile demo
up`, through the published ports only (scripts/compose-test.sh runs it once every
healthcheck passes):

1. a sale posted to the inventory API shows as a stock change on the dashboard's stream;
2. an order placed through the orders API is reserved;
3. the sale took the stock below its reorder point: the restock request reaches the
   supplier's WhatsApp at the demo's stand-in receiver (its log).

    .venv/bin/python scripts/compose_checks.py --key lmb_... \\
        --receiver-log 'docker compose logs --no-log-prefix receiver' [--port-base 8000]

The ops key is the one the setup job printed (`docker compose logs setup`); the demo
catalog must be loaded (the `demo` profile's job). Every wait is bounded; the first check
that fails ends the run with exit status 1.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lumbung.catalog import demo
from lumbung.platform.clock import WITA
from tests.support.sse import Stream

OUTLET = "IKN-01"
SOLD = "KERIPIK-PISANG-200"
"""Counted at 20 with its reorder point at 10, then 11 sold: its supplier is asked."""
ORDERED = "AMPLANG-IKAN-250"
OPENING, REORDER_POINT, PAR_LEVEL, SALE_QTY, ORDER_QTY = 20, 10, 50, 11, 5
PORTS = {"dashboard": 0, "catalog": 1, "inventory": 2, "orders": 3}
"""The last digits of each API's port in docker-compose.yml (dashboard 8000 …)."""


def say(text: str) -> None:
    print(f"compose-checks: {text}", file=sys.stderr, flush=True)


def fail(text: str) -> None:
    say(f"FAILED: {text}")
    raise SystemExit(1)


def until(what: str, seconds: float, attempt: Callable[[], Any]) -> Any:
    """`attempt()` every half second until it answers: a successful HTTP response, or any
    other true value. When `seconds` have passed, fails with the last answer."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = attempt()
        except httpx.TransportError as error:
            last = error
        else:
            if last.is_success if isinstance(last, httpx.Response) else last:
                return last
        time.sleep(0.5)
    if isinstance(last, httpx.Response):
        last = f"{last.status_code} {last.text[:300]}"
    fail(f"{what}: not within {seconds:.0f} s (last: {last!r})")


class System:
    def __init__(self, host: str, port_base: int, key: str) -> None:
        self.url = {name: f"http://{host}:{port_base + n}" for name, n in PORTS.items()}
        self.key = key
        self.http = httpx.Client(headers={"X-API-Key": key}, timeout=30)

    def ready(self) -> None:
        for name, url in self.url.items():
            until(f"{name} /readyz", 180, partial(self.http.get, f"{url}/readyz"))
        say(f"every API is ready: {', '.join(self.url.values())}")

    def stock(self) -> dict[str, dict[str, Any]]:
        shown = self.http.get(f"{self.url['inventory']}/v1/outlets/{OUTLET}/stock")
        shown.raise_for_status()
        cells: dict[str, dict[str, Any]] = shown.json()["stock"]
        return cells

    def open_the_outlet(self) -> None:
        """An opening count and SOLD's reorder point; a service that has not yet read the
        demo catalog refuses the SKUs (422) for a moment."""
        inventory = f"{self.url['inventory']}/v1/outlets/{OUTLET}"
        count = {
            "count_id": f"CT-{uuid.uuid4().hex[:8]}",
            "kind": "opening",
            "lines": [{"sku": sku, "counted": OPENING} for sku in (SOLD, ORDERED)],
        }
        until("the opening count", 120, lambda: self.http.post(f"{inventory}/counts", json=count))
        levels = {"reorder_point": REORDER_POINT, "par_level": PAR_LEVEL}
        until("the levels", 60, lambda: self.http.put(f"{inventory}/levels/{SOLD}", json=levels))

        def opened() -> bool:
            cells = self.stock()
            return cells.get(SOLD, {}).get("version", 0) >= 2 and all(
                cells.get(sku, {}).get("on_hand") == OPENING for sku in (SOLD, ORDERED)
            )

        until(f"{OUTLET}'s opening stock", 120, opened)
        say(f"{OUTLET} counted: {OPENING} of {SOLD} (reorder point {REORDER_POINT}), {ORDERED}")

    def sale_on_the_stream(self) -> None:
        stream = Stream(self.url["dashboard"], self.key)
        try:
            stream.until("snapshot", seconds=60)
            sale_id = f"CT-{uuid.uuid4().hex[:12]}"
            sale = {
                "sale_id": sale_id,
                "sold_at": datetime.now(WITA).isoformat(),
                "lines": [{"sku": SOLD, "qty": SALE_QTY, "unit_price_idr": 15_000}],
            }
            began = time.monotonic()
            posted = self.http.post(f"{self.url['inventory']}/v1/outlets/{OUTLET}/sales", json=sale)
            if posted.status_code != 202:
                fail(f"sale {sale_id}: {posted.status_code} {posted.text[:300]}")
            frame = stream.until(
                "stock",
                lambda data: (
                    (data["outlet_id"], data["sku"], data["reason"]) == (OUTLET, SOLD, "sale")
                ),
                seconds=60,
            )
        finally:
            stream.close()
        if frame["available"] != OPENING - SALE_QTY:
            fail(f"the stream shows {SOLD} at {frame['available']}, not {OPENING - SALE_QTY}")
        say(
            f"sale {sale_id} on the dashboard stream after {time.monotonic() - began:.1f} s: "
            f"{OUTLET} {SOLD} available {OPENING} -> {frame['available']}"
        )

    def order_reserved(self) -> None:
        pickup = datetime.combine(
            datetime.now(WITA).date() + timedelta(days=1), datetime.min.time(), WITA
        ) + timedelta(hours=9)
        body = {
            "customer_name": "KBIH Al-Ikhlas Paser",
            "customer_phone": "+6281250011005",
            "kind": "souvenir_bulk",
            "outlet_id": OUTLET,
            "pickup_at": pickup.isoformat(),
            "lines": [{"sku": ORDERED, "qty": ORDER_QTY}],
            "note": "compose-test",
        }
        orders = f"{self.url['orders']}/v1/orders"
        headers = {"Idempotency-Key": f"compose-test-{uuid.uuid4().hex}"}
        began = time.monotonic()
        placed = until(
            "placing the order",
            60,
            lambda: self.http.post(orders, params={"wait": 10}, headers=headers, json=body),
        ).json()

        def decided() -> dict[str, Any] | None:
            order: dict[str, Any] = self.http.get(f"{orders}/{placed['order_id']}").json()
            return order if order["state"] != "placed" else None

        order = placed if placed["state"] != "placed" else until("the decision", 60, decided)
        if order["state"] != "reserved":
            fail(f"order {order['order_id']} is {order['state']}: {json.dumps(order)[:300]}")
        say(
            f"order {order['order_id']} reserved after {time.monotonic() - began:.1f} s: "
            f"{ORDER_QTY} {ORDERED} at {OUTLET}"
        )

    def restock_at_the_receiver(self, receiver_log: list[str], seconds: float) -> None:
        """The supplier of SOLD gets the request on WhatsApp once the digest window
        (DIGEST_WINDOW_S in compose/demo.env) has passed."""
        product = dict(demo.products())[SOLD]
        supplier = dict(demo.suppliers())[product["supplier_id"]]
        phone = supplier["contacts"]["whatsapp"]
        began = time.monotonic()

        def delivered() -> dict[str, Any] | None:
            out = subprocess.run(receiver_log, capture_output=True, text=True, timeout=30)
            for line in out.stdout.splitlines():
                try:
                    message = json.loads(line[line.find("{") :])
                except ValueError:
                    continue
                if (
                    isinstance(message, dict)
                    and message.get("channel") == "whatsapp"
                    and message.get("to") == phone
                    and product["name"] in (message.get("text") or "")
                ):
                    return message
            return None

        message = until(f"a restock request to {phone} at the receiver", seconds, delivered)
        say(
            f"restock request at the receiver after {time.monotonic() - began:.1f} s: "
            f"whatsapp to {phone} ({supplier['name']}): "
            + next(line for line in message["text"].splitlines() if product["name"] in line)
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--key", required=True, help="the ops key the setup job printed")
    parser.add_argument(
        "--receiver-log", required=True, help="a command that prints the receiver's log"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port-base", type=int, default=8000, help="the dashboard's port")
    parser.add_argument("--restock-wait", type=float, default=120, metavar="SECONDS")
    args = parser.parse_args()
    system = System(args.host, args.port_base, args.key)
    system.ready()
    system.open_the_outlet()
    system.sale_on_the_stream()
    system.order_reserved()
    system.restock_at_the_receiver(shlex.split(args.receiver_log), args.restock_wait)
    say("passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
