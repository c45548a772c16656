"""Channels a message leaves by, each behind one interface: `send(delivery)` delivers or
raises `DeliveryFailed` (with whether trying again may help).

Every delivery carries its delivery id (derived from the causing event and the channel),
so a receiver can drop a copy: the webhook's `X-Lumbung-Delivery` header, the WhatsApp
gateway's `reference`, the email's `Message-ID` (email comes with the SMTP adapter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx
import orjson

from lumbung.notifications.signing import DELIVERY_HEADER, SIGNATURE_HEADER, sign


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    to: str
    """The webhook URL, phone number (E.164) or email address."""
    subject: str
    text: str
    data: dict[str, Any]
    """The structured content, for receivers that read JSON (webhooks)."""


class DeliveryFailed(Exception):
    def __init__(self, message: str, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


class Channel(Protocol):
    name: str

    async def send(self, delivery: Delivery) -> None: ...


def _check(answer: httpx.Response, what: str) -> None:
    if answer.is_success:
        return
    # 4xx other than 408/429 will not get better by sending again.
    retry = answer.status_code >= 500 or answer.status_code in (408, 429)
    raise DeliveryFailed(f"{what} answered {answer.status_code}", retry=retry)


class WebhookChannel:
    """POST of the delivery as JSON, signed with the receiver's shared secret."""

    name = "webhook"

    def __init__(
        self, client: httpx.AsyncClient, secret: str, now: Any = None, timeout_s: float = 10
    ) -> None:
        self._client = client
        self._secret = secret
        self._now = now or (lambda: datetime.now().astimezone())
        self._timeout_s = timeout_s

    async def send(self, delivery: Delivery) -> None:
        body = orjson.dumps(
            {
                "delivery_id": delivery.delivery_id,
                "subject": delivery.subject,
                "text": delivery.text,
                "data": delivery.data,
            }
        )
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: delivery.delivery_id,
            SIGNATURE_HEADER: sign(self._secret, body, self._now()),
        }
        try:
            answer = await self._client.post(
                delivery.to, content=body, headers=headers, timeout=self._timeout_s
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"webhook unreachable: {exc}", retry=True) from exc
        _check(answer, "webhook")


class WhatsAppGatewayChannel:
    """The common shape of WhatsApp Business API providers: a POST with the number and the
    text, authorised with a bearer token; `reference` carries the delivery id."""

    name = "whatsapp"

    def __init__(self, client: httpx.AsyncClient, url: str, token: str) -> None:
        self._client = client
        self._url = url
        self._token = token

    async def send(self, delivery: Delivery) -> None:
        try:
            answer = await self._client.post(
                self._url,
                json={
                    "to": delivery.to,
                    "text": f"{delivery.subject}\n{delivery.text}",
                    "reference": delivery.delivery_id,
                },
                headers={"Authorization": f"Bearer {self._token}"},
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"WhatsApp gateway unreachable: {exc}", retry=True) from exc
        _check(answer, "WhatsApp gateway")
