"""`lumbung-outlet`: the outlet client's command line.

    lumbung-outlet --outlet IKN-01 record --line AMPLANG-IKAN-250:2:25000 [--sale-id S-1]
    lumbung-outlet --outlet IKN-01 return --sale-id S-1 --line AMPLANG-IKAN-250:1 [--damaged]
    lumbung-outlet --outlet IKN-01 void --sale-id S-1 --line AMPLANG-IKAN-250:2
    lumbung-outlet --outlet IKN-01 flush          send what is spooled, in order
    lumbung-outlet --outlet IKN-01 run --every 5  keep flushing; survives the network going
    lumbung-outlet --outlet IKN-01 status [--json]  pending, sent and refused sales
    lumbung-outlet --outlet IKN-01 resend [--sale-id S-1]  queue refused sales again
    lumbung-outlet --outlet PORPROV-B1 close-out --count AMPLANG-IKAN-250:6 [--close-id C-1]
                                       a booth's closing count, after its spooled sales

Through the ingest API (--url, key in --key or LUMBUNG_API_KEY) or, for a trusted gateway,
straight to Kafka (--gateway, with KAFKA_BOOTSTRAP_SERVERS). The spool is a SQLite file
(--spool, default ~/.lumbung/<outlet>.sqlite).

A line's price may be left out (SKU:QTY): the ingest fills in the outlet's price. A return
brings back part of a sale; a void cancels all of it within minutes of the sale (the
service's void window). Both are spooled with the sales and go out in order after them.

Offline (no connection, 5xx, 429): the sales stay pending and go on a later flush; `flush`
exits 1. Refused (any other 4xx): the sales are set aside with the reason, shown by
`status`; fix the cause (the key, the catalog) and `resend`; `flush` exits 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from lumbung.contracts import Registry
from lumbung.contracts.events import pos
from lumbung.inventory.outlet import (
    GatewaySender,
    HttpSender,
    OutletClient,
    Sender,
    Spool,
    Unreachable,
)

LINE_FORMAT = "SKU:QTY[:PRICE], e.g. AMPLANG-IKAN-250:2:25000 or AMPLANG-IKAN-250:2"
OFFLINE, REFUSED = 1, 2


def _sender(args: argparse.Namespace) -> Sender:
    if args.gateway:
        return GatewaySender(
            os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            Registry(prefix=os.environ.get("LUMBUNG_TOPIC_PREFIX", "")),
        )
    if not args.key:
        raise SystemExit("lumbung-outlet: an outlet key is needed: --key or LUMBUNG_API_KEY")
    return HttpSender(args.url, args.key)


def sale_line(text: str) -> tuple[str, int, int | None]:
    """One `--line`, or SystemExit with a one-line message naming what is wrong."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0]:
        raise SystemExit(f"lumbung-outlet: --line {text!r}: expected {LINE_FORMAT}")
    if len(parts) == 2:
        parts.append("")
    sku, qty, price = parts
    if not qty.isdigit() or int(qty) < 1:
        raise SystemExit(
            f"lumbung-outlet: --line {text!r}: QTY must be a whole number of at least 1 "
            f"({LINE_FORMAT})"
        )
    if price and not price.isdigit():
        raise SystemExit(
            f"lumbung-outlet: --line {text!r}: PRICE must be whole rupiah, digits only "
            f"({LINE_FORMAT})"
        )
    return sku, int(qty), int(price) if price else None


def close_out(client: OutletClient, args: argparse.Namespace) -> int:
    """The closing count, sent only once every spooled sale is: a sale applied after the
    count would take from what was counted."""
    counts = [count_line(text) for text in args.count]
    if flush_once(client) != 0 or client.spool.counts()["pending"]:
        print("the closing count waits until the spooled sales are sent", file=sys.stderr)
        return OFFLINE
    sender = client.sender
    if not isinstance(sender, HttpSender):
        raise SystemExit("lumbung-outlet: close-out goes through the ingest API (--url, --key)")
    now = datetime.now(ZoneInfo("Asia/Makassar"))
    close_id = args.close_id or f"CLOSE-{args.outlet}-{now:%Y%m%d%H%M}"
    body = {
        "close_id": close_id,
        "lines": [{"sku": sku, "counted": n} for sku, n in counts],
        "closed_at": now.isoformat(),
    }
    try:
        refused = sender.close_out(args.outlet, body)
    except Unreachable as exc:
        print(f"offline: send the close-out again later: {exc}", file=sys.stderr)
        return OFFLINE
    if refused is not None:
        print(f"close-out refused: {refused}", file=sys.stderr)
        return REFUSED
    print(f"closing count {close_id} sent; the report: GET /v1/outlets/{args.outlet}/close-out")
    return 0


