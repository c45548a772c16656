"""The one place that builds clients and wires the dashboard service together."""

from __future__ import annotations

from fastapi import FastAPI

from lumbung.dashboard.settings import Settings
from lumbung.platform.kit import ServiceKit

SERVICE = "dashboard"


def build_api(settings: Settings) -> FastAPI:
    kit = ServiceKit(SERVICE, settings)
    return kit.app(description="Dashboard: the live ops dashboard.")
