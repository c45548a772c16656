"""`lumbung-orders api` runs the HTTP API."""

from __future__ import annotations

import argparse

from lumbung.orders.bootstrap import SERVICE, build_api
from lumbung.orders.settings import Settings
from lumbung.platform.service import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="lumbung-orders")
    parser.add_argument("command", choices=["api"], help="what to run")
    parser.parse_args(argv)
    settings = Settings()
    serve(build_api(settings), settings, SERVICE)


if __name__ == "__main__":
    main()
