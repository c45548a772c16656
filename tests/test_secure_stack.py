"""The local stack with credentials (`stack/stack.py up --secure`): Kafka accepts only
SASL/SCRAM logins and Redis only clients with its password. A client without them is
refused by both, and the system connects with them: a sale goes through the inventory API
(publisher), the catalog view, the inventory worker (faust) into the Redis read model."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import redis
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from lumbung.contracts import Registry
from lumbung.platform.broker import ensure_topics
from lumbung.platform.clock import WITA
from tests.support.fixtures import ApiProcess, PrivateStack, ReadModel, Worker

pytestmark = pytest.mark.broker


@pytest.fixture(scope="module")
def secure_stack() -> Iterator[PrivateStack]:
    stack = PrivateStack(secure=True).up()
    yield stack
    stack.down()


def test_kafka_and_redis_refuse_a_client_without_credentials(secure_stack: PrivateStack) -> None:
    env = secure_stack.env
    with pytest.raises(KafkaError):  # refused, it fails when its bootstrap gives up
        KafkaAdminClient(
            bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
            request_timeout_ms=3000,
            bootstrap_timeout_ms=5000,  # 30 s by default; with the login it takes < 1 s
        ).list_topics()
    address = env["REDIS_URL"].rsplit("@", 1)[-1].split("/")[0]
    host, port = address.split(":")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=host, port=int(port)).ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=host, port=int(port), password="wrong").ping()

    assert redis.Redis.from_url(env["REDIS_URL"]).ping()
    admin = KafkaAdminClient(
        bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_plain_username=env["LUMBUNG_KAFKA_USERNAME"],
        sasl_plain_password=env["LUMBUNG_KAFKA_PASSWORD"],
    )
    assert "pos.sales" in admin.list_topics()
    admin.close()


def test_the_services_connect_with_the_credentials_and_a_sale_reaches_the_read_model(
    secure_stack: PrivateStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lumbung.catalog import demo
    from lumbung.catalog.bootstrap import issue_key_directly
    from lumbung.catalog.settings import Settings as CatalogSettings
    from lumbung.contracts import KeyRole

    for key, value in secure_stack.env.items():
        monkeypatch.setenv(key, value)  # this process's own clients (topics, the key)
    registry = Registry(prefix="tsecure")
    ensure_topics(secure_stack.env["KAFKA_BOOTSTRAP_SERVERS"], registry)
    env = {
        **os.environ,
        "LUMBUNG_TOPIC_PREFIX": registry.prefix,
        "LUMBUNG_DATA_DIR": str(tmp_path / "data"),
        "LUMBUNG_LOG_LEVEL": "WARNING",
    }
    ops = asyncio.run(
        issue_key_directly(
            CatalogSettings(
                kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
                redis_url=env["REDIS_URL"],
                topic_prefix=registry.prefix,
            ),
            KeyRole.OPS,
            "*",
            "tests",
        )
    )
    catalog = ApiProcess("catalog", env, tmp_path / "catalog.log")
    inventory = ApiProcess("inventory", env, tmp_path / "inventory.log")
    worker = Worker(env, tmp_path / "worker.log", "inventory")
    try:
        catalog.launch()  # the two APIs and the worker start side by side
        inventory.launch()
        worker.start()
        catalog.wait_ready()
        inventory.wait_ready()
        headers = {"X-API-Key": ops}
        for collection, entity_id, body in demo.catalog(datetime.now(WITA).date()):
            answer = httpx.put(
                f"{catalog.url}/v1/{collection}/{entity_id}", json=body, headers=headers
            )
            assert answer.is_success, answer.text
        outlet = f"{inventory.url}/v1/outlets/IKN-01"
        deadline = time.monotonic() + 60
        while True:  # the inventory API learns the catalog through its view
            counted = httpx.post(
                f"{outlet}/counts",
                headers=headers,
                json={
                    "count_id": "OPEN-1",
                    "kind": "opening",
                    "lines": [{"sku": "KOPI-LIBERIKA-200", "counted": 20}],
                },
            )
            if counted.status_code == 202 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert counted.status_code == 202, counted.text
        sale = {
            "sale_id": "S-1",
            "sold_at": datetime.now(WITA).isoformat(),
            "lines": [{"sku": "KOPI-LIBERIKA-200", "qty": 3, "unit_price_idr": 45000}],
        }

        stock = ReadModel(env["REDIS_URL"], registry.prefix)

        def on_hand() -> int | None:
            return stock.outlet("IKN-01").get("KOPI-LIBERIKA-200", {}).get("on_hand")

        deadline = time.monotonic() + 60
        while on_hand() != 20 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert httpx.post(f"{outlet}/sales", headers=headers, json=sale).status_code == 202
        while on_hand() != 17 and time.monotonic() < deadline + 60:
            time.sleep(0.2)
        assert on_hand() == 17
    finally:
        worker.stop()
        inventory.stop()
        catalog.stop()
