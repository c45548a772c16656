"""A worker's `--jobs` names only jobs it has."""

from __future__ import annotations

import pytest

from lumbung.platform.settings import ServiceSettings
from lumbung.platform.shell import run_jobs


async def nothing() -> None:
    return None


@pytest.mark.parametrize("only", [frozenset({"stock", "ledgerz"}), frozenset()])
def test_a_worker_refuses_jobs_it_does_not_have(only: frozenset[str]) -> None:
    jobs = {"stock": nothing, "read-model": nothing}

    with pytest.raises(SystemExit, match="jobs are read-model, stock"):
        run_jobs("test", ServiceSettings(), jobs, only, lambda: None, {})
