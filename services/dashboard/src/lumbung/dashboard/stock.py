"""The inventory service's stock read model in Redis, read the way its owner publishes it
(`lumbung.inventory.adapters.read_model`): per outlet a hash SKU -> the stock as JSON
with its `version`. The dashboard only reads it."""

from __future__ import annotations

from typing import Any

import orjson
import redis.asyncio as aioredis

from lumbung.platform.cache import as_text


class StockReader:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = f"{prefix}:inv:outlet:" if prefix else "inv:outlet:"
        self._built = f"{prefix}:inv:built" if prefix else "inv:built"

    async def is_built(self) -> bool:
        """Whether inventory has (re)built the model since Redis last lost it."""
        return bool(await self._redis.exists(self._built))

    async def outlets(self, outlet_ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        pipe = self._redis.pipeline(transaction=False)
        for outlet_id in outlet_ids:
            pipe.hgetall(self._prefix + outlet_id)
        found = await pipe.execute()
        return {
            outlet_id: {as_text(sku): orjson.loads(raw) for sku, raw in cells.items()}
            for outlet_id, cells in zip(outlet_ids, found, strict=True)
            if cells
        }
