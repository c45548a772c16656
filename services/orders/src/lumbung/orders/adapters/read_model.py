"""The orders read model in Redis, written by the orders worker and read by the API.

    <prefix>:orders:order:<order_id>          the order as JSON (domain `Order.to_dict`)
    <prefix>:orders:outlet:<outlet_id>        sorted set of order ids by pickup time
    <prefix>:orders:idem:<order_id>           request fingerprint of a placing in flight
    <prefix>:orders:built                     set once the worker has projected every order

It is a projection of the orders stream's changelog (the committed state of every order,
folded from `orders.events`): after a Redis wipe the worker reads that changelog again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from redis import asyncio as aioredis

from lumbung.platform.cache import as_text

IDEMPOTENCY_TTL_S = 24 * 3600

# Writes an order unless Redis already holds a later state of it (a longer history, or as
# long with more attempts): a re-projection after a wipe or a rebalance that races with
# the fold can never put an older state over a newer one.
PUT_IF_NEWER = """
local current = redis.call('GET', KEYS[1])
if current then
  local held = cjson.decode(current)
  local steps, attempts = tonumber(ARGV[2]), tonumber(ARGV[3])
  if #held['history'] > steps or (#held['history'] == steps and held['attempts'] > attempts) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


class OrdersReadModel:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.redis = client
        self._base = f"{prefix}:orders:" if prefix else "orders:"
        self._put_if_newer = client.register_script(PUT_IF_NEWER)

    def _order(self, order_id: str) -> str:
        return f"{self._base}order:{order_id}"

    def _outlet(self, outlet_id: str) -> str:
        return f"{self._base}outlet:{outlet_id}"

    async def put(self, orders: list[dict[str, Any]]) -> None:
        if not orders:
            return
        pipe = self.redis.pipeline(transaction=False)
        for order in orders:
            await self._put_if_newer(
                keys=[self._order(order["order_id"])],
                args=[orjson.dumps(order), len(order["history"]), order["attempts"]],
                client=pipe,
            )
            score = datetime.fromisoformat(order["pickup_at"]).timestamp()
            pipe.zadd(self._outlet(order["outlet_id"]), {order["order_id"]: score})
        await pipe.execute()

    async def get(self, order_id: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self._order(order_id))
        return None if raw is None else dict(orjson.loads(raw))

    async def by_outlet(
        self, outlet_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[dict[str, Any]]:
        low = "-inf" if start is None else start.timestamp()
        high = "+inf" if end is None else end.timestamp()
        ids = await self.redis.zrangebyscore(self._outlet(outlet_id), low, high)
        if not ids:
            return []
        raws = await self.redis.mget([self._order(as_text(i)) for i in ids])
        return [orjson.loads(raw) for raw in raws if raw is not None]

    async def is_built(self) -> bool:
        """Whether the worker has projected every order since Redis last lost them."""
        return bool(await self.redis.exists(f"{self._base}built"))

    async def mark_built(self) -> None:
        await self.redis.set(f"{self._base}built", 1)

    async def claim(self, order_id: str, request_hash: str) -> str:
        """The request fingerprint that owns this order id: ours when we are first."""
        key = f"{self._base}idem:{order_id}"
        await self.redis.set(key, request_hash, nx=True, ex=IDEMPOTENCY_TTL_S)
        owner = await self.redis.get(key)
        return request_hash if owner is None else as_text(owner)
