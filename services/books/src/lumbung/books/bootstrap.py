"""The one place that builds clients and wires the books API together."""

from __future__ import annotations

from fastapi import FastAPI

from lumbung.books.adapters.inventory import InventoryApi
from lumbung.books.adapters.read_model import BooksReadModel
from lumbung.books.adapters.reports_view import ReportsView
from lumbung.books.entrypoints.api import install_error_mapping, routers
from lumbung.books.service import BooksService
from lumbung.books.settings import Settings
from lumbung.platform.clock import Clock, clock_from_env
from lumbung.platform.kit import ServiceKit
from lumbung.platform.publisher import EventPublisher
from lumbung.platform.readiness import read_model_built
from lumbung.platform.views import CatalogView, views_ready

SERVICE = "books"


def build_api(settings: Settings, clock: Clock | None = None) -> FastAPI:
    clock = clock or clock_from_env()
    kit = ServiceKit(SERVICE, settings)
    catalog = CatalogView(settings.kafka_bootstrap_servers, kit.registry, SERVICE)
    publisher = EventPublisher(settings.kafka_bootstrap_servers, kit.registry, SERVICE)
    read_model = BooksReadModel(kit.redis, kit.registry.prefix)
    reports = ReportsView(settings.kafka_bootstrap_servers, kit.registry)
    app = kit.app(
        description="Books: consignment statements per supplier, outlet and month, issued to "
        "the supplier, and the payments recorded against them.",
        routers=routers(kit.principal),
        readiness={
            "catalog": catalog.ready(),
            "reports": views_ready(reports),
            "read_model": read_model_built(read_model.is_built, "the books read model"),
            "workers": kit.workers_of(SERVICE),
        },
        on_start=[publisher.start, catalog.start, reports.start],
        on_stop=[reports.stop, catalog.stop, publisher.stop],
    )
    install_error_mapping(app)
    inventory = InventoryApi(settings.inventory_url)
    app.state.books = BooksService(
        publisher, catalog, read_model, clock.now, settings.forum_name, inventory, reports
    )
    return app
