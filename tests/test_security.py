"""A key issued by the catalog works at every service, and once revoked is refused by
every service within seconds: each checks keys against its own view of `auth.keys`."""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from lumbung.catalog.bootstrap import issue_key_directly
from lumbung.catalog.settings import Settings as CatalogSettings
from lumbung.contracts import KeyRole, Registry

pytestmark = pytest.mark.broker
SERVICES = ("catalog", "inventory", "orders", "notifications", "dashboard")


@pytest.fixture
def clients(
    kafka_bootstrap: str, redis_url: str, registry: Registry
) -> Iterator[dict[str, TestClient]]:
    with ExitStack() as stack:
        clients = {}
        for name in SERVICES:
            bootstrap = importlib.import_module(f"lumbung.{name}.bootstrap")
            settings_module = importlib.import_module(f"lumbung.{name}.settings")
            settings = settings_module.Settings(
                kafka_bootstrap_servers=kafka_bootstrap,
                redis_url=redis_url,
                topic_prefix=registry.prefix,
            )
            clients[name] = stack.enter_context(TestClient(bootstrap.build_api(settings)))
        yield clients


def statuses_within(
    clients: dict[str, TestClient], key: str, wanted: int, seconds: float
) -> dict[str, int]:
    deadline = time.monotonic() + seconds
    seen: dict[str, int] = {}
    while time.monotonic() < deadline:
        seen = {
            name: c.get("/v1/whoami", headers={"X-API-Key": key}).status_code
            for name, c in clients.items()
        }
        if set(seen.values()) == {wanted}:
            break
        time.sleep(0.2)
    return seen


def test_a_revoked_key_is_refused_by_every_service_within_seconds(
    kafka_bootstrap: str, redis_url: str, registry: Registry, clients: dict[str, TestClient]
) -> None:
    settings = CatalogSettings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )
    ops = asyncio.run(issue_key_directly(settings, KeyRole.OPS, "*", "tests"))
    catalog = clients["catalog"]
    assert statuses_within({"catalog": catalog}, ops, 200, 10) == {"catalog": 200}
    issued = catalog.post(
        "/v1/keys", json={"role": "ops", "label": "booth laptop"}, headers={"X-API-Key": ops}
    ).json()

    assert statuses_within(clients, issued["key"], 200, 10) == dict.fromkeys(SERVICES, 200)

    catalog.delete(f"/v1/keys/{issued['key_id']}", headers={"X-API-Key": ops})

    assert statuses_within(clients, issued["key"], 401, 10) == dict.fromkeys(SERVICES, 401)


def test_requests_without_a_key_are_refused_everywhere(clients: dict[str, TestClient]) -> None:
    assert {name: c.get("/v1/whoami").status_code for name, c in clients.items()} == dict.fromkeys(
        SERVICES, 401
    )
