"""The catalog API on fakes: an entity log and a read model in memory, a clock the test
sets, and callers named by their key (`ops`, `outlet:IDM-1`, `supplier:SUP-SARI`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header
from fastapi.testclient import TestClient

from lumbung.catalog.domain import Kind
from lumbung.catalog.entrypoints.api import install_error_mapping, routers
from lumbung.catalog.service import CatalogService
from lumbung.contracts.events.catalog import Revision
from lumbung.platform.auth import Principal, Role
from lumbung.platform.clock import WITA
from lumbung.platform.web import create_service_app

START = datetime(2026, 10, 1, 10, 0, tzinfo=WITA)


class MemoryLog:
    def __init__(self) -> None:
        self.written: list[tuple[str, str, Revision]] = []

    async def publish(self, logical_topic: str, key: str, entity: Revision, cause: str) -> None:
        self.written.append((logical_topic, key, entity))


class MemoryModel:
    def __init__(self) -> None:
        self.entities: dict[tuple[str, str], Revision] = {}

    async def get(self, kind: Kind, entity_id: str) -> Revision | None:
        return self.entities.get((kind.name, entity_id))

    async def all(self, kind: Kind) -> list[Revision]:
        return [e for (name, _), e in self.entities.items() if name == kind.name]

    async def put(self, kind: Kind, entity: Revision) -> None:
        self.entities[(kind.name, kind.id_of(entity))] = entity


async def caller(x_api_key: Annotated[str, Header()] = "ops") -> Principal:
    role, _, subject = x_api_key.partition(":")
    return Principal(f"key-{role}", Role(role), subject or "*")


class Catalog:
    """The API, with what it wrote and the time it reads (`now`, set by the test)."""

    def __init__(self) -> None:
        self.log = MemoryLog()
        self.model = MemoryModel()
        self.now = START
        self.service = CatalogService(
            self.log, self.model, lambda: self.now, issue=lambda: ("lmb_k_s", "k", "0" * 64)
        )
        app = create_service_app("catalog", routers=routers(Depends(caller)))
        install_error_mapping(app)
        app.state.catalog = self.service
        self.api = TestClient(app)

    def written_to(self, topic: str) -> list[Revision]:
        return [entity for t, _, entity in self.log.written if t == topic]
