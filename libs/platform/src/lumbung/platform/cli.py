"""The command line of a service, `lumbung-<service> api|worker [--jobs a,b]`: the API from
`lumbung.<service>.bootstrap.build_api`, the worker from
`lumbung.<service>.entrypoints.worker` (`Worker`, `JOBS`), each imported only when run."""

from __future__ import annotations

import argparse
import importlib


def service_main(service: str, doc: str | None, argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog=f"lumbung-{service}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["api", "worker"], help="what to run")
    parser.add_argument("--jobs", help="with worker: which of its jobs to run (comma-separated)")
    args = parser.parse_args(argv)
    settings = importlib.import_module(f"lumbung.{service}.settings").Settings()
    if args.command == "api":
        from lumbung.platform.service import serve

        build_api = importlib.import_module(f"lumbung.{service}.bootstrap").build_api
        serve(build_api(settings), settings, service)
    else:
        worker = importlib.import_module(f"lumbung.{service}.entrypoints.worker")
        only = frozenset(j.strip() for j in args.jobs.split(",")) if args.jobs else worker.JOBS
        worker.Worker(settings).run(only)
