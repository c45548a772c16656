"""The books service's command line.

lumbung-books api        run the HTTP API (statements: read, issue, record payments)
lumbung-books worker     run the stream worker (the kernel): sales and returns per
                         supplier, outlet and month, and the read model
"""

from __future__ import annotations

import argparse

from lumbung.books.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="lumbung-books",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["api", "worker"], help="what to run")
    parser.add_argument("--jobs", help="with worker: which of its jobs to run (comma-separated)")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "api":
        from lumbung.books.bootstrap import SERVICE, build_api
        from lumbung.platform.service import serve

        serve(build_api(settings), settings, SERVICE)
    else:
        from lumbung.books.entrypoints.worker import JOBS, Worker

        only = frozenset(j.strip() for j in args.jobs.split(",")) if args.jobs else JOBS
        Worker(settings).run(only)


if __name__ == "__main__":
    main()
