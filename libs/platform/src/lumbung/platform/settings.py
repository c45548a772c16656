"""The settings every service shares, read from the environment."""

from __future__ import annotations

import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lumbung.contracts import Registry

DEV_SECRET = "dev-only-change-me"  # noqa: S105 - refused outside development


def _shared(name: str) -> AliasChoices:
    """A setting every service reads under one name, whatever its own prefix."""
    return AliasChoices(f"LUMBUNG_{name}")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ServiceSettings(BaseSettings):
    """Base of each service's `Settings`; a service adds its own fields and port."""

    model_config = SettingsConfigDict(env_prefix="LUMBUNG_", extra="ignore", populate_by_name=True)

    environment: Environment = Field(
        default=Environment.DEVELOPMENT, validation_alias=_shared("ENVIRONMENT")
    )
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "LUMBUNG_KAFKA_BOOTSTRAP_SERVERS"),
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "LUMBUNG_REDIS_URL"),
    )
    topic_prefix: str = Field(default="", validation_alias=_shared("TOPIC_PREFIX"))
    secret_key: str = Field(default=DEV_SECRET, validation_alias=_shared("SECRET_KEY"))
    log_level: str = Field(default="INFO", validation_alias=_shared("LOG_LEVEL"))
    rate_limit_per_minute: int = Field(
        default=0, ge=0, validation_alias=_shared("RATE_LIMIT_PER_MINUTE")
    )
    """Requests a minute one API key may make to one service (0: no limit)."""
    replication_factor: int = Field(default=1, ge=1, validation_alias=_shared("REPLICATION_FACTOR"))
    """Copies of every topic the service creates (its workers' changelogs): 3 on a
    three-broker cluster, with `min.insync.replicas` 2."""
    data_dir: Path = Field(
        default=Path(tempfile.gettempdir()) / "lumbung", validation_alias=_shared("DATA_DIR")
    )
    """Where workers keep local files (faust's table caches); state itself lives in Kafka."""
    # Read with the service's own prefix, e.g. LUMBUNG_CATALOG_HTTP_PORT.
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    worker_http_port: int = 0
    """Where the service's stream worker answers /healthz, /readyz and /metrics (0: off),
    e.g. LUMBUNG_INVENTORY_WORKER_HTTP_PORT."""
    ready_max_lag: int = Field(default=10_000, ge=0, validation_alias=_shared("READY_MAX_LAG"))
    """Events the service's workers may have left to read before its API's /readyz answers
    503: far above a burst they clear in a second or two, far below a worker that stalled."""
    worker_instance: str = Field(default="", validation_alias=_shared("WORKER_INSTANCE"))
    """A name this worker process keeps across its restarts, different for every worker of
    the service (e.g. `inventory-0`). With it the worker is a static member of its consumer
    groups (KIP-345): restarted after a crash, it takes its partitions back at once instead
    of after the dead process's session expires, and without a rebalance of the others. A
    worker stopped for good hands its partitions on only when its session expires (6 s).
    Empty: a dynamic member. Two live processes must never share a name: the newer fences
    the older out of the group."""

    @model_validator(mode="after")
    def _refuse_default_secrets_outside_development(self) -> Self:
        if self.environment is Environment.PRODUCTION and self.secret_key in ("", DEV_SECRET):
            raise ValueError("LUMBUNG_SECRET_KEY must be set to a real secret outside development")
        return self

    @property
    def registry(self) -> Registry:
        return Registry(prefix=self.topic_prefix)
