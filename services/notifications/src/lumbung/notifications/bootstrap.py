"""The one place that builds clients and wires the notifications API together."""

from __future__ import annotations

from fastapi import FastAPI

from lumbung.notifications.answers import Answers
from lumbung.notifications.entrypoints.api import routers
from lumbung.notifications.settings import Settings
from lumbung.platform.clock import Clock, clock_from_env
from lumbung.platform.kit import ServiceKit
from lumbung.platform.publisher import EventPublisher
from lumbung.platform.restocks import RestockView
from lumbung.platform.views import CatalogView

SERVICE = "notifications"
DEFAULT_LEAD_TIME_DAYS = 2


def build_api(settings: Settings, clock: Clock | None = None) -> FastAPI:
    clock = clock or clock_from_env()
    kit = ServiceKit(SERVICE, settings)
    catalog = CatalogView(settings.kafka_bootstrap_servers, kit.registry, SERVICE)
    restocks = RestockView(settings.kafka_bootstrap_servers, kit.registry, SERVICE)
    publisher = EventPublisher(settings.kafka_bootstrap_servers, kit.registry, SERVICE)
    app = kit.app(
        description="Notifications: restock alerts to suppliers and alerts to ops; the "
        "supplier API and the answer links in their messages.",
        routers=routers(kit.principal),
        readiness={
            "catalog": catalog.ready(),
            "restocks": restocks.ready(),
            "workers": kit.workers_of(SERVICE),
        },
        on_start=[publisher.start, catalog.start, restocks.start],
        on_stop=[restocks.stop, catalog.stop, publisher.stop],
    )

    def lead_time_days(supplier_id: str | None) -> int:
        supplier = catalog.suppliers.get(supplier_id or "")
        return supplier.restock_lead_time_days if supplier else DEFAULT_LEAD_TIME_DAYS

    app.state.answers = Answers(restocks, publisher, kit.redis, kit.registry.prefix, clock.now)
    app.state.catalog = catalog
    app.state.secret_key = settings.secret_key
    app.state.now = clock.now
    app.state.lead_time_days = lead_time_days
    return app
