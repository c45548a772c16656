"""The one place that builds clients and wires the notifications service together."""

from __future__ import annotations

from fastapi import FastAPI

from lumbung.notifications.settings import Settings
from lumbung.platform.kit import ServiceKit

SERVICE = "notifications"


def build_api(settings: Settings) -> FastAPI:
    kit = ServiceKit(SERVICE, settings)
    return kit.app(description="Notifications: restock alerts to suppliers and alerts to ops.")
