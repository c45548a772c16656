"""The stock read model in Redis, fed by `inventory.stock` (the ledger).

Per outlet a hash SKU → stock JSON, per SKU a hash outlet → stock JSON, per (outlet,
SKU) the newest ledger lines, and per (outlet, day in WITA) the units sold of each SKU
(what a new booth's opening stock is suggested from, `opening.py`). A change lands only
when its version is newer than what is there, checked inside Redis, so redeliveries,
replays and a rebuild running beside the live projector can never move the model
backwards. Everything here is rebuilt from Kafka.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

import orjson
import redis.asyncio as aioredis

from lumbung.contracts import Registry
from lumbung.platform.cache import as_text
from lumbung.platform.clock import WITA
from lumbung.platform.kernel import read_to_end

log = logging.getLogger(__name__)
Change = tuple[dict[str, Any], str, str, str]
"""StockChanged's data, its event id, its causation id, and its day in WITA."""
LEDGER_LENGTH = 200
STOCK_CHANGED = "inventory.StockChanged"

APPLY_IF_NEWER = """
local prefix, keep = ARGV[1], tonumber(ARGV[2])
local applied = 0
for _, c in ipairs(cjson.decode(ARGV[3])) do
  local outlet_key = prefix .. 'outlet:' .. c[1]
  local current = redis.call('HGET', outlet_key, c[2])
  if (not current) or cjson.decode(current)['version'] < c[3] then
    redis.call('HSET', outlet_key, c[2], c[4])
    redis.call('HSET', prefix .. 'sku:' .. c[2], c[1], c[4])
    local ledger = prefix .. 'ledger:' .. c[1] .. ':' .. c[2]
    redis.call('LPUSH', ledger, c[5])
    redis.call('LTRIM', ledger, 0, keep - 1)
    if c[7] > 0 then
      redis.call('HINCRBY', prefix .. 'sold:' .. c[1] .. ':' .. c[6], c[2], c[7])
    end
    applied = applied + 1
  end
end
return applied
"""
"""One call per batch: Redis loops over the changes, Python does not pack a command each."""


class StockReadModel:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = f"{prefix}:inv:" if prefix else "inv:"
        self._apply: Any = client.register_script(APPLY_IF_NEWER)

    def _outlet_key(self, outlet_id: str) -> str:
        return f"{self._prefix}outlet:{outlet_id}"

    def _sku_key(self, sku: str) -> str:
        return f"{self._prefix}sku:{sku}"

    def _ledger_key(self, outlet_id: str, sku: str) -> str:
        return f"{self._prefix}ledger:{outlet_id}:{sku}"

    @property
    def built_marker(self) -> str:
        return f"{self._prefix}built"

    async def apply(self, changes: list[Change]) -> int:
        """Apply (StockChanged's data, event id, causation id, day) changes; returns how
        many were newer. A sale's units are added to its day's tally only when its change
        is newer, so a redelivery or a replay does not count them twice."""
        if not changes:
            return 0
        rows = []
        for change, event_id, cause, day in changes:
            stock = orjson.dumps(
                {
                    "outlet_id": change["outlet_id"],
                    "sku": change["sku"],
                    "on_hand": change["on_hand"],
                    "reserved": change["reserved"],
                    "available": change["available"],
                    "version": change["version"],
                }
            ).decode()
            ledger = orjson.dumps(
                {
                    "version": change["version"],
                    "delta": change["delta"],
                    "reason": change["reason"],
                    "on_hand": change["on_hand"],
                    "reserved": change["reserved"],
                    "event_id": event_id,
                    "causation_id": cause,
                }
            ).decode()
            sold = -change["delta"] if change["reason"] == "sale" and change["delta"] < 0 else 0
            rows.append(
                [change["outlet_id"], change["sku"], change["version"], stock, ledger, day, sold]
            )
        applied = await self._apply(keys=[], args=[self._prefix, LEDGER_LENGTH, orjson.dumps(rows)])
        return int(applied)

    async def outlet(self, outlet_id: str) -> dict[str, dict[str, Any]]:
        raw = await self._redis.hgetall(self._outlet_key(outlet_id))
        return {as_text(k): orjson.loads(v) for k, v in sorted(raw.items())}

    async def sku(self, sku: str) -> dict[str, dict[str, Any]]:
        raw = await self._redis.hgetall(self._sku_key(sku))
        return {as_text(k): orjson.loads(v) for k, v in sorted(raw.items())}

    async def ledger(
        self, outlet_id: str, sku: str, limit: int = LEDGER_LENGTH
    ) -> list[dict[str, Any]]:
        raw = await self._redis.lrange(self._ledger_key(outlet_id, sku), 0, limit - 1)
        return [orjson.loads(line) for line in raw]

    async def sold(self, outlet_id: str, day: date) -> dict[str, int]:
        """Units sold of each SKU at the outlet on `day` (WITA)."""
        raw = await self._redis.hgetall(f"{self._prefix}sold:{outlet_id}:{day.isoformat()}")
        return {as_text(k): int(v) for k, v in raw.items()}

    async def is_built(self) -> bool:
        return bool(await self._redis.exists(self.built_marker))

    async def mark_built(self) -> None:
        await self._redis.set(self.built_marker, b"1")

    async def dump(self) -> dict[str, Any]:
        """Every outlet and SKU hash, for comparing a rebuild with the original."""
        out: dict[str, Any] = {}
        async for key in self._redis.scan_iter(match=f"{self._prefix}*", count=1000):
            if await self._redis.type(key) == b"hash":
                out[as_text(key)] = await self._redis.hgetall(key)
        return out


def parse_changes(records: list[Any]) -> list[Change]:
    """The StockChanged records of a batch of `inventory.stock`, read with orjson alone:
    this service wrote them through its contracts, and the projection is off the worker's
    hot loop but on its core (a second pydantic pass cost as much as the first)."""
    changes = []
    for record in records:
        try:
            event = orjson.loads(record.value)
            if event["event_type"] != STOCK_CHANGED:
                continue
            data = event["data"]
            day = datetime.fromisoformat(event["occurred_at"]).astimezone(WITA).date()
            cause = event.get("causation_id") or ""
            changes.append((data, event["event_id"], cause, day.isoformat()))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            log.warning("skipped an unreadable record on inventory.stock: %r", exc)
    return changes


async def rebuild(bootstrap_servers: str, registry: Registry, model: StockReadModel) -> int:
    """Read the whole ledger topic from the beginning into the read model."""
    applied = 0

    async def apply(records: list[Any]) -> None:
        nonlocal applied
        applied += await model.apply(parse_changes(records))

    topic = registry.name("inventory.stock")
    await read_to_end(bootstrap_servers, topic, registry.spec("inventory.stock").partitions, apply)
    await model.mark_built()
    return applied
