from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from lumbung.contracts.asyncapi import DOC_PATH
from lumbung.platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="LUMBUNG_DASHBOARD_", extra="ignore", populate_by_name=True
    )

    http_port: int = 8000
    asyncapi_path: Path = DOC_PATH
    """The AsyncAPI document the dashboard serves at /asyncapi: the repository's
    docs/asyncapi.yaml; the image copies it to /app/docs."""
    inventory_url: str = "http://127.0.0.1:8002"
    """Inventory's API, where the page's restock buttons go (through this service, with
    the page's own ops key)."""
