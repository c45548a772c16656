"""faust-streaming apps, for the foundation smoke test's minimal agent: every Lumbung worker
runs on the stream kernel (`lumbung.platform.kernel`) since issue 16."""

from __future__ import annotations

import logging
from typing import Any

import faust

from lumbung.contracts import OUTLET_PARTITIONS, Registry
from lumbung.platform.broker import faust_credentials
from lumbung.platform.settings import ServiceSettings

log = logging.getLogger(__name__)


def make_stream_app(service: str, settings: ServiceSettings, **overrides: Any) -> faust.App:
    """A worker app whose consumer group, tables and internal topics carry the registry
    prefix, with short session timeouts so a killed worker is replaced within seconds."""
    registry = settings.registry
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app_id = f"{registry.prefix}.lumbung-{service}" if registry.prefix else f"lumbung-{service}"
    options: dict[str, Any] = {
        "broker": f"kafka://{settings.kafka_bootstrap_servers}",
        "store": "memory://",
        "topic_partitions": OUTLET_PARTITIONS,
        "topic_replication_factor": settings.replication_factor,
        "web_enabled": False,
        "datadir": str(settings.data_dir / "{conf.id}"),
        "consumer_auto_offset_reset": "earliest",
        # Every topic exists before a worker starts (registry topics from `lumbung.platform
        # .topics`, changelogs from `declare_changelog`), and no timer runs on a leader:
        # faust creates nothing. Its own creation asks the first broker of its metadata for
        # the controller and stops the worker when that broker has just died (a worker
        # restarted right after a broker of the cluster was lost never came back: CI).
        "topic_allow_declare": False,
        "topic_disable_leader": True,
        "broker_session_timeout": 6.0,
        "broker_heartbeat_interval": 1.0,
        "broker_commit_every": 1000,
        "broker_commit_interval": 1.0,
        # After a broker restart the first rebalance can see no topics at all and assign
        # nothing; only the next metadata refresh notices them and rebalances again. With
        # the default of 5 minutes a worker sat idle that long (found by the chaos run).
        "consumer_metadata_max_age_ms": 5_000,
        "producer_acks": -1,
        "producer_linger_ms": 5,
        # Outlet records are tens of KB: let one request carry many of them per partition
        # (the default 16 KB batch sends each record alone, one round trip apiece).
        "producer_max_batch_size": 512 * 1024,
        # Every Lumbung topic and table holds bytes that the contracts (or the owner) parse.
        "key_serializer": "raw",
        "value_serializer": "raw",
        # faust sets up logging when its worker starts: one JSON object a line, like the APIs.
        "logging_config": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "json": {
                    "()": "lumbung.platform.logs.JsonFormatter",
                    "service": f"{service}-worker",
                }
            },
            "handlers": {
                "default": {
                    "class": "logging.StreamHandler",
                    "formatter": "json",
                    "stream": "ext://sys.stdout",
                }
            },
            "root": {"level": settings.log_level.upper(), "handlers": ["default"]},
        },
    }
    if settings.worker_http_port:
        options.update(
            web_enabled=True,
            web_bind=settings.http_host,
            web_host=settings.http_host,
            web_port=settings.worker_http_port,
        )
    options.update(overrides)
    credentials = faust_credentials()
    if credentials is not None:
        options["broker_credentials"] = credentials
    app = faust.App(app_id, **options)
    if settings.worker_http_port:
        _health_pages(app, service, settings)

    async def quiet_clients() -> None:
        # faust's worker sets up logging itself, and lets the Kafka clients log every
        # send at debug level (a third of the inventory worker's time): keep them at ours.
        for name in ("aiokafka", "faust", "mode", "kafka"):
            logging.getLogger(name).setLevel(settings.log_level.upper())

    app.task(quiet_clients)
    return app


def _health_pages(app: faust.App, service: str, settings: ServiceSettings) -> None:
    """/healthz, /readyz (broker and Redis reachable, partitions assigned) and /metrics
    (with each input's consumer lag) on the worker's own port, like every API."""
    from lumbung.platform.broker import broker_ready
    from lumbung.platform.cache import redis_client, redis_ready
    from lumbung.platform.metrics import CONSUMER_LAG, exposition

    redis = redis_client(settings.redis_url)

    async def check(probe: Any) -> bool:
        try:
            return bool(await probe)
        except Exception:
            return False

    @app.page("/healthz")
    async def healthz(view: Any, request: Any) -> Any:
        return view.json({"status": "ok", "service": service})

    @app.page("/readyz")
    async def readyz(view: Any, request: Any) -> Any:
        checks = {
            "kafka": await check(broker_ready(settings.kafka_bootstrap_servers)),
            "redis": await check(redis_ready(redis)),
            "consumer": bool(app.consumer.assignment()),
        }
        ready = all(checks.values())
        return view.json(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status=200 if ready else 503,
        )

    @app.page("/metrics")
    async def metrics(view: Any, request: Any) -> Any:
        lag: dict[str, int] = {}
        for tp in app.consumer.assignment():
            try:
                position = await app.consumer.position(tp)
                behind = app.consumer.highwater(tp) - (position or 0)
            except Exception:  # not fetched yet: no figure for it this time
                log.debug("no lag for %s yet", tp)
                continue
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, behind)
        for topic, behind in lag.items():
            CONSUMER_LAG.labels(service, topic).set(behind)
        body, content_type = exposition()
        # aiohttp wants the charset apart from the content type.
        return view.bytes(body, content_type=content_type.split("; charset=")[0])


def raw_topic(app: faust.App, registry: Registry, logical: str) -> Any:
    """A registry topic read as raw bytes: the contracts parse it, not faust."""
    spec = registry.spec(logical)
    return app.topic(
        registry.name(logical),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=spec.partitions,
    )
