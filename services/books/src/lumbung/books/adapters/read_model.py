"""The books read model in Redis, written by the books worker's projections and read by
the API (which also puts what it has just written, so an issue is seen by the payment
right after it).

    <prefix>:books:ledger:<outlet>|<month>|<supplier>   a `domain.Ledger` as JSON
    <prefix>:books:period:<month>                       set of "<outlet>|<supplier>"
    <prefix>:books:periods                              set of months with a ledger
    <prefix>:books:issued:<number>                      the StatementIssued data (+ when)
    <prefix>:books:payments:<number>                    hash payment_id -> payment JSON
    <prefix>:books:built                                set once everything was projected

Ledgers come from the books worker's changelog (its committed state), statements and
payments from `books.events`; after a Redis wipe the worker reads both again. A ledger
lands only when its version is newer, an issue and a payment only once (the first wins),
so replays and a rebuild beside the live projections never move the model backwards.
(Report profiles and imports are the API's own view of `books.reports`: ReportsView.)
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from redis import asyncio as aioredis

from lumbung.contracts import ContractError, Registry
from lumbung.contracts.events import books
from lumbung.platform.cache import as_text

log = logging.getLogger(__name__)

PUT_IF_NEWER = """
local prefix = ARGV[1]
for _, c in ipairs(cjson.decode(ARGV[2])) do
  local key = prefix .. 'ledger:' .. c[1] .. '|' .. c[2] .. '|' .. c[3]
  local current = redis.call('GET', key)
  if (not current) or cjson.decode(current)['v'] < c[4] then
    redis.call('SET', key, c[5])
  end
  redis.call('SADD', prefix .. 'period:' .. c[2], c[1] .. '|' .. c[3])
  redis.call('SADD', prefix .. 'periods', c[2])
end
"""


class BooksReadModel:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.redis = client
        self._base = f"{prefix}:books:" if prefix else "books:"
        self._put_if_newer: Any = client.register_script(PUT_IF_NEWER)

    async def put_ledgers(self, records: list[Any]) -> None:
        """Records of the books worker's changelog; keys other than ledgers are skipped."""
        rows = []
        for record in records:
            if record.value is None or not record.key.startswith(b"b|"):
                continue
            _, outlet, month, supplier = record.key.decode().split("|")
            value = orjson.loads(record.value)
            rows.append([outlet, month, supplier, value["v"], record.value.decode()])
        if rows:
            await self._put_if_newer(keys=[], args=[self._base, orjson.dumps(rows)])

    async def put_events(self, registry: Registry, records: list[Any]) -> None:
        """Records of `books.events`."""
        for record in records:
            try:
                event = registry.parse(record.value or b"")
            except ContractError as exc:  # written by this service's API: logged, not fatal
                log.warning("skipped an unreadable record on books.events: %r", exc)
                continue
            await self.put_event(event)

    async def put_event(self, event: Any) -> None:
        data = event.data
        stamp = {"event_id": str(event.event_id), "at": event.occurred_at.isoformat()}
        if isinstance(data, books.StatementIssued):
            raw = orjson.dumps(data.model_dump(mode="json") | stamp)
            await self.redis.set(f"{self._base}issued:{data.number}", raw, nx=True)
        elif isinstance(data, books.PaymentRecorded):
            raw = orjson.dumps(data.model_dump(mode="json") | stamp)
            await self.redis.hsetnx(f"{self._base}payments:{data.number}", data.payment_id, raw)

    async def outlet_ledgers(self, outlet_id: str, month: str) -> list[dict[str, Any]]:
        """Every supplier's ledger of the outlet in the month."""
        found = []
        for outlet, supplier in await self.pairs(month):
            if outlet == outlet_id:
                ledger = await self.ledger(outlet, month, supplier)
                if ledger is not None:
                    found.append(ledger)
        return found

    async def ledger(self, outlet_id: str, month: str, supplier_id: str) -> dict[str, Any] | None:
        raw = await self.redis.get(f"{self._base}ledger:{outlet_id}|{month}|{supplier_id}")
        return None if raw is None else dict(orjson.loads(raw))

    async def periods(self) -> list[str]:
        return sorted(as_text(p) for p in await self.redis.smembers(f"{self._base}periods"))

    async def pairs(self, month: str) -> list[tuple[str, str]]:
        """(outlet, supplier) of every ledger of the month."""
        members = await self.redis.smembers(f"{self._base}period:{month}")
        pairs = (as_text(m).split("|", 1) for m in members)
        return sorted((outlet, supplier) for outlet, supplier in pairs)

    async def issued(self, number: str) -> dict[str, Any] | None:
        raw = await self.redis.get(f"{self._base}issued:{number}")
        return None if raw is None else dict(orjson.loads(raw))

    async def payments(self, number: str) -> list[dict[str, Any]]:
        raw = await self.redis.hgetall(f"{self._base}payments:{number}")
        found = [orjson.loads(v) for v in raw.values()]
        return sorted(found, key=lambda p: (p["paid_at"], p["payment_id"]))

    async def is_built(self) -> bool:
        return bool(await self.redis.exists(f"{self._base}built"))

    async def mark_built(self) -> None:
        await self.redis.set(f"{self._base}built", 1)
