"""The orders service's command line.

lumbung-orders api        run the HTTP API (place, read, cancel and fulfil orders)
lumbung-orders worker     run the stream worker (faust): order state, answers, timers
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
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "api":
        from lumbung.orders.bootstrap import SERVICE, build_api
        from lumbung.platform.service import serve

        serve(build_api(settings), settings, SERVICE)
    else:
        from lumbung.orders.entrypoints.worker import Worker
        from lumbung.platform.streams import run_worker

        run_worker(Worker(settings).app, "orders-worker", settings.log_level)


if __name__ == "__main__":
    main()
