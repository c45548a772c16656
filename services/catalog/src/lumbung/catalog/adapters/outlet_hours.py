"""`lumbung_outlet_open` on the catalog's /metrics: for every outlet with an active window,
1 while the window is open and 0 outside it, worked out at each scrape. The silent-outlet
alert (ops/prometheus/rules/lumbung.yml) pairs it with the sales each outlet made. Outlets
without a window (kiosks, rest areas) have no hours in the catalog, so none is watched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily

from lumbung.contracts.events.catalog import OutletChanged, TimeWindow

NAME = "lumbung_outlet_open"


class OutletHours:
    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._now = now
        self._windows: dict[str, tuple[str, TimeWindow]] = {}

    def put(self, outlet: OutletChanged) -> None:
        if outlet.retired or outlet.active_window is None:
            self._windows.pop(outlet.outlet_id, None)
        else:
            self._windows[outlet.outlet_id] = (outlet.channel.value, outlet.active_window)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            NAME,
            "1 while the outlet's active window is open, 0 outside it",
            labels=["outlet_id", "channel"],
        )
        now = self._now()
        for outlet_id, (channel, window) in sorted(self._windows.items()):
            family.add_metric([outlet_id, channel], 1.0 if window.contains(now) else 0.0)
        yield family


OUTLET_HOURS = OutletHours()
"""One per process, like the platform's metrics: every catalog projector feeds it."""
REGISTRY.register(OUTLET_HOURS)
