"""The one place that builds clients and wires the orders API together."""

from __future__ import annotations

from fastapi import FastAPI

from lumbung.orders.adapters.read_model import OrdersReadModel
from lumbung.orders.entrypoints.api import routers
from lumbung.orders.service import OrdersService
from lumbung.orders.settings import Settings
from lumbung.platform.clock import Clock, clock_from_env
from lumbung.platform.kit import ServiceKit
from lumbung.platform.publisher import EventPublisher
from lumbung.platform.readiness import read_model_built
from lumbung.platform.views import CatalogView

SERVICE = "orders"


def build_api(settings: Settings, clock: Clock | None = None) -> FastAPI:
    clock = clock or clock_from_env()
    kit = ServiceKit(SERVICE, settings)
    catalog = CatalogView(settings.kafka_bootstrap_servers, kit.registry, SERVICE)
    publisher = EventPublisher(settings.kafka_bootstrap_servers, kit.registry, SERVICE)
    read_model = OrdersReadModel(kit.redis, kit.registry.prefix)
    app = kit.app(
        description="Orders: bulk souvenir orders, pre-orders and online orders, reserved "
        "against live stock at their pickup outlet.",
        routers=routers(kit.principal),
        readiness={
            "catalog": catalog.ready(),
            "read_model": read_model_built(read_model.is_built, "the orders read model"),
            "workers": kit.workers_of(SERVICE),
        },
        on_start=[publisher.start, catalog.start],
        on_stop=[catalog.stop, publisher.stop],
    )
    app.state.orders = OrdersService(publisher, catalog, read_model, clock.now)
    app.state.max_wait_s = settings.max_wait_s
    return app
