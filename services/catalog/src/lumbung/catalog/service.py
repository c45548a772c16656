"""The catalog's use cases: write an entity, retire it, read and list, issue and revoke keys.

Writes are accepted only once Kafka acknowledged them; then the read model is updated at
once so that a read right after a write sees it. One catalog API process serialises the
writes of a kind with a lock, which is what makes `If-Match` a real compare-and-set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lumbung.catalog.domain import (
    CALENDAR,
    KINDS,
    OUTLET,
    PRODUCT,
    SUPPLIER,
    BadReference,
    Kind,
    NotFound,
    details_of,
    next_revision,
)
from lumbung.catalog.spreadsheet import SHEETS, Report, read
from lumbung.contracts import ApiKeyChanged, KeyRole
from lumbung.contracts.events.catalog import OutletDetails, ProductDetails, Revision
from lumbung.contracts.events.common import Payload

KEYS_TOPIC = "auth.keys"


class EntityLog(Protocol):
    async def publish(self, logical_topic: str, key: str, entity: Revision, cause: str) -> None:
        """Returns once Kafka acknowledged the write (acks=all)."""


class ReadModel(Protocol):
    async def get(self, kind: Kind, entity_id: str) -> Revision | None: ...

    async def all(self, kind: Kind) -> list[Revision]: ...

    async def put(self, kind: Kind, entity: Revision) -> None: ...


class KeyIssuer(Protocol):
    def __call__(self) -> tuple[str, str, str]:
        """A new key: (plain key, key id, secret hash)."""


@dataclass(frozen=True)
class Filters:
    supplier_id: str | None = None
    channel: str | None = None
    calendar_id: str | None = None
    active_at: datetime | None = None
    include_retired: bool = False


class CatalogService:
    def __init__(
        self,
        log: EntityLog,
        model: ReadModel,
        now: Callable[[], datetime],
        issue: KeyIssuer,
        on_key: Callable[[ApiKeyChanged], None] = lambda _: None,
    ) -> None:
        self._log = log
        self._model = model
        self._now = now
        self._issue = issue
        self._on_key = on_key
        self._locks = {kind.name: asyncio.Lock() for kind in KINDS}
        self._keys: dict[str, ApiKeyChanged] = {}

    async def put(
        self, kind: Kind, entity_id: str, details: Payload, if_match: int | None
    ) -> tuple[Revision, bool]:
        """Create or replace; returns the entity and whether it was created."""
        await self._check_references(details)
        async with self._locks[kind.name]:
            current = await self._model.get(kind, entity_id)
            entity = next_revision(kind, entity_id, details, current, if_match, self._now())
            await self._log.publish(kind.topic, entity_id, entity, cause=f"put:{kind.name}")
            await self._model.put(kind, entity)
        return entity, current is None

    async def retire(self, kind: Kind, entity_id: str, if_match: int | None) -> Revision:
        async with self._locks[kind.name]:
            current = await self.get(kind, entity_id)
            entity = next_revision(
                kind,
                entity_id,
                details_of(kind, current),
                current,
                if_match,
                self._now(),
                retired=True,
            )
            await self._log.publish(kind.topic, entity_id, entity, cause=f"retire:{kind.name}")
            await self._model.put(kind, entity)
        return entity

    async def get(self, kind: Kind, entity_id: str) -> Revision:
        entity = await self._model.get(kind, entity_id)
        if entity is None:
            raise NotFound(kind, entity_id)
        return entity

    async def find(
        self, kind: Kind, filters: Filters, offset: int, limit: int
    ) -> tuple[list[Revision], int]:
        matching = [e for e in await self._model.all(kind) if _matches(e, filters)]
        matching.sort(key=kind.id_of)
        return matching[offset : offset + limit], len(matching)

    async def _check_references(self, details: Payload) -> None:
        if isinstance(details, ProductDetails):
            await self._must_exist(SUPPLIER, details.supplier_id, "supplier_id")
        if isinstance(details, OutletDetails):
            for i, item in enumerate(details.assortment):
                await self._must_exist(PRODUCT, item.sku, f"assortment.{i}.sku")
            if details.calendar_id is not None:
                await self._must_exist(CALENDAR, details.calendar_id, "calendar_id")

    async def _must_exist(self, kind: Kind, entity_id: str, field: str) -> None:
        entity = await self._model.get(kind, entity_id)
        if entity is None or entity.retired:
            raise BadReference(field, f"{field}: no active {kind.name} {entity_id!r}")

    async def import_sheet(self, sheet: str, data: bytes, dry_run: bool) -> Report:
        """Write every valid row of a spreadsheet; list the others. A dry run writes nothing.

        Each row is one whole entity write, so a row is in or out, never half-written.
        """
        report = Report(sheet, dry_run)
        kind = SHEETS[sheet].kind
        for row in read(sheet, data, report):
            try:
                await self._check_references(row.details)
            except BadReference as exc:
                report.refuse(row.number, str(exc))
                continue
            if not dry_run:
                await self.put(kind, row.entity_id, row.details, None)
            report.imported.append(row.entity_id)
        report.problems.sort(key=lambda problem: int(problem["row"]))
        return report

    # -- keys -----------------------------------------------------------------------

    async def issue_key(self, role: KeyRole, subject: str, label: str) -> tuple[str, ApiKeyChanged]:
        if role is KeyRole.OPS:
            subject = "*"
        else:
            await self._must_exist(
                OUTLET if role is KeyRole.OUTLET else SUPPLIER, subject, "subject"
            )
        plain, key_id, secret_hash = self._issue()
        record = ApiKeyChanged(
            key_id=key_id,
            role=role,
            subject=subject,
            secret_hash=secret_hash,
            label=label,
            version=1,
            changed_at=self._now(),
        )
        await self._log.publish(KEYS_TOPIC, key_id, record, cause="issue:key")
        self.key_changed(record)
        return plain, record

    async def revoke_key(self, key_id: str) -> ApiKeyChanged:
        current = self._keys.get(key_id)
        if current is None:
            raise BadReference("key_id", f"no key {key_id!r}")
        record = current.model_copy(
            update={"retired": True, "version": current.version + 1, "changed_at": self._now()}
        )
        await self._log.publish(KEYS_TOPIC, key_id, record, cause="revoke:key")
        self.key_changed(record)
        return record

    def key_changed(self, record: ApiKeyChanged) -> None:
        current = self._keys.get(record.key_id)
        if current is None or record.version >= current.version:
            self._keys[record.key_id] = record
            self._on_key(record)

    def api_keys(self) -> list[ApiKeyChanged]:
        return sorted(self._keys.values(), key=lambda k: k.key_id)


def _matches(entity: Any, filters: Filters) -> bool:
    if entity.retired and not filters.include_retired:
        return False
    checks = (
        (filters.supplier_id, "supplier_id"),
        (filters.channel, "channel"),
        (filters.calendar_id, "calendar_id"),
    )
    for wanted, field in checks:
        if wanted is not None and getattr(entity, field, None) != wanted:
            return False
    if filters.active_at is not None:
        if getattr(entity, "active", True) is False:
            return False
        open_at = getattr(entity, "open_at", None)
        if open_at is not None and not open_at(filters.active_at):
            return False
        if (
            hasattr(entity, "ends_at")
            and not entity.starts_at <= filters.active_at < entity.ends_at
        ):
            return False
    return True
