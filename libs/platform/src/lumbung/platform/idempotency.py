"""A bounded memory of applied event ids, kept inside the state value it protects.

Redeliveries come within seconds and outlets resend within days, so ids are kept for
`max_age_s` (default 7 days) and at most `max_count` of them (default 20,000 per key).
Because the memory is part of the same table value that the event changes, both reach the
changelog in one write, and a crash can never apply an event without remembering it.
"""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_MAX_AGE_S = 7 * 24 * 3600
DEFAULT_MAX_COUNT = 20_000


class AppliedIds:
    __slots__ = ("_ids", "max_age_s", "max_count")

    def __init__(
        self,
        entries: Iterable[tuple[str, float]] = (),
        *,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        max_count: int = DEFAULT_MAX_COUNT,
    ) -> None:
        self._ids: dict[str, float] = dict(entries)
        self.max_age_s = max_age_s
        self.max_count = max_count

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def remember(self, event_id: str, at: float) -> bool:
        """Record `event_id`; False when it was already applied (a duplicate)."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = at
        self._prune(at)
        return True

    def _prune(self, now: float) -> None:
        horizon = now - self.max_age_s
        ids = self._ids
        while ids:
            oldest_id = next(iter(ids))
            if len(ids) > self.max_count or ids[oldest_id] < horizon:
                del ids[oldest_id]
            else:
                break

    def entries(self) -> list[tuple[str, float]]:
        return list(self._ids.items())
