"""Deterministic event ids.

A sale resent by an outlet, or an event re-emitted after a replay, must carry the same
`event_id` as the first time, so that every consumer can drop it as a duplicate.
"""

from __future__ import annotations

from uuid import UUID, uuid4, uuid5

LUMBUNG_NAMESPACE = UUID("6f1d3c55-9a3e-5c1e-b1b4-6c75d8a0e0a1")


def new_event_id() -> UUID:
    return uuid4()


def sale_event_id(outlet_id: str, sale_id: str) -> UUID:
    return uuid5(LUMBUNG_NAMESPACE, f"sale:{outlet_id}:{sale_id}")


def derived_event_id(cause_event_id: UUID | str, effect: str) -> UUID:
    """The id of the event that `cause_event_id` caused; `effect` names which one."""
    return uuid5(LUMBUNG_NAMESPACE, f"derived:{cause_event_id}:{effect}")


def command_event_id(kind: str, outlet_id: str, command_id: str) -> UUID:
    """The id of an outlet's command (count, adjustment, receipt…): a resubmission of the
    same command id is the same event."""
    return uuid5(LUMBUNG_NAMESPACE, f"{kind}:{outlet_id}:{command_id}")
