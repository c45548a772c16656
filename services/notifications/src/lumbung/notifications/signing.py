"""Signatures a receiver can check, and links a producer can answer from their phone.

Webhooks carry `X-Lumbung-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
`"<t>." + body` with the receiver's shared secret (the shape Stripe and GitHub use), so a
receiver checks the body was ours and refuses an old timestamp (a replay); the delivery
id header lets it drop a copy it already took.

Accept/decline links carry a token: the action, restock and supplier, an expiry and a
nonce, signed with the service's secret. It needs no API key; it is single-use because
the answer it records closes the question (a second use finds it answered).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

SIGNATURE_HEADER = "X-Lumbung-Signature"
DELIVERY_HEADER = "X-Lumbung-Delivery"
REPLAY_TOLERANCE_S = 300


def _mac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, at: datetime) -> str:
    """The signature header value for `body` sent at `at`."""
    timestamp = int(at.timestamp())
    return f"t={timestamp},v1={_mac(secret, f'{timestamp}.'.encode() + body)}"


def verify(
    secret: str, header: str, body: bytes, now: datetime, tolerance_s: int = REPLAY_TOLERANCE_S
) -> bool:
    """True when `header` signs `body` with `secret` within `tolerance_s` of `now`."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now.timestamp() - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(given, _mac(secret, f"{timestamp}.".encode() + body))


class BadToken(Exception):
    """A link token that is forged, malformed or expired."""


class LinkExpired(BadToken):
    """A genuine link token past its expiry."""


@dataclass(frozen=True)
class ActionToken:
    action: str
    restock_id: str
    supplier_id: str
    expires_at: datetime
    nonce: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(secret: str, token: ActionToken) -> str:
    payload = _b64(
        orjson.dumps(
            {
                "a": token.action,
                "r": token.restock_id,
                "s": token.supplier_id,
                "e": int(token.expires_at.timestamp()),
                "n": token.nonce,
            }
        )
    )
    return f"{payload}.{_mac(secret, payload.encode())}"


def read_token(secret: str, text: str, now: datetime) -> ActionToken:
    """The token's content; raises BadToken when it is not ours or has expired."""
    payload, _, mac = text.partition(".")
    expected = _mac(secret, payload.encode())
    if not payload or not hmac.compare_digest(mac.encode(), expected.encode()):
        raise BadToken("this link is not valid")
    try:
        data = orjson.loads(_unb64(payload))
        token = ActionToken(
            data["a"],
            data["r"],
            data["s"],
            datetime.fromtimestamp(int(data["e"]), UTC),
            data["n"],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BadToken("this link is not valid") from exc
    if now >= token.expires_at:
        raise LinkExpired("this link has expired")
    return token
