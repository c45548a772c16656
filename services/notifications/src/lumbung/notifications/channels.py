"""Channels a message leaves by, each behind one interface: `send(delivery)` delivers or
raises `DeliveryFailed` (with whether trying again may help).

Every delivery carries its delivery id (derived from the causing event and the channel),
so a receiver can drop a copy: the webhook's `X-Lumbung-Delivery` header, the WhatsApp
gateway's `reference`, the email's `Message-ID` (`<delivery id@lumbung>`, with the same
`X-Lumbung-Delivery` header beside it).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol

import aiosmtplib
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
            raise DeliveryFailed(f"webhook unreachable: {exc!r}", retry=True) from exc
        _check(answer, "webhook")


class WhatsAppGatewayChannel:
    """The common shape of WhatsApp Business API providers: a POST with the number and the
    text, authorised with a bearer token (none when no token is set, e.g. a gateway on the
    same host); `reference` carries the delivery id."""

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
                headers={"Authorization": f"Bearer {self._token}"} if self._token else {},
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"WhatsApp gateway unreachable: {exc!r}", retry=True) from exc
        _check(answer, "WhatsApp gateway")


class EmailChannel:
    """A plain-text UTF-8 email over SMTP, upgraded with STARTTLS when the server offers it
    (or always, with `starttls=True`); it logs in only when given a username."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool | None = None,
        tls_context: ssl.SSLContext | None = None,
        timeout_s: float = 10,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._tls_context = tls_context
        self._timeout_s = timeout_s

    def _message(self, delivery: Delivery) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = delivery.to
        message["Subject"] = delivery.subject
        message["Date"] = format_datetime(datetime.now().astimezone())
        # Delivery ids are letters, digits, `.`, `_` and `-`: valid on the left of a msg-id.
        message["Message-ID"] = f"<{delivery.delivery_id}@lumbung>"
        message[DELIVERY_HEADER] = delivery.delivery_id
        message.set_content(delivery.text, charset="utf-8")
        return message

    async def send(self, delivery: Delivery) -> None:
        try:
            message = self._message(delivery)
        except ValueError as exc:  # a line break or a malformed address in a header
            raise DeliveryFailed(f"email not sendable: {exc}", retry=False) from exc
        try:
            await aiosmtplib.send(
                message,
                sender=self._sender,
                recipients=[delivery.to],
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._starttls,
                tls_context=self._tls_context,
                timeout=self._timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]  # the one recipient
            raise DeliveryFailed(
                f"SMTP server refused {refused.recipient}: {refused.code} {refused.message}",
                retry=refused.code < 500,
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx is "not now" (greylisting, mailbox busy); 5xx is "never".
            raise DeliveryFailed(
                f"SMTP server answered {exc.code} {exc.message}", retry=exc.code < 500
            ) from exc
        except OSError as exc:  # aiosmtplib's connection and timeout errors are OSErrors too
            raise DeliveryFailed(f"SMTP connection failed: {exc}", retry=True) from exc
        except aiosmtplib.SMTPException as exc:
            # STARTTLS or login asked for but not offered: a setup to fix, not a moment.
            raise DeliveryFailed(f"SMTP server lacks what we need: {exc}", retry=False) from exc
