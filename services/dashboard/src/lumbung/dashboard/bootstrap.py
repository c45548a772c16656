"""The one place that builds clients and wires the dashboard service together."""

from __future__ import annotations

from fastapi import FastAPI

from lumbung.dashboard.asyncapi import AsyncApiDocument
from lumbung.dashboard.entrypoints import asyncapi
from lumbung.dashboard.entrypoints.api import routers
from lumbung.dashboard.hub import Hub
from lumbung.dashboard.inventory import InventoryApi
from lumbung.dashboard.settings import Settings
from lumbung.dashboard.stock import StockReader
from lumbung.platform.clock import Clock, clock_from_env
from lumbung.platform.kit import ServiceKit
from lumbung.platform.readiness import read_model_built
from lumbung.platform.views import CatalogView

SERVICE = "dashboard"


def build_api(settings: Settings, clock: Clock | None = None) -> FastAPI:
    clock = clock or clock_from_env()
    kit = ServiceKit(SERVICE, settings)
    catalog = CatalogView(settings.kafka_bootstrap_servers, kit.registry, SERVICE)
    hub = Hub(settings.kafka_bootstrap_servers, kit.registry, clock.now)
    stock = StockReader(kit.redis, kit.registry.prefix)
    inventory = InventoryApi(settings.inventory_url)

    async def consumer() -> bool:
        return hub.assigned() and hub.caught_up.is_set()

    app = kit.app(
        description="Dashboard: the live ops dashboard — stock across every outlet, alerts, "
        "orders waiting for pickup and restocks, as they happen.",
        routers=[*routers(kit.keys), asyncapi.router],
        # The grid's stock is inventory's read model, kept by inventory's workers.
        readiness={
            "catalog": catalog.ready(),
            "consumer": consumer,
            "read_model": read_model_built(stock.is_built, "inventory's stock read model"),
            "workers": kit.workers_of("inventory"),
        },
        on_start=[catalog.start, hub.start],
        on_stop=[hub.stop, catalog.stop, inventory.close],
    )
    app.state.hub = hub
    app.state.catalog = catalog
    app.state.stock = stock
    app.state.inventory = inventory
    app.state.now = clock.now
    app.state.asyncapi = AsyncApiDocument(settings.asyncapi_path)
    return app
