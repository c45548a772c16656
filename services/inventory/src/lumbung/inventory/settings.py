from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from lumbung.inventory.service import PRICE_TOLERANCE
from lumbung.platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="LUMBUNG_INVENTORY_", extra="ignore", populate_by_name=True
    )

    http_port: int = 8002
    forecast_every_s: float = 60.0
    """How often the worker makes every stockout forecast again (`predict_stockouts`)."""
    restock_review_s: float = 600.0
    """How long a restock the forecast sized waits for ops (`RestockSuggested`) before it
    goes to the supplier; 0 sends it at once."""
    void_minutes: float = Field(default=30.0, ge=0, le=24 * 60)
    """How long after a sale's `sold_at` it may still be voided (`returns.check`)."""
    price_tolerance_percent: float = Field(default=PRICE_TOLERANCE, ge=0, le=100)
    """A sale line priced further than this off the outlet's price is flagged to ops
    (`inventory.PriceFlagged`); the sale itself stands."""
    expiry_alert_days: int = Field(default=3, ge=0, le=365)
    """A batch is warned of (`inventory.ExpiryAlert`, `soon`) once it is good for this
    many more days or fewer."""
