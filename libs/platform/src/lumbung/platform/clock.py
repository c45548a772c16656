"""Time as a port: services ask a clock, tests and the simulator hand in their own."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

WITA = ZoneInfo("Asia/Makassar")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(WITA)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock's time must carry its UTC offset")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta) -> None:
        self._now += by


class ShiftedClock:
    """The system clock moved forward by the number of seconds written in a file, read
    again whenever the file changes: how tests and the simulator move a running worker's
    time (`LUMBUNG_CLOCK_FILE`)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: float | None = None
        self._shift = timedelta()

    def now(self) -> datetime:
        try:
            changed = self._path.stat().st_mtime
        except FileNotFoundError:
            changed = None
        if changed != self._seen:
            self._seen = changed
            text = self._path.read_text().strip() if changed is not None else ""
            self._shift = timedelta(seconds=float(text or 0))
        return datetime.now(WITA) + self._shift


def clock_from_env() -> Clock:
    """`ShiftedClock` when LUMBUNG_CLOCK_FILE names a file, else the system clock."""
    path = os.environ.get("LUMBUNG_CLOCK_FILE")
    return ShiftedClock(Path(path)) if path else SystemClock()
