from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from lumbung.contracts import ApiKeyChanged
from lumbung.platform.auth import AuthError, KeyRing, Role, authorize, new_key

NOW = datetime(2026, 7, 14, 10, 0, tzinfo=ZoneInfo("Asia/Makassar"))


def record(
    role: Role, subject: str, *, retired: bool = False, version: int = 1
) -> tuple[str, ApiKeyChanged]:
    key = new_key()
    return key.plain, ApiKeyChanged(
        key_id=key.key_id,
        role=role,
        subject=subject,
        secret_hash=key.secret_hash,
        retired=retired,
        version=version,
        changed_at=NOW,
    )


def ring_with(role: Role, subject: str) -> tuple[KeyRing, str]:
    ring = KeyRing()
    plain, rec = record(role, subject)
    ring.put(rec)
    return ring, plain


def test_only_the_hash_of_a_key_is_kept() -> None:
    plain, rec = record(Role.OUTLET, "IKN-01")

    assert plain.split("_", 2)[2] not in rec.model_dump_json()


def test_a_known_key_authenticates_as_its_subject() -> None:
    ring, plain = ring_with(Role.OUTLET, "IKN-01")

    principal = ring.authenticate(plain)

    assert (principal.role, principal.subject) == (Role.OUTLET, "IKN-01")


@pytest.mark.parametrize("presented", [None, "", "garbage", "lmb_nokey_secret"])
def test_missing_or_unknown_keys_are_refused_with_401(presented: str | None) -> None:
    ring, _ = ring_with(Role.OPS, "*")

    with pytest.raises(AuthError) as exc:
        ring.authenticate(presented)

    assert exc.value.status == 401


def test_a_revoked_key_is_refused() -> None:
    ring = KeyRing()
    plain, rec = record(Role.SUPPLIER, "SUP-01")
    ring.put(rec)
    ring.put(rec.model_copy(update={"retired": True, "version": 2}))

    with pytest.raises(AuthError, match="revoked"):
        ring.authenticate(plain)


def test_an_older_record_does_not_undo_a_revocation() -> None:
    ring = KeyRing()
    plain, rec = record(Role.SUPPLIER, "SUP-01")
    ring.put(rec.model_copy(update={"retired": True, "version": 2}))
    ring.put(rec)

    with pytest.raises(AuthError, match="revoked"):
        ring.authenticate(plain)


def test_an_outlet_key_cannot_act_for_another_outlet() -> None:
    ring, plain = ring_with(Role.OUTLET, "IKN-01")

    with pytest.raises(AuthError) as exc:
        authorize(ring.authenticate(plain), Role.OUTLET, "RA-KM47")

    assert exc.value.status == 403


@pytest.mark.parametrize(
    ("role", "needed", "said"),
    [
        (Role.OUTLET, Role.SUPPLIER, "an outlet key cannot do this; it needs a supplier key"),
        (Role.SUPPLIER, Role.OPS, "a supplier key cannot do this; it needs an ops key"),
    ],
)
def test_a_key_of_the_wrong_role_is_refused_in_plain_words(
    role: Role, needed: Role, said: str
) -> None:
    ring, plain = ring_with(role, "IKN-01")

    with pytest.raises(AuthError) as exc:
        authorize(ring.authenticate(plain), needed)

    assert (exc.value.status, str(exc.value)) == (403, said)


def test_ops_may_act_for_any_outlet() -> None:
    ring, plain = ring_with(Role.OPS, "*")

    authorize(ring.authenticate(plain), Role.OUTLET, "RA-KM47")
