"""The notifications service's command line.

lumbung-notifications api       run the HTTP API (supplier answers, answer links)
lumbung-notifications worker    run the stream worker (faust): messages and their delivery
"""

from __future__ import annotations

import argparse

from lumbung.notifications.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="lumbung-notifications",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["api", "worker"], help="what to run")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "api":
        from lumbung.notifications.bootstrap import SERVICE, build_api
        from lumbung.platform.service import serve

        serve(build_api(settings), settings, SERVICE)
    else:
        from lumbung.notifications.entrypoints.worker import Worker
        from lumbung.platform.streams import run_worker

        run_worker(Worker(settings).app, "notifications-worker", settings.log_level)


if __name__ == "__main__":
    main()
