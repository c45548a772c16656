from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from lumbung.platform.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="LUMBUNG_NOTIFICATIONS_", extra="ignore", populate_by_name=True
    )

    http_port: int = 8004
    public_url: str = "http://127.0.0.1:8004"
    """Where a producer's phone reaches this API: the base of accept and decline links."""
    link_ttl_s: float = 3 * 24 * 3600.0
    """How long an accept or decline link works, from the request."""

    # -- channels --------------------------------------------------------------------------
    whatsapp_gateway_url: str = ""
    """The WhatsApp Business API provider's send endpoint; empty: no WhatsApp."""
    whatsapp_gateway_token: str = ""
    smtp_host: str = ""
    """Empty: no email."""
    smtp_port: int = 25
    smtp_sender: str = "Lumbung <lumbung@localhost>"
    smtp_username: str = ""
    smtp_password: str = ""
    ops_webhook_url: str = ""
    ops_email: str = ""
    ops_whatsapp: str = ""

    # -- delivery ----------------------------------------------------------------------------
    attempts: int = 6
    """Attempts per message before it fails (NotificationFailed, causes on the DLQ)."""
    backoff_s: float = 2.0
    """Wait before the second attempt; doubles per attempt, with jitter."""
    backoff_max_s: float = 300.0
    send_timeout_s: float = 10.0
    concurrency: int = 32
    """Messages in flight at once per worker."""
    digest_window_s: float = 60.0
    """Restock requests for one supplier within this window go out as one message."""
