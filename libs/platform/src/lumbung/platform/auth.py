"""API keys: shown once, stored as a hash, checked against each service's own key view.

A key reads `lmb_<key_id>_<secret>`. Only `sha256(secret)` is kept (the secret is 32
random bytes, so a slow password hash adds nothing), next to the key's role and subject.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OPS = "ops"
    OUTLET = "outlet"
    SUPPLIER = "supplier"


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    role: Role
    subject: str
    """The outlet or supplier id the key acts for; `*` for ops."""
    secret_hash: str
    revoked: bool = False


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    subject: str


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(role: Role, subject: str) -> tuple[str, KeyRecord]:
    """A new key: the plain key to show once, and the record to keep."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = KeyRecord(key_id=key_id, role=role, subject=subject, secret_hash=hash_secret(secret))
    return f"lmb_{key_id}_{secret}", record


class KeyRing:
    """A service's view of the `auth.keys` topic."""

    def __init__(self) -> None:
        self._records: dict[str, KeyRecord] = {}

    def put(self, record: KeyRecord) -> None:
        self._records[record.key_id] = record

    def authenticate(self, presented: str | None) -> Principal:
        if not presented:
            raise AuthError(401, "an API key is required (header X-API-Key)")
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != "lmb":
            raise AuthError(401, "the API key is malformed")
        record = self._records.get(parts[1])
        if record is None or not hmac.compare_digest(record.secret_hash, hash_secret(parts[2])):
            raise AuthError(401, "the API key is not known")
        if record.revoked:
            raise AuthError(401, "the API key has been revoked")
        return Principal(record.key_id, record.role, record.subject)


def authorize(principal: Principal, role: Role, subject: str | None = None) -> None:
    """Ops may act for anyone; an outlet or supplier key only for its own subject."""
    if principal.role is Role.OPS:
        return
    if principal.role is not role:
        raise AuthError(403, f"a {principal.role.value} key cannot do this; it needs {role.value}")
    if subject is not None and principal.subject != subject:
        raise AuthError(403, f"this key acts for {principal.subject}, not for {subject}")
