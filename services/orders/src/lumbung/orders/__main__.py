"""The orders service's command line.

lumbung-orders api        run the HTTP API (place, read, cancel and fulfil orders)
lumbung-orders worker     run the stream worker (the kernel): order state, answers, timers
"""

from __future__ import annotations

import argparse

from lumbung.orders.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="lumbung-orders",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["api", "worker"], help="what to run")
    parser.add_argument("--jobs", help="with worker: which of its jobs to run (comma-separated)")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "api":
        from lumbung.orders.bootstrap import SERVICE, build_api
        from lumbung.platform.service import serve

        serve(build_api(settings), settings, SERVICE)
    else:
        from lumbung.orders.entrypoints.worker import JOBS, Worker

        only = frozenset(j.strip() for j in args.jobs.split(",")) if args.jobs else JOBS
        Worker(settings).run(only)


if __name__ == "__main__":
    main()
