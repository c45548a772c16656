"""Fixtures of the books suite: the books API in-process on the real broker and Redis,
with the clock of the test's workers. Shared fixtures come from tests/support/fixtures.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lumbung.contracts import Registry
from tests.support.fixtures import in_process_api


@pytest.fixture
def books_api(
    registry: Registry, ops_key: str, demo_catalog: dict[str, str], worker_env: dict[str, str]
) -> Iterator[Any]:
    with in_process_api("books", worker_env, registry, ops_key) as client:
        yield client
