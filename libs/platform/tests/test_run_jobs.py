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


def test_a_job_that_ran_well_for_a_while_is_restarted_after_the_first_pause_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Failing at once pauses longer each time; a run that lasted HEALTHY_RUN_S first
    starts the pauses over (a worker up for a week is not made to wait 30 s)."""
    import asyncio
    from types import SimpleNamespace

    from lumbung.platform import shell

    clock = [0.0]
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(
        shell, "asyncio", SimpleNamespace(sleep=sleep, CancelledError=asyncio.CancelledError)
    )
    monkeypatch.setattr(shell, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    runs = iter([0.0, 0.0, 0.0, shell.HEALTHY_RUN_S, 0.0, None])

    async def job() -> None:
        lasted = next(runs)
        if lasted is None:
            return
        clock[0] += lasted
        raise ConnectionError("the broker went away")

    asyncio.run(shell.forever("test", job))
    assert pauses == [1.0, 2.0, 5.0, 1.0, 2.0]
