from __future__ import annotations

import pytest
from pydantic import ValidationError

from lumbung.platform.settings import DEV_SECRET, Environment, ServiceSettings


@pytest.mark.parametrize("secret", ["", DEV_SECRET])
def test_production_refuses_a_default_or_empty_secret(
    secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUMBUNG_ENVIRONMENT", "production")
    monkeypatch.setenv("LUMBUNG_SECRET_KEY", secret)

    with pytest.raises(ValidationError, match="LUMBUNG_SECRET_KEY"):
        ServiceSettings()


def test_development_runs_with_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LUMBUNG_SECRET_KEY", raising=False)
    monkeypatch.setenv("LUMBUNG_ENVIRONMENT", "development")

    assert ServiceSettings().environment is Environment.DEVELOPMENT


def test_broker_and_redis_come_from_the_standard_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1111")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:2222/0")
    monkeypatch.setenv("LUMBUNG_TOPIC_PREFIX", "t9")

    settings = ServiceSettings()

    assert settings.kafka_bootstrap_servers == "127.0.0.1:1111"
    assert settings.redis_url == "redis://127.0.0.1:2222/0"
    assert settings.registry.name("pos.sales") == "t9.pos.sales"
