"""The security rules every service shares, each tested at every service (docs/SECURITY.md
lists each rule with its test, these and the ones in the services' own suites):

- a key issued by the catalog works at every service, and once revoked is refused by every
  service within seconds (each checks keys against its own view of `auth.keys`);
- requests without a key are refused;
- an oversized body is refused with 413, whether it announces its length or comes in
  chunks without one, and an oversized batch of sales with 422;
- outside development, a service refuses to start with the default or an empty secret."""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from lumbung.catalog.bootstrap import issue_key_directly
from lumbung.catalog.settings import Settings as CatalogSettings
from lumbung.contracts import KeyRole, Registry

pytestmark = pytest.mark.broker
SERVICES = ("catalog", "inventory", "orders", "notifications", "books", "dashboard")


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


# A route of each service that reads a body (the dashboard has none that does).
WRITES = {
    "catalog": ("PUT", "/v1/products/BIG"),
    "inventory": ("POST", "/v1/outlets/IKN-01/sales"),
    "orders": ("POST", "/v1/orders"),
    "notifications": ("POST", "/v1/restocks/RS-1/accept"),
    "books": ("POST", "/v1/statements/ST-2026-11-SUP-A-OUTLET-B/payments"),
    "dashboard": ("POST", "/v1/board"),
}
TOO_BIG = 2 * 1024 * 1024


@pytest.fixture
def ops(kafka_bootstrap: str, redis_url: str, registry: Registry) -> str:
    settings = CatalogSettings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )
    return asyncio.run(issue_key_directly(settings, KeyRole.OPS, "*", "tests"))


def test_an_oversized_body_is_refused_everywhere_by_its_length(
    clients: dict[str, TestClient], ops: str
) -> None:
    statuses = {
        name: clients[name]
        .request(
            method,
            path,
            content=b"{" + b" " * TOO_BIG + b"}",
            headers={"X-API-Key": ops, "Content-Type": "application/json"},
        )
        .status_code
        for name, (method, path) in WRITES.items()
    }
    assert statuses == dict.fromkeys(SERVICES, 413)


def test_an_oversized_body_in_chunks_without_a_length_is_refused_too(
    clients: dict[str, TestClient], ops: str
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"{"
        for _ in range(TOO_BIG // 65536):
            yield b" " * 65536
        yield b" }"

    statuses = {}
    for name, (method, path) in WRITES.items():
        if name == "dashboard":
            continue  # no route of it reads a body
        answer = clients[name].request(
            method,
            path,
            content=chunks(),
            headers={"X-API-Key": ops, "Content-Type": "application/json"},
        )
        assert "content-length" not in {k.lower() for k in answer.request.headers}
        statuses[name] = (answer.status_code, "larger than" in answer.text)
    assert statuses == dict.fromkeys(set(SERVICES) - {"dashboard"}, (413, True))


def test_an_oversized_batch_of_sales_is_refused_and_names_the_field(
    clients: dict[str, TestClient], ops: str
) -> None:
    from lumbung.inventory.entrypoints.api import MAX_BATCH

    sale = {
        "lines": [{"sku": "KOPI-LIBERIKA-200", "qty": 1, "unit_price_idr": 15000}],
        "sold_at": "2026-11-29T10:00:00+08:00",
    }
    batch = {"sales": [{**sale, "sale_id": f"S-{n}"} for n in range(MAX_BATCH + 1)]}

    answer = clients["inventory"].post(
        "/v1/outlets/IKN-01/sales", json=batch, headers={"X-API-Key": ops}
    )

    assert answer.status_code == 422
    # The body is one sale or a batch: the batch's complaint names its field and limit.
    errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert "at most 500" in errors["SalesIn.sales"]


@pytest.mark.parametrize("secret", ["", "dev-only-change-me"])
@pytest.mark.parametrize("service", SERVICES)
def test_outside_development_a_service_refuses_to_start_with_a_default_secret(
    service: str, secret: str
) -> None:
    env = {
        **os.environ,
        "LUMBUNG_ENVIRONMENT": "production",
        "LUMBUNG_SECRET_KEY": secret,
        f"LUMBUNG_{service.upper()}_HTTP_PORT": "1",  # never bound: it must stop before
    }
    started = subprocess.run(
        [sys.executable, "-m", f"lumbung.{service}", "api"],
        env=env,
        capture_output=True,
        timeout=60,
    )

    assert started.returncode != 0
    assert b"LUMBUNG_SECRET_KEY must be set to a real secret" in started.stderr + started.stdout


# Every route that reads its body itself (a CSV file) rather than through a model.
READ_BY_HAND = {
    "catalog": "/v1/import/products",
    "inventory": "/v1/outlets/IKN-01/counts/import",
}


@pytest.mark.parametrize("service", sorted(READ_BY_HAND))
def test_a_20_mb_chunked_body_to_a_route_that_reads_it_by_hand_is_refused_with_413(
    clients: dict[str, TestClient], ops: str, service: str
) -> None:
    # Issue 15: these answered 500 (ClientDisconnect escaped from request.body()).
    def chunks() -> Iterator[bytes]:
        yield b"sku;counted\n"
        for _ in range(20 * 16):
            yield b"KOPI-LIBERIKA-200;1\n" * 3277  # 64 KiB a chunk, 20 MiB in all

    answer = clients[service].post(
        READ_BY_HAND[service],
        content=chunks(),
        headers={"X-API-Key": ops, "Content-Type": "text/csv"},
    )

    assert "content-length" not in {k.lower() for k in answer.request.headers}
    assert (answer.status_code, "larger than" in answer.text) == (413, True)
