"""`lumbung-catalog api` runs the HTTP API; `lumbung-catalog keys issue` issues a key."""

from __future__ import annotations

import argparse
import asyncio

from lumbung.catalog.bootstrap import SERVICE, build_api, issue_key_directly
from lumbung.catalog.settings import Settings
from lumbung.contracts import KeyRole
from lumbung.platform.service import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="lumbung-catalog")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("api", help="run the HTTP API")
    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    issue = keys.add_parser("issue", help="issue a key and print it (shown once)")
    issue.add_argument("--role", choices=[r.value for r in KeyRole], required=True)
    issue.add_argument("--subject", default="*", help="outlet or supplier id")
    issue.add_argument("--label", default="")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "api":
        serve(build_api(settings), settings, SERVICE)
    else:
        print(
            asyncio.run(issue_key_directly(settings, KeyRole(args.role), args.subject, args.label))
        )


if __name__ == "__main__":
    main()
