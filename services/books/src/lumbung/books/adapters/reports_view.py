"""The books API's own copy of `books.reports` (compacted, small): the retailers' report
profiles and the reports imported, read from Kafka at start and followed, so an import
knows its profile and whether its report came before without waiting for Redis."""

from __future__ import annotations

import logging
from typing import Any

from lumbung.contracts import ContractError, Registry
from lumbung.contracts.events import books
from lumbung.platform.views import Follower

log = logging.getLogger(__name__)


class ReportsView:
    def __init__(self, bootstrap_servers: str, registry: Registry) -> None:
        self.registry = registry
        self.profiles: dict[str, books.ReportProfileSaved] = {}
        self.reports: dict[str, books.ReportImported] = {}
        self._follower = Follower(bootstrap_servers, registry, ["books.reports"], self._handle)
        self.caught_up = self._follower.caught_up

    def _handle(self, _: str, value: bytes) -> None:
        try:
            self.put(self.registry.parse(value).data)
        except ContractError as exc:  # written by this service's API: logged, not fatal
            log.warning("skipped an unreadable record on books.reports: %r", exc)

    def put(self, data: Any) -> None:
        """A profile replaces the one before; a report is imported once (the first wins)."""
        if isinstance(data, books.ReportProfileSaved):
            self.profiles[data.retailer] = data
        elif isinstance(data, books.ReportImported):
            self.reports.setdefault(data.report_id, data)

    async def start(self) -> None:
        await self._follower.start()

    async def stop(self) -> None:
        await self._follower.stop()
