"""Fixtures of the notifications suite (the shared ones, inventory_api among them, come
from tests/support/fixtures.py): a real local HTTP receiver (webhooks and the
WhatsApp gateway) and SMTP server, the worker's settings pointing at them, suppliers whose
contacts lead there, and the notifications API in-process on the real broker and Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lumbung.contracts import Registry, SupplierChanged
from lumbung.notifications.plan import supplier_recipient, webhook_secret
from tests.support.fixtures import serving
from tests.support.receivers import Receiver, SmtpServer

SECRET = "notifications-test-secret"
OPS_EMAIL = "ops@lumbung.test"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.close()


@pytest.fixture
def notify_env(worker_env: dict[str, str], receiver: Receiver, smtp: SmtpServer) -> dict[str, str]:
    """The test's worker environment, with every channel pointing at the local receivers."""
    worker_env.update(
        {
            "LUMBUNG_SECRET_KEY": SECRET,
            "LUMBUNG_NOTIFICATIONS_PUBLIC_URL": "http://testserver",
            "LUMBUNG_NOTIFICATIONS_WHATSAPP_GATEWAY_URL": f"{receiver.url}/wa",
            "LUMBUNG_NOTIFICATIONS_WHATSAPP_GATEWAY_TOKEN": "gateway-token",
            "LUMBUNG_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "LUMBUNG_NOTIFICATIONS_SMTP_PORT": str(smtp.port),
            "LUMBUNG_NOTIFICATIONS_OPS_WEBHOOK_URL": f"{receiver.url}/ops",
            "LUMBUNG_NOTIFICATIONS_OPS_EMAIL": OPS_EMAIL,
            "LUMBUNG_NOTIFICATIONS_ATTEMPTS": "4",
            "LUMBUNG_NOTIFICATIONS_BACKOFF_S": "0.2",
            "LUMBUNG_NOTIFICATIONS_BACKOFF_MAX_S": "1",
            "LUMBUNG_NOTIFICATIONS_DIGEST_WINDOW_S": "2",
        }
    )
    return worker_env


class Suppliers:
    """Points demo suppliers' contacts at the local receivers, and raises restock requests
    for them the way inventory does."""

    def __init__(self, events: Any, receiver: Receiver) -> None:
        self.events = events
        self.receiver = receiver

    def point(self, supplier_id: str, language: str | None = None) -> str:
        """Give the supplier a webhook on the receiver; returns its path there."""
        from lumbung.catalog import demo

        body = dict(demo.suppliers())[supplier_id]
        path = f"/hook/{supplier_id}"
        body["contacts"] = {**body["contacts"], "webhook_url": f"{self.receiver.url}{path}"}
        if language:
            body["language"] = language
        supplier = SupplierChanged(
            supplier_id=supplier_id, version=99, changed_at=datetime.now().astimezone(), **body
        )
        self.events.send("catalog.suppliers", supplier_id, self.events.envelope(supplier))
        self.events.flush()
        return path

    def request(
        self, outlet_id: str, sku: str, supplier_id: str, qty: int = 24, event_id: Any = None
    ) -> tuple[str, bytes]:
        """A RestockRequested on restock.events; returns (restock_id, the raw event)."""
        return self.events.restock_requested(outlet_id, sku, supplier_id, qty, event_id)


@pytest.fixture
def suppliers(events: Any, receiver: Receiver, demo_catalog: dict[str, str]) -> Suppliers:
    return Suppliers(events, receiver)


def secret_of(supplier_id: str) -> str:
    return webhook_secret(SECRET, supplier_recipient(supplier_id))


@pytest.fixture
def notifications_api(
    kafka_bootstrap: str,
    redis_url: str,
    registry: Registry,
    ops_key: str,
    demo_catalog: dict[str, str],
    notify_env: dict[str, str],
) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from lumbung.notifications.bootstrap import build_api
    from lumbung.notifications.settings import Settings
    from lumbung.platform.clock import ShiftedClock

    settings = Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        redis_url=redis_url,
        topic_prefix=registry.prefix,
        secret_key=SECRET,
    )
    clock = ShiftedClock(Path(notify_env["LUMBUNG_CLOCK_FILE"]))
    with TestClient(build_api(settings, clock)) as client:
        client.headers["X-API-Key"] = ops_key
        deadline = time.monotonic() + 30
        while not serving(client.get("/readyz").json()) and time.monotonic() < deadline:
            time.sleep(0.2)
        yield client


def supplier_key(kafka_bootstrap: str, redis_url: str, registry: Registry, supplier: str) -> str:
    import asyncio

    from lumbung.catalog.bootstrap import issue_key_directly
    from lumbung.catalog.settings import Settings as CatalogSettings
    from lumbung.contracts import KeyRole

    settings = CatalogSettings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )
    return asyncio.run(issue_key_directly(settings, KeyRole.SUPPLIER, supplier, "tests"))


LATER = timedelta(days=4)
