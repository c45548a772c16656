"""The catalog's command line.

    lumbung-catalog api                                  run the HTTP API
    lumbung-catalog keys issue --role ops [--subject ID] issue a key (printed once)
    lumbung-catalog demo [--if-empty] [--wait S]         load the demo catalog via the API
    lumbung-catalog import FILE --sheet products [--dry-run]   import a spreadsheet (CSV)

`demo` and `import` talk to the API at --url with the ops key in LUMBUNG_API_KEY or --key.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from lumbung.catalog.settings import Settings
from lumbung.contracts import KeyRole
from lumbung.platform.clock import SystemClock


def _client_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", default=os.environ.get("LUMBUNG_CATALOG_URL", "http://127.0.0.1:8001")
    )
    parser.add_argument(
        "--key",
        default=os.environ.get("LUMBUNG_API_KEY"),
        help="an ops key (default: $LUMBUNG_API_KEY)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="how long to wait for the API to answer and accept the key (default: 15)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lumbung-catalog",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("api", help="run the HTTP API")
    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    issue = keys.add_parser("issue", help="issue a key and print it (shown once)")
    issue.add_argument("--role", choices=[r.value for r in KeyRole], required=True)
    issue.add_argument("--subject", default="*", help="outlet or supplier id")
    issue.add_argument("--label", default="")
    demo = commands.add_parser("demo", help="load the demo catalog of Paser")
    demo.add_argument(
        "--if-empty", action="store_true", help="only into a catalog that holds no product yet"
    )
    _client_args(demo)
    importer = commands.add_parser("import", help="import a spreadsheet exported as CSV")
    importer.add_argument("file", type=Path)
    importer.add_argument("--sheet", choices=["products", "suppliers", "outlets"], required=True)
    importer.add_argument("--dry-run", action="store_true", help="check only; write nothing")
    _client_args(importer)
    args = parser.parse_args(argv)

    if args.command == "api":
        from lumbung.catalog.bootstrap import SERVICE, build_api
        from lumbung.platform.service import serve

        settings = Settings()
        serve(build_api(settings), settings, SERVICE)
        return 0
    if args.command == "keys":
        from lumbung.catalog.bootstrap import issue_key_directly

        print(
            asyncio.run(
                issue_key_directly(Settings(), KeyRole(args.role), args.subject, args.label)
            )
        )
        return 0

    from lumbung.catalog.client import CatalogClient

    if not args.key:
        parser.error("an ops key is needed: --key or LUMBUNG_API_KEY")
    client = CatalogClient(args.url, args.key)
    client.wait_until_key_accepted(args.wait)
    if args.command == "demo":
        products = client.count("products") if args.if_empty else 0
        if products:
            print(f"the catalog holds {products} products: the demo is not loaded again")
            return 0
        count = client.load_demo(SystemClock().now().date())
        print(f"demo catalog loaded: {count} entities")
        return 0
    report = client.import_sheet(args.sheet, args.file, args.dry_run)
    verb = "would import" if report["dry_run"] else "imported"
    print(
        f"{args.file}: {report['rows']} rows, {verb} {len(report['imported'])}, "
        f"refused {len(report['problems'])}"
    )
    for problem in report["problems"]:
        print(f"  {problem['message']}")
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
