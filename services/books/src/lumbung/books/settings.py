from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from lumbung.platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="LUMBUNG_BOOKS_", extra="ignore", populate_by_name=True
    )

    http_port: int = 8005
    forum_name: str = Field(default="Forum UMKM Kabupaten Paser", min_length=1, max_length=120)
    """Who issues the statements: the name at the head of every printed statement."""
    inventory_url: str = "http://127.0.0.1:8002"
    """The inventory API, through which an imported report's sales are recorded."""
