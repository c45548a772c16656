"""The one place that builds clients and wires the inventory service together."""

from __future__ import annotations

from fastapi import FastAPI

from lumbung.inventory.settings import Settings
from lumbung.platform.kit import ServiceKit

SERVICE = "inventory"


def build_api(settings: Settings) -> FastAPI:
    kit = ServiceKit(SERVICE, settings)
    return kit.app(
        description="Inventory: stock per outlet and SKU, reservations, transfers and restocks."
    )
