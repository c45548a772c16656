"""The delivery log on `notifications.deliveries`, keyed by recipient (`supplier:<id>` or
`ops`): one `NotificationDelivered` or `NotificationFailed` per message, never both.

A message's `delivery_id` is derived from the event that caused it and the channel, so a
message sent again after a crash carries the same id, and a receiver drops the copy.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from lumbung.contracts.bounds import WirePositive
from lumbung.contracts.events.common import Identifier, Payload


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    WHATSAPP = "whatsapp"


class NotificationDelivered(Payload):
    """The channel took the message (2xx from the webhook or gateway, 250 from SMTP)."""

    delivery_id: Identifier
    recipient: str = Field(min_length=1, max_length=80, description="supplier:<id> or ops")
    channel: ChannelKind
    kind: str = Field(min_length=1, max_length=40, description="restock, digest, ops_alert")
    attempts: WirePositive
    causes: list[str] = Field(
        min_length=1, max_length=1000, description="event_ids of the events it tells of"
    )


class NotificationFailed(Payload):
    """Every attempt failed (or the channel refused for good); its causes are on the DLQ."""

    delivery_id: Identifier
    recipient: str = Field(min_length=1, max_length=80)
    channel: ChannelKind
    kind: str = Field(min_length=1, max_length=40)
    attempts: WirePositive
    causes: list[str] = Field(min_length=1, max_length=1000)
    error: str = Field(max_length=500)
