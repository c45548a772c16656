"""The catalog read model in Redis: one hash per kind, entity id → entity JSON.

A write lands only when it is newer than what is there (checked inside Redis by a small
script), so the API and the projector can both write without undoing each other.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from lumbung.catalog.domain import Kind
from lumbung.contracts.events.catalog import Revision

PUT_IF_NEWER = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local version = cjson.decode(current)['version']
  if version >= tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


class RedisReadModel:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = f"{prefix}:" if prefix else ""
        self._put: Any = client.register_script(PUT_IF_NEWER)

    def key(self, kind: Kind) -> str:
        return f"{self._prefix}catalog:{kind.plural}"

    @property
    def built_marker(self) -> str:
        return f"{self._prefix}catalog:built"

    async def get(self, kind: Kind, entity_id: str) -> Revision | None:
        raw = await self._redis.hget(self.key(kind), entity_id)
        return None if raw is None else kind.changed.model_validate_json(raw)

    async def all(self, kind: Kind) -> list[Revision]:
        values = await self._redis.hvals(self.key(kind))
        return [kind.changed.model_validate_json(raw) for raw in values]

    async def put(self, kind: Kind, entity: Revision) -> None:
        await self._put(
            keys=[self.key(kind)],
            args=[kind.id_of(entity), entity.model_dump_json(), entity.version],
        )

    async def is_built(self) -> bool:
        return bool(await self._redis.exists(self.built_marker))

    async def mark_built(self) -> None:
        await self._redis.set(self.built_marker, b"1")

    async def dump(self) -> dict[str, Any]:
        """Everything in the read model, for comparing a rebuild with the original."""
        out = {}
        for kind_key in await self._redis.keys(f"{self._prefix}catalog:*"):
            if await self._redis.type(kind_key) == b"hash":
                out[str(kind_key)] = await self._redis.hgetall(kind_key)
        return out
