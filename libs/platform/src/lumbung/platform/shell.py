"""The process shell of a stream worker on the kernel: run its jobs until SIGTERM, start
again with backoff a job that fails (a lost broker is waited out, never fatal), and
answer /healthz, /readyz and /metrics on the worker's own port, like every API.

faust's worker would do the same for a faust app, but a kernel worker has no faust agent:
faust's own consumer and producer would sit idle beside the kernel's, and faust stops the
whole process on a connection error it cannot place (docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import uvloop

from lumbung.platform import logs
from lumbung.platform.metrics import tune_collections
from lumbung.platform.settings import ServiceSettings

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]
BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
HEALTHY_RUN_S = 300.0
"""A job that ran this long before it failed was well: its next pause is the first."""
STOP_TIMEOUT_S = 15.0


def _log_tasks() -> None:
    """`kill -USR1` a worker: it logs where each of its asyncio tasks waits (a worker
    that stopped making progress says on what)."""
    for task in asyncio.all_tasks():
        where = []
        step: Any = task.get_coro()
        while step is not None:
            frame = getattr(step, "cr_frame", None) or getattr(step, "gi_frame", None)
            if frame is not None:
                where.append(
                    f"{frame.f_code.co_name} ({frame.f_code.co_filename}:{frame.f_lineno})"
                )
            step = getattr(step, "cr_await", None) or getattr(step, "gi_yieldfrom", None)
        log.warning("task %s waits in %s", task.get_name(), " > ".join(where) or "?")


async def forever(name: str, job: Job) -> None:
    """Run `job`; if it fails, log why and run it again after a growing pause (a worker's
    jobs, and an API's own followers, such as the catalog's projector). A run that lasted
    `HEALTHY_RUN_S` starts the pauses over: a failure a week later waits 1 s, not 30."""
    failures = 0
    while True:
        started = time.monotonic()
        try:
            await job()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            if time.monotonic() - started >= HEALTHY_RUN_S:
                failures = 0
            pause = BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]
            failures += 1
            log.exception("%s failed; starting it again in %.0f s", name, pause)
            await asyncio.sleep(pause)


class WorkerShell:
    def __init__(
        self,
        service: str,
        settings: ServiceSettings,
        *,
        checks: dict[str, Callable[[], Awaitable[bool]]] | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.checks = checks or {}
        """Named readiness checks for /readyz, each True when that part is ready."""

    def run(self, jobs: Sequence[tuple[str, Job]], stop: Callable[[], None]) -> None:
        """Run the named jobs in this process until SIGTERM or SIGINT, then call `stop`
        and give the jobs a moment to end (a kernel commits its batch in flight)."""
        logs.configure(f"{self.service}-worker", self.settings.log_level)
        tune_collections(f"{self.service}-worker")
        # uvloop, as the APIs get from uvicorn: the sale path's Python processes spend
        # most of their time in the event loop and its sockets (docs/decisions.md).
        uvloop.run(self._main(jobs, stop))

    async def _main(self, jobs: Sequence[tuple[str, Job]], stop: Callable[[], None]) -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        loop.add_signal_handler(signal.SIGUSR1, _log_tasks)
        web = await self._pages() if self.settings.worker_http_port else None
        tasks = [asyncio.create_task(forever(name, job), name=name) for name, job in jobs]
        await stopping.wait()
        log.info("stopping")
        stop()
        _, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_S)
        for task in pending:
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*pending)
        if web is not None:
            await web.cleanup()

    async def _pages(self) -> Any:
        from aiohttp import web

        from lumbung.platform.metrics import exposition

        async def healthz(_: web.Request) -> web.Response:
            return web.json_response({"status": "ok", "service": self.service})

        async def readyz(_: web.Request) -> web.Response:
            results: dict[str, bool] = {}
            for name, check in self.checks.items():
                try:
                    results[name] = bool(await check())
                except Exception:
                    results[name] = False
            ready = all(results.values())
            return web.json_response(
                {"status": "ready" if ready else "not ready", "checks": results},
                status=200 if ready else 503,
            )

        async def metrics(_: web.Request) -> web.Response:
            body, content_type = exposition()
            return web.Response(body=body, content_type=content_type.split(";")[0])

        app = web.Application()
        app.router.add_get("/healthz", healthz)
        app.router.add_get("/readyz", readyz)
        app.router.add_get("/metrics", metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.http_host, self.settings.worker_http_port)
        await site.start()
        return runner


Check = Callable[[], Awaitable[bool]]


def run_jobs(
    service: str,
    settings: ServiceSettings,
    jobs: Mapping[str, Job],
    only: frozenset[str],
    stop: Callable[[], None],
    checks: Mapping[str, tuple[str, Check]],
) -> None:
    """A worker's `--jobs`: run those of `jobs` named in `only` under a `WorkerShell`, with
    the broker's readiness check and each of `checks` (name -> (the job it is about, the
    check)) whose job runs here."""
    from lumbung.platform.broker import broker_ready

    unknown = only - set(jobs)
    if unknown or not only:
        raise SystemExit(f"jobs are {', '.join(sorted(jobs))}; not {', '.join(sorted(unknown))}")
    bootstrap = settings.kafka_bootstrap_servers
    ready: dict[str, Check] = {"kafka": lambda: broker_ready(bootstrap)}
    ready.update({name: check for name, (job, check) in checks.items() if job in only})
    shell = WorkerShell(service, settings, checks=ready)
    shell.run([(name, job) for name, job in jobs.items() if name in only], stop)
