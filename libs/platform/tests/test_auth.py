from __future__ import annotations

import pytest

from lumbung.platform.auth import AuthError, KeyRing, Role, authorize, issue_key


def ring_with(role: Role, subject: str) -> tuple[KeyRing, str]:
    ring = KeyRing()
    plain, record = issue_key(role, subject)
    ring.put(record)
    return ring, plain


def test_only_the_hash_of_a_key_is_kept() -> None:
    plain, record = issue_key(Role.OUTLET, "IKN-01")

    assert plain.split("_", 2)[2] not in repr(record)


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
    plain, record = issue_key(Role.SUPPLIER, "SUP-01")
    ring.put(record)
    ring.put(record.__class__(**{**record.__dict__, "revoked": True}))

    with pytest.raises(AuthError, match="revoked"):
        ring.authenticate(plain)


def test_an_outlet_key_cannot_act_for_another_outlet() -> None:
    ring, plain = ring_with(Role.OUTLET, "IKN-01")

    with pytest.raises(AuthError) as exc:
        authorize(ring.authenticate(plain), Role.OUTLET, "RA-KM47")

    assert exc.value.status == 403


def test_ops_may_act_for_any_outlet() -> None:
    ring, plain = ring_with(Role.OPS, "*")

    authorize(ring.authenticate(plain), Role.OUTLET, "RA-KM47")
