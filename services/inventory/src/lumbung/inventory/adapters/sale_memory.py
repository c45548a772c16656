"""What the ingest remembers of the sales it took, in Redis, so it can refuse a return
that does not fit its sale with a 422 before anything reaches Kafka.

A cache, safe to lose: a sale it does not find (another gateway took it, Redis was
wiped, it is older than the horizon) passes to the worker, which keeps the truth and
refuses what does not fit with `inventory.ReturnRefused`. An unreachable Redis never
stops a sale or a return: the ingest needs only Kafka.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from lumbung.contracts.events import pos
from lumbung.inventory.returns import Sold

log = logging.getLogger(__name__)
COUNT_ONCE = """
-- KEYS[1]: what came back of the sale {sku: units}; KEYS[2]: the return ids counted.
-- ARGV: ttl, return id, then sku, units pairs. A return id counts once.
if redis.call('HSETNX', KEYS[2], ARGV[2], 1) == 1 then
  for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
"""


class SaleMemory:
    def __init__(self, client: aioredis.Redis, prefix: str, horizon: timedelta) -> None:
        self._redis = client
        self._prefix = f"{prefix}:inv:" if prefix else "inv:"
        self._ttl = int(horizon.total_seconds())
        self._count_once: Any = client.register_script(COUNT_ONCE)

    def _sale(self, outlet_id: str, sale_id: str) -> str:
        return f"{self._prefix}sale:{outlet_id}:{sale_id}"

    def _back(self, outlet_id: str, sale_id: str) -> str:
        return f"{self._prefix}back:{outlet_id}:{sale_id}"

    def _counted(self, outlet_id: str, sale_id: str) -> str:
        return f"{self._prefix}back-ids:{outlet_id}:{sale_id}"

    async def remember(self, outlet_id: str, sales: list[pos.SaleRecorded]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for sale in sales:
                    note = Sold.note_of(sale, priced=True)
                    pipe.set(self._sale(outlet_id, sale.sale_id), note, ex=self._ttl)
                await pipe.execute()
        except RedisError as exc:
            log.warning("sales not remembered for their returns (the worker checks): %s", exc)

    async def lookup(
        self, outlet_id: str, sale_id: str, return_id: str
    ) -> tuple[Sold, dict[str, int], bool] | None:
        """What the sale sold, what came back of it, and whether this return is counted
        already (sent again); None when the sale is unknown here."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(self._sale(outlet_id, sale_id))
                pipe.hgetall(self._back(outlet_id, sale_id))
                pipe.hexists(self._counted(outlet_id, sale_id), return_id)
                raw, back, again = await pipe.execute()
        except RedisError as exc:
            log.warning("a return passes unchecked to the worker: %s", exc)
            return None
        sold = Sold.from_note(raw.decode()) if raw is not None else None
        if sold is None:
            return None
        return sold, {k.decode(): int(v) for k, v in back.items()}, bool(again)

    async def came_back(self, outlet_id: str, back: pos.SaleReturned) -> None:
        """What `back` brought counts against its sale, once per return id."""
        pairs: list[Any] = []
        for line in back.lines:
            pairs += [line.sku, line.qty]
        keys = [self._back(outlet_id, back.sale_id), self._counted(outlet_id, back.sale_id)]
        try:
            await self._count_once(keys=keys, args=[self._ttl, back.return_id, *pairs])
        except RedisError as exc:
            log.warning("a return not remembered (the worker checks the next): %s", exc)
