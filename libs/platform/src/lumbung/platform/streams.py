"""faust-streaming apps as every Lumbung worker builds them."""

from __future__ import annotations

import logging
from typing import Any

import faust

from lumbung.contracts import OUTLET_PARTITIONS, Registry
from lumbung.platform.broker import create_missing, faust_credentials, topic_config
from lumbung.platform.dlq import DeadLetter
from lumbung.platform.metrics import DEAD_LETTERS
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


class DurableTable(faust.Table[bytes, bytes]):
    """A faust table that keeps the future of every changelog write, so that a worker can
    wait until its state is on the broker before it tells anyone about it
    (publish-after-commit: a derived event never describes a state a crash could lose)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._written: list[Any] = []

    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        future = super().send_changelog(*args, **kwargs)
        self._written.append(future)
        return future

    def take_written(self) -> list[Any]:
        """The futures of the writes since the last call; each resolves once the broker
        acknowledged that write (acks=all)."""
        written, self._written = self._written, []
        return written


def durable_table(app: faust.App, name: str, *, partitions: int, help: str) -> DurableTable:
    """A bytes -> bytes `DurableTable` registered with the app like `app.Table`."""
    table = DurableTable(
        app,
        name=name,
        default=None,
        key_type=bytes,
        value_type=bytes,
        beacon=app.tables.beacon,
        partitions=partitions,
        help=help,
    )
    app.tables.add(table)
    declare_changelog(app, table.changelog_topic.get_topic_name(), partitions)
    return table


def declare_changelog(app: faust.App, name: str, partitions: int) -> None:
    """Create a table's changelog topic before the worker starts (faust creates no topic,
    see `make_stream_app`). Before, not during: a consumer that fetches its inputs at once
    can take the metadata snapshot first, see the changelog with no partitions, and crash
    every agent that writes the table with PartitionsMismatch (seen with `make up`)."""
    from kafka.admin import NewTopic

    bootstrap = ",".join(f"{url.host}:{url.port}" for url in app.conf.broker)
    replication = int(app.conf.topic_replication_factor)
    config = {"cleanup.policy": "compact", **topic_config(replication)}
    create_missing(bootstrap, [NewTopic(name, partitions, replication, topic_configs=config)])


async def dead_letter(dlq: Any, service: str, event: Any, error: str) -> Any:
    """Send a faust event's message to the service's DLQ topic with where it came from and
    why; returns the future of its delivery (await it before acking the input)."""
    message = event.message
    letter = DeadLetter(
        service, message.topic, message.partition, message.offset, event.key, event.value, error
    )
    delivered = await dlq.send(key=event.key, value=event.value, headers=letter.headers())
    DEAD_LETTERS.labels(service, message.topic).inc()
    log.warning(
        "dead-lettered %s:%s@%s: %s", message.topic, message.partition, message.offset, error
    )
    return delivered


def run_worker(app: faust.App, prog: str, log_level: str) -> None:
    """Run a faust worker for `app` in this process, as `faust worker` would; its web
    server only when the service set a worker port (faust's default 0.0.0.0:6066 would
    collide between two workers on one machine)."""
    import sys

    from lumbung.platform import logs

    logs.configure(prog, log_level)
    level = {"warning": "warn", "critical": "crit"}.get(log_level.lower(), log_level.lower())
    web = [] if app.conf.web_enabled else ["--without-web"]
    sys.argv = [prog, "worker", "-l", level, *web]
    app.main()
