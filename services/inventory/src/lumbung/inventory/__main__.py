"""The inventory service's command line.

lumbung-inventory api        run the HTTP API (POS ingest, commands, stock reads)
lumbung-inventory worker     run the stream worker (on the stream kernel); --jobs a,b runs
                             only those of stock, route-orders, read-model (default all)
lumbung-inventory rebuild    rebuild the Redis read model from the ledger topic
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from lumbung.inventory.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lumbung-inventory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["api", "worker", "rebuild", "import-count"])
    parser.add_argument("file", nargs="?", help="with import-count: the CSV file")
    parser.add_argument("--outlet")
    parser.add_argument("--kind", default="opening", choices=["opening", "full", "spot"])
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--jobs", help="with worker: which of its jobs to run (comma-separated)")
    parser.add_argument(
        "--url", default=os.environ.get("LUMBUNG_INVENTORY_URL", "http://127.0.0.1:8002")
    )
    parser.add_argument("--key", default=os.environ.get("LUMBUNG_API_KEY"))
    args = parser.parse_args(argv)
    if args.command == "import-count":
        return import_count(args)
    settings = Settings()
    if args.command == "api":
        from lumbung.inventory.bootstrap import SERVICE, build_api
        from lumbung.platform.service import serve

        serve(build_api(settings), settings, SERVICE)
    elif args.command == "worker":
        from lumbung.inventory.entrypoints.worker import JOBS, Worker

        only = frozenset(j.strip() for j in args.jobs.split(",")) if args.jobs else JOBS
        Worker(settings).run(only)
    else:
        from lumbung.inventory.adapters.read_model import StockReadModel, rebuild
        from lumbung.platform.cache import redis_client

        async def run() -> int:
            client = redis_client(settings.redis_url)
            try:
                return await rebuild(
                    settings.kafka_bootstrap_servers,
                    settings.registry,
                    StockReadModel(client, settings.registry.prefix),
                )
            finally:
                await client.aclose()

        print(f"rebuilt the stock read model: {asyncio.run(run())} changes applied")
    return 0


def import_count(args: argparse.Namespace) -> int:
    import httpx

    if not (args.file and args.outlet and args.key):
        raise SystemExit("import-count needs FILE, --outlet and a key (--key or LUMBUNG_API_KEY)")
    answer = httpx.post(
        f"{args.url}/v1/outlets/{args.outlet}/counts/import",
        params={"kind": args.kind, "dry_run": args.dry_run},
        content=Path(args.file).read_bytes(),
        headers={"X-API-Key": args.key, "Content-Type": "text/csv"},
        timeout=60,
    )
    if answer.status_code >= 400:
        raise SystemExit(f"{args.file}: {answer.json().get('detail', answer.text)}")
    report = answer.json()
    verb = "would count" if report["dry_run"] else "counted"
    print(
        f"{args.file}: {report['rows']} rows, {verb} {len(report['counted'])} SKUs, "
        f"refused {len(report['problems'])}"
    )
    for problem in report["problems"]:
        print(f"  {problem['message']}")
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
