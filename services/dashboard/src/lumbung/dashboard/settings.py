from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from lumbung.platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="LUMBUNG_DASHBOARD_", extra="ignore", populate_by_name=True
    )

    http_port: int = 8000
