"""Other services keep their own catalog view: a write at the catalog reaches it."""

from __future__ import annotations

import asyncio
import time
from datetime import date

import pytest
from fastapi.testclient import TestClient

from lumbung.catalog import demo
from lumbung.catalog.bootstrap import build_api, issue_key_directly
from lumbung.catalog.settings import Settings
from lumbung.contracts import KeyRole, Registry
from lumbung.platform.views import CatalogView

pytestmark = pytest.mark.broker


async def eventually(check: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_service_view_follows_catalog_writes(
    kafka_bootstrap: str, redis_url: str, registry: Registry
) -> None:
    settings = Settings(
        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url, topic_prefix=registry.prefix
    )
    key = await issue_key_directly(settings, KeyRole.OPS, "*", "tests")
    view = CatalogView(kafka_bootstrap, registry, "inventory")
    await view.start()
    try:

        def write() -> None:
            with TestClient(build_api(settings)) as client:
                client.headers["X-API-Key"] = key
                for collection, entity_id, body in demo.catalog(date(2026, 11, 20))[:14]:
                    assert client.put(f"/v1/{collection}/{entity_id}", json=body).is_success
                client.delete("/v1/products/AMPLANG-MINI-100")

        await asyncio.to_thread(write)

        assert await eventually(lambda: view.knows_sku("AMPLANG-IKAN-250"))
        assert await eventually(lambda: view.products.get("AMPLANG-MINI-100").retired)  # type: ignore[union-attr]
        assert view.knows_sku("AMPLANG-MINI-100")
        assert not view.knows_sku("NEVER-HEARD-OF")
        assert view.suppliers.get("SUP-SARI").contacts.whatsapp == "+6281250011001"  # type: ignore[union-attr]
    finally:
        await view.stop()
