"""The one place that builds clients and wires the inventory API together."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from lumbung.inventory.adapters.read_model import StockReadModel
from lumbung.inventory.adapters.sale_memory import SaleMemory
from lumbung.inventory.closeout import CloseOuts
from lumbung.inventory.entrypoints.api import routers
from lumbung.inventory.entrypoints.worker import ID_HORIZON
from lumbung.inventory.ingest import Ingest
from lumbung.inventory.settings import Settings
from lumbung.inventory.transfers import Predictions
from lumbung.platform.clock import Clock, SystemClock
from lumbung.platform.kit import ServiceKit
from lumbung.platform.publisher import EventPublisher
from lumbung.platform.readiness import read_model_built
from lumbung.platform.restocks import RestockView
from lumbung.platform.views import CatalogView, FoldedView

SERVICE = "inventory"


def build_api(settings: Settings, clock: Clock | None = None) -> FastAPI:
    clock = clock or SystemClock()
    kit = ServiceKit(SERVICE, settings)
    catalog = CatalogView(settings.kafka_bootstrap_servers, kit.registry, SERVICE)
    restocks = RestockView(settings.kafka_bootstrap_servers, kit.registry, SERVICE)
    publisher = EventPublisher(settings.kafka_bootstrap_servers, kit.registry, SERVICE)
    # The open stockout predictions and the transfers in transit, for the suggestions;
    # the booths' close-outs.
    predictions, close_outs = Predictions(), CloseOuts()

    def fold(event: Any) -> None:
        predictions.apply(event.data)
        close_outs.apply(event.data)

    followed = FoldedView(
        settings.kafka_bootstrap_servers,
        kit.registry,
        SERVICE,
        ["inventory.alerts", "inventory.commands"],
        fold,
    )
    read_model = StockReadModel(kit.redis, kit.registry.prefix)
    app = kit.app(
        description="Inventory: stock per outlet and SKU, reservations, transfers and restocks.",
        routers=routers(kit.principal),
        readiness={
            "catalog": catalog.ready(),
            "restocks": restocks.ready(),
            "predictions": followed.ready(),
            "read_model": read_model_built(read_model.is_built, "the stock read model"),
            "workers": kit.workers_of(SERVICE),
        },
        on_start=[publisher.start, catalog.start, restocks.start, followed.start],
        on_stop=[followed.stop, restocks.stop, catalog.stop, publisher.stop],
    )
    memory = SaleMemory(kit.redis, kit.registry.prefix, ID_HORIZON)
    app.state.ingest = Ingest(
        publisher, catalog, clock.now, memory, timedelta(minutes=settings.void_minutes)
    )
    app.state.read_model = read_model
    app.state.restocks = restocks
    app.state.predictions = predictions
    app.state.close_outs = close_outs
    app.state.catalog = catalog
    app.state.now = clock.now
    return app
