from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from lumbung.platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="LUMBUNG_INVENTORY_", extra="ignore", populate_by_name=True
    )

    http_port: int = 8002
    forecast_every_s: float = 60.0
    """How often the worker makes every stockout forecast again (`predict_stockouts`)."""
