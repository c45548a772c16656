"""Booth close-outs as the inventory API sees them (issue 21): the closing counts asked
for (`inventory.CloseOutDue`) and the reports written (`inventory.BoothClosedOut`), folded
from `inventory.alerts` (the API follows it, `bootstrap.py`). The worker decides; this
only remembers the newest of each per booth."""

from __future__ import annotations

from typing import Any

from lumbung.contracts.events import inventory as inv


class CloseOuts:
    def __init__(self) -> None:
        self._asked: dict[str, inv.CloseOutDue] = {}
        self._reports: dict[str, inv.BoothClosedOut] = {}

    def apply(self, data: Any) -> None:
        match data:
            case inv.CloseOutDue():
                self._asked[data.outlet_id] = data
            case inv.BoothClosedOut():
                self._reports[data.outlet_id] = data
                asked = self._asked.get(data.outlet_id)
                if asked is not None and asked.window_ends_at <= data.closed_at:
                    del self._asked[data.outlet_id]

    def of(self, outlet_id: str) -> dict[str, Any]:
        """The count still asked for (or None) and the newest report (or None)."""
        asked, report = self._asked.get(outlet_id), self._reports.get(outlet_id)
        return {
            "asked": asked.model_dump(mode="json") if asked is not None else None,
            "report": report.model_dump(mode="json") if report is not None else None,
        }