def count_line(text: str) -> tuple[str, int]:
    """One `--count SKU:UNITS`, or SystemExit naming what is wrong."""
    sku, _, units = text.partition(":")
    if not sku or not units.isdigit():
        raise SystemExit(f"lumbung-outlet: --count {text!r}: expected SKU:UNITS, e.g. MADU:3")
    return sku, int(units)


def counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[state]} {state}" for state in ("pending", "sent", "refused"))


def status(outlet_id: str, spool: Spool, spool_path: Path, as_json: bool) -> str:
    counts = spool.counts()
    refused = spool.refused()
    if as_json:
        report: dict[str, Any] = {
            "outlet_id": outlet_id,
            "spool": str(spool_path),
            **counts,
            "refused_sales": [{"sale_id": r.sale_id, "reason": r.reason} for r in refused],
        }
        return orjson.dumps(report, option=orjson.OPT_INDENT_2).decode()
    lines = [f"outlet {outlet_id}, spool {spool_path}", ""]
    lines += [f"  {state:<8} {counts[state]:>6}" for state in ("pending", "sent", "refused")]
    if refused:
        width = max(len("sale"), *(len(r.sale_id) for r in refused))
        lines += ["", "refused (fix the cause, then `resend`):", f"  {'sale':<{width}}  reason"]
        lines += [f"  {r.sale_id:<{width}}  {r.reason}" for r in refused]
    return "\n".join(lines)


def flush_once(client: OutletClient) -> int:
    """One flush, told as it went: 0 all sent, OFFLINE or REFUSED."""
    spool = client.spool
    refused_before = {r.sale_id for r in spool.refused()}
    try:
        sent = client.flush()
    except Unreachable as exc:
        pending = spool.counts()["pending"]
        print(f"offline, keeping {pending} sales to send later: {exc}", file=sys.stderr, flush=True)
        return OFFLINE
    counts = spool.counts()
    print(f"sent {sent}; spool: {counted(counts)}", flush=True)
    newly_refused = [r for r in spool.refused() if r.sale_id not in refused_before]
    if not newly_refused:
        return 0
    print(
        f"refused {len(newly_refused)} sales, e.g. {newly_refused[0].sale_id}: "
        f"{newly_refused[0].reason}; fix the cause, then `lumbung-outlet resend`",
        file=sys.stderr,
        flush=True,
    )
    return REFUSED


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
    record.add_argument("--line", action="append", required=True, help=LINE_FORMAT)
    record.add_argument("--sale-id")
    for name, what in (("return", "spool a return of part of a sale"), ("void", "spool a void")):
        back = commands.add_parser(name, help=what)
        back.add_argument("--sale-id", required=True, help="the sale it reverses")
        back.add_argument("--line", action="append", required=True, help=LINE_FORMAT)
        back.add_argument("--return-id")
        back.add_argument("--damaged", action="store_true", help="not fit to sell again")
    commands.add_parser("flush", help="send what is spooled")
    run = commands.add_parser("run", help="flush again and again")
    run.add_argument("--every", type=float, default=5.0)
    shown = commands.add_parser("status", help="what is pending, sent, refused")
    shown.add_argument("--json", action="store_true", help="for machines")
    resend = commands.add_parser("resend", help="queue refused sales again (after a fix)")
    resend.add_argument("--sale-id", action="append", help="only these (default: all)")
    closing = commands.add_parser(
        "close-out", help="a booth's closing count; what is left goes home (after the sales)"
    )
    closing.add_argument(
        "--count", action="append", default=[], help="SKU:UNITS left; a SKU left out is as booked"
    )
    closing.add_argument("--close-id", help="default: CLOSE-<outlet>-<date and time>")
    args = parser.parse_args(argv)

    spool_path = args.spool or Path.home() / ".lumbung" / f"{args.outlet}.sqlite"
    if args.command == "record":
        lines = [sale_line(line) for line in args.line]
        spool = Spool(spool_path)
        client = OutletClient(args.outlet, spool)
        print(client.record(lines, datetime.now(ZoneInfo("Asia/Makassar")), args.sale_id))
        return 0
    if args.command in ("return", "void"):
        client = OutletClient(args.outlet, Spool(spool_path))
        returned = client.give_back(
            args.sale_id,
            [sale_line(line) for line in args.line],
            datetime.now(ZoneInfo("Asia/Makassar")),
            pos.ReturnKind(args.command),
            args.return_id,
            pos.ReturnDisposition.DAMAGED if args.damaged else pos.ReturnDisposition.RESTOCK,
        )
        print(returned)
        return 0
    spool = Spool(spool_path)
    if args.command == "status":
        print(status(args.outlet, spool, spool_path, args.json))
        return 0
    if args.command == "resend":
        queued = spool.requeue(args.sale_id)
        print(f"{queued} refused sales queued again; `flush` sends them")
        return 0
    client = OutletClient(args.outlet, spool, _sender(args))
    if args.command == "close-out":
        return close_out(client, args)
    while True:
        outcome = flush_once(client)
        if args.command == "flush":
            return outcome
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
