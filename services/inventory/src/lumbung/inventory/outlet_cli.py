"""`lumbung-outlet`: the outlet client's command line.

    lumbung-outlet --outlet IKN-01 record --line AMPLANG-IKAN-250:2:25000 [--sale-id S-1]
    lumbung-outlet --outlet IKN-01 flush          send what is spooled, in order
    lumbung-outlet --outlet IKN-01 run --every 5  keep flushing; survives the network going
    lumbung-outlet --outlet IKN-01 status         pending, sent and refused sales

Through the ingest API (--url, key in --key or LUMBUNG_API_KEY) or, for a trusted gateway,
straight to Kafka (--gateway, with KAFKA_BOOTSTRAP_SERVERS). The spool is a SQLite file
(--spool, default ~/.lumbung/<outlet>.sqlite).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from lumbung.contracts import Registry
from lumbung.inventory.outlet import (
    GatewaySender,
    HttpSender,
    OutletClient,
    Sender,
    Spool,
    Unreachable,
)


def _sender(args: argparse.Namespace) -> Sender:
    if args.gateway:
        return GatewaySender(
            os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            Registry(prefix=os.environ.get("LUMBUNG_TOPIC_PREFIX", "")),
        )
    if not args.key:
        raise SystemExit("an outlet key is needed: --key or LUMBUNG_API_KEY")
    return HttpSender(args.url, args.key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lumbung-outlet",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--outlet", required=True)
    parser.add_argument("--spool", type=Path)
    parser.add_argument(
        "--url", default=os.environ.get("LUMBUNG_INVENTORY_URL", "http://127.0.0.1:8002")
    )
    parser.add_argument("--key", default=os.environ.get("LUMBUNG_API_KEY"))
    parser.add_argument("--gateway", action="store_true", help="produce to Kafka directly")
    commands = parser.add_subparsers(dest="command", required=True)
    record = commands.add_parser("record", help="spool one sale")
    record.add_argument("--line", action="append", required=True, help="SKU:QTY:PRICE")
    record.add_argument("--sale-id")
    commands.add_parser("flush", help="send what is spooled")
    run = commands.add_parser("run", help="flush again and again")
    run.add_argument("--every", type=float, default=5.0)
    commands.add_parser("status", help="what is pending, sent, refused")
    args = parser.parse_args(argv)

    spool = Spool(args.spool or Path.home() / ".lumbung" / f"{args.outlet}.sqlite")
    if args.command == "record":
        lines = []
        for line in args.line:
            sku, qty, price = line.split(":")
            lines.append((sku, int(qty), int(price)))
        client = OutletClient(args.outlet, spool)
        print(client.record(lines, datetime.now(ZoneInfo("Asia/Makassar")), args.sale_id))
        return 0
    if args.command == "status":
        print(spool.counts())
        for refused in spool.refused():
            print(f"refused {refused.sale_id}: {refused.reason}")
        return 0
    client = OutletClient(args.outlet, spool, _sender(args))
    while True:
        try:
            sent = client.flush()
            print(f"sent {sent}; {spool.counts()}", flush=True)
        except Unreachable as exc:
            print(
                f"offline, keeping {spool.counts().get('pending', 0)} sales: {exc}",
                file=sys.stderr,
                flush=True,
            )
            if args.command == "flush":
                return 1
        if args.command == "flush":
            return 0
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
