"""The one place that builds clients and wires the orders service together."""

from __future__ import annotations

from fastapi import FastAPI

from lumbung.orders.settings import Settings
from lumbung.platform.kit import ServiceKit

SERVICE = "orders"


def build_api(settings: Settings) -> FastAPI:
    kit = ServiceKit(SERVICE, settings)
    return kit.app(description="Orders: orders and their life cycle against inventory.")
