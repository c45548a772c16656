"""The orders read model on a real Redis: a re-projection never puts an older state of an
order over a newer one the fold wrote meanwhile."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from redis import asyncio as aioredis

from lumbung.orders.adapters.read_model import OrdersReadModel

pytestmark = pytest.mark.broker


def order(states: list[str], attempts: int = 1) -> dict[str, Any]:
    return {
        "order_id": "ORD-1",
        "outlet_id": "IKN-01",
        "pickup_at": "2026-11-30T10:00:00+08:00",
        "state": states[-1],
        "attempts": attempts,
        "history": [{"state": s} for s in states],
    }


async def test_an_older_state_never_overwrites_a_newer_one(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    model = OrdersReadModel(client, f"t{uuid.uuid4().hex[:8]}")
    try:
        await model.put([order(["placed", "reserved", "fulfilled"])])
        await model.put([order(["placed", "reserved"])])  # a late re-projection
        assert (await model.get("ORD-1") or {})["state"] == "fulfilled"

        await model.put([order(["placed"], attempts=2)])
        assert (await model.get("ORD-1") or {})["state"] == "fulfilled"

        fresh = OrdersReadModel(client, f"t{uuid.uuid4().hex[:8]}")
        await fresh.put([order(["placed"], attempts=1)])
        await fresh.put([order(["placed"], attempts=2)])  # asked inventory again
        assert (await fresh.get("ORD-1") or {})["attempts"] == 2
    finally:
        await client.aclose()
