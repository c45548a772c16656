"""Many orders at once, and orders while workers are killed: every order gets a decision
and inventory holds exactly what the reserved orders hold."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lumbung.platform.clock import WITA
from tests.support.fixtures import ApiProcess

pytestmark = pytest.mark.broker
OUTLET = "IKN-01"
SKUS = ("KERIPIK-PISANG-200", "KOPI-LIBERIKA-200")


def body(lines: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "customer_name": "Kontingen Porprov",
        "customer_phone": "+6281250011005",
        "kind": "preorder",
        "outlet_id": OUTLET,
        "pickup_at": (datetime.now(WITA) + timedelta(hours=6)).isoformat(),
        "lines": [{"sku": sku, "qty": qty} for sku, qty in lines],
    }


async def place_all(url: str, key: str, bodies: list[dict[str, Any]]) -> list[str]:
    """POST every body at once; the order ids (retrying a 503 with the same key)."""

    async def one(client: httpx.AsyncClient, payload: dict[str, Any]) -> str:
        headers = {"X-API-Key": key, "Idempotency-Key": f"load-{uuid.uuid4()}"}
        for _ in range(20):
            answer = await client.post("/v1/orders", json=payload, headers=headers)
            if answer.status_code < 500:
                assert answer.status_code in (200, 201, 202), answer.text
                return str(answer.json()["order_id"])
            await asyncio.sleep(1)
        raise AssertionError(f"the orders API kept failing: {answer.text}")

    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return list(await asyncio.gather(*(one(client, b) for b in bodies)))


def decided(url: str, key: str, order_ids: list[str], seconds: float = 180) -> list[dict[str, Any]]:
    """Every order, once none is still `placed` (or when time is up)."""
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30) as client:
        while True:
            found = [client.get(f"/v1/orders/{i}") for i in order_ids]
            orders = [f.json() for f in found if f.status_code == 200]
            if (
                len(orders) == len(order_ids) and all(o["state"] != "placed" for o in orders)
            ) or time.monotonic() > deadline:
                return orders
            time.sleep(1)


def held_by_orders(orders: list[dict[str, Any]]) -> Counter[str]:
    held: Counter[str] = Counter()
    for order in orders:
        if order["state"] == "reserved":
            for line in order["lines"]:
                held[line["sku"]] += line["qty"]
    return held


def held_by_inventory(read_model: Any) -> Counter[str]:
    return Counter({sku: cell["reserved"] for sku, cell in read_model.outlet(OUTLET).items()})


def test_a_hundred_concurrent_orders_never_take_more_than_is_available(
    workers: Any,
    open_outlet: Any,
    read_model: Any,
    demo_catalog: dict[str, str],
    ops_key: str,
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    workers("inventory")
    workers("orders")
    open_outlet({SKUS[0]: 60})
    api = ApiProcess("orders", worker_env, tmp_path / "orders-api.log")
    api.start()
    try:
        rng = random.Random(5)
        bodies = [body([(SKUS[0], rng.randint(1, 2))]) for _ in range(100)]
        order_ids = asyncio.run(place_all(api.url, ops_key, bodies))
        orders = decided(api.url, ops_key, order_ids)
    finally:
        api.stop()

    assert len(set(order_ids)) == 100
    assert Counter(o["state"] for o in orders).keys() <= {"reserved", "rejected"}
    reserved = held_by_orders(orders)[SKUS[0]]
    assert 58 <= reserved <= 60, "stock left over only when the next order wanted two"
    assert read_model.wait_for(lambda: held_by_inventory(read_model)[SKUS[0]] == reserved)


def test_orders_survive_kill_9_of_either_worker_and_inventory_holds_exactly_the_reserved(
    workers: Any,
    open_outlet: Any,
    read_model: Any,
    demo_catalog: dict[str, str],
    ops_key: str,
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    inventory = workers("inventory")
    orders_worker = workers("orders")
    open_outlet({SKUS[0]: 150, SKUS[1]: 100})
    api = ApiProcess(
        "orders", {**worker_env, "LUMBUNG_ORDERS_ANSWER_TIMEOUT_S": "5"}, tmp_path / "api.log"
    )
    api.start()
    rng = random.Random(9)
    order_ids: list[str] = []
    try:
        for wave in range(4):
            bodies = [
                body([(sku, rng.randint(1, 3)) for sku in rng.sample(SKUS, rng.randint(1, 2))])
                for _ in range(50)
            ]
            order_ids += asyncio.run(place_all(api.url, ops_key, bodies))
            if wave == 1:
                orders_worker.kill()
                orders_worker = workers("orders")
            if wave == 2:
                inventory.kill()
                inventory = workers("inventory")
        orders = decided(api.url, ops_key, order_ids, seconds=240)
    finally:
        api.stop()

    assert len(orders) == 200
    states = Counter(o["state"] for o in orders)
    assert states.keys() <= {"reserved", "rejected", "failed"}, states
    assert states["reserved"] > 0
    held = held_by_orders(orders)
    assert read_model.wait_for(lambda: held_by_inventory(read_model) == held, seconds=60), (
        held_by_inventory(read_model),
        held,
    )
