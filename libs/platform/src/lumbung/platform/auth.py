"""API keys: shown once, stored as a hash, checked against each service's own key view.

A key reads `lmb_<key_id>_<secret>`. Only `sha256(secret)` is kept (the secret is 32
random bytes, so a slow password hash adds nothing), in an `auth.ApiKeyChanged` record
on the compacted `auth.keys` topic; a revoked key is a record with `retired` set.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header

from lumbung.contracts import ApiKeyChanged, KeyRole

Role = KeyRole
KEY_HEADER = "X-API-Key"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    subject: str


@dataclass(frozen=True)
class NewKey:
    plain: str
    key_id: str
    secret_hash: str


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key() -> NewKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(f"lmb_{key_id}_{secret}", key_id, hash_secret(secret))


class KeyRing:
    """A service's view of the `auth.keys` topic."""

    def __init__(self) -> None:
        self._records: dict[str, ApiKeyChanged] = {}

    def put(self, record: ApiKeyChanged) -> None:
        current = self._records.get(record.key_id)
        if current is None or record.version >= current.version:
            self._records[record.key_id] = record

    def authenticate(self, presented: str | None) -> Principal:
        if not presented:
            raise AuthError(401, f"an API key is required (header {KEY_HEADER})")
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != "lmb":
            raise AuthError(401, "the API key is malformed")
        record = self._records.get(parts[1])
        if record is None or not hmac.compare_digest(record.secret_hash, hash_secret(parts[2])):
            raise AuthError(401, "the API key is not known")
        if record.retired:
            raise AuthError(401, "the API key has been revoked")
        return Principal(record.key_id, record.role, record.subject)


def authorize(principal: Principal, role: Role, subject: str | None = None) -> None:
    """Ops may act for anyone; an outlet or supplier key only for its own subject."""
    if principal.role is Role.OPS:
        return
    if principal.role is not role:
        raise AuthError(
            403, f"{_a(principal.role.value)} key cannot do this; it needs {_a(role.value)} key"
        )
    if subject is not None and principal.subject != subject:
        raise AuthError(403, f"this key acts for {principal.subject}, not for {subject}")


def _a(word: str) -> str:
    """'an outlet', 'an ops', 'a supplier'."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


class RateLimiter:
    """At most `per_minute` requests per key and minute (a fixed window), counted in Redis,
    shared by every process of a service; more answer 429. The counters are safe to lose:
    with Redis unreachable, requests are let through (and the failure is logged)."""

    def __init__(self, redis: Any, prefix: str, service: str, per_minute: int) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:rl:{service}:" if prefix else f"rl:{service}:"
        self.per_minute = per_minute

    async def check(self, key_id: str) -> None:
        window = int(time.time() // 60)
        counter = f"{self._prefix}{key_id}:{window}"
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.incr(counter)
            pipe.expire(counter, 120)
            count, _ = await pipe.execute()
        except Exception:  # a lost counter must not refuse service
            log.warning("rate limit not checked for %s: Redis unreachable", key_id)
            return
        if int(count) > self.per_minute:
            raise AuthError(
                429, f"more than {self.per_minute} requests a minute with this key; slow down"
            )


def principal_dependency(ring: KeyRing, limiter: RateLimiter | None = None) -> object:
    """`Annotated[Principal, principal_dependency(ring)]` authenticates a request (and
    counts it against the key's rate limit, when there is one)."""

    async def authenticate(
        api_key: Annotated[str | None, Header(alias=KEY_HEADER)] = None,
    ) -> Principal:
        principal = ring.authenticate(api_key)
        if limiter is not None:
            await limiter.check(principal.key_id)
        return principal

    return Depends(authenticate)
