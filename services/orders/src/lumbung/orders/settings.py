from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from lumbung.platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="LUMBUNG_ORDERS_", extra="ignore", populate_by_name=True
    )

    http_port: int = 8003
    answer_timeout_s: float = 10.0
    """How long an order waits for inventory's answer before it is asked again."""
    answer_attempts: int = 3
    """How often inventory is asked before the order fails."""
    pickup_grace_s: float = 2 * 3600.0
    """How long after its pickup time a reserved order is held before it expires."""
    max_wait_s: float = 10.0
    """The longest `wait` a caller may ask for when placing an order."""
