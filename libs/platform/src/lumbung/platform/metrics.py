"""Prometheus metrics every service exposes at /metrics."""

from __future__ import annotations

import gc
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

EVENTS_IN = Counter("lumbung_events_in_total", "Events consumed", ["service", "topic"])
EVENTS_OUT = Counter("lumbung_events_out_total", "Events produced", ["service", "topic"])
ERRORS = Counter("lumbung_errors_total", "Errors by kind", ["service", "kind"])
DEAD_LETTERS = Counter("lumbung_dead_letters_total", "Messages sent to a DLQ", ["service", "topic"])
CONSUMER_LAG = Gauge(
    "lumbung_consumer_lag", "Messages not yet read, per topic", ["service", "topic"]
)
BATCH_RECORDS = Histogram(
    "lumbung_stream_batch_records",
    "Input records per transaction of the stream kernel",
    ["service"],
    buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000),
)
BATCH_SECONDS = Histogram(
    "lumbung_stream_batch_seconds", "Time per transaction of the stream kernel", ["service"]
)
TICK_SECONDS = Histogram(
    "lumbung_stream_tick_seconds",
    "Time a tick of the stream kernel takes (it holds up its task's inputs meanwhile)",
    ["service", "tick"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTLET_SALES = Counter(
    "lumbung_outlet_sales_total",
    "Sale lines applied to stock, per outlet",
    ["service", "outlet_id"],
)
"""Counted as the inventory worker's read model applies each sale line's StockChanged; the
silent-outlet alert in ops/prometheus/rules/lumbung.yml reads it beside the catalog's
`lumbung_outlet_open`."""
REQUEST_SECONDS = Histogram(
    "lumbung_http_request_seconds", "HTTP request latency", ["service", "method", "route", "status"]
)

GC_SECONDS = Histogram(
    "lumbung_gc_seconds",
    "How long each garbage collection stopped the process, per generation",
    ["service", "generation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
"""A collection of the oldest generation walks every object the process holds (a worker's
state, a read model's board): a stall in the sale's path that no other figure shows."""


GC_THRESHOLDS = (50_000, 20, 10)
"""A stream worker allocates a few dozen short-lived objects per record: Python's default
first threshold (700) ran a collection every few records, 13 % of a sale line's CPU
(broker-free `Batch.add`); at 50,000 it is 1-2 %, and the kernel's objects hold no
cycles worth collecting sooner. An API too: at the default thresholds the inventory API
collected its oldest generation every 5 s at 380 sales a second, each time for more than
50 ms, and the sales it held up made the tail of the sale's latency (docs/PERFORMANCE.md)."""


def tune_collections(service: str) -> None:
    """Collect less often (GC_THRESHOLDS), and observe every collection of this process
    in GC_SECONDS. Once a process, before it serves."""
    gc.set_threshold(*GC_THRESHOLDS)
    began = 0.0

    def timed(phase: str, info: dict[str, Any]) -> None:
        nonlocal began
        if phase == "start":
            began = time.perf_counter()
        else:
            seconds = time.perf_counter() - began
            GC_SECONDS.labels(service, str(info["generation"])).observe(seconds)

    gc.callbacks.append(timed)


def exposition() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
