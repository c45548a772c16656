"""Prometheus metrics every service exposes at /metrics."""

from __future__ import annotations

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


def exposition() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
