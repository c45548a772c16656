"""Broker-free CPU per one-line sale in the stock stream's `Batch.add`: the handlers as they
are, against the same stream with the plain handler for sales (no note kept for returns,
no price check): what issue 18 added to the hot path. Min of 6 runs each, interleaved.

    .venv/bin/python bench/batch_cost.py [--profile]
"""

import sys
import time
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from lumbung.contracts import Registry, encode, make_event, sale_event_id
from lumbung.contracts.events import pos
from lumbung.contracts.events.inventory import StockCounted
from lumbung.inventory.entrypoints.worker import stock_stream
from lumbung.platform.kernel import Batch, IdMemory, Stream
from services.inventory.tests.unit.test_forecast import Catalog

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Makassar"))
REG = Registry()
N = 40_000
OUTLETS = [f"OUT-{i}" for i in range(20)]
records = []
for n in range(N):
    o = OUTLETS[n % 20]
    sale = pos.SaleRecorded(
        sale_id=f"S{n}",
        outlet_id=o,
        sold_at=NOW,
        lines=[pos.SaleLine(sku="AMPLANG", qty=1, unit_price_idr=25_000)],
    )
    raw = encode(
        make_event(
            sale,
            event_id=sale_event_id(o, f"S{n}"),
            occurred_at=NOW,
            producer="b",
            correlation_id="c",
        )
    )
    records.append(
        SimpleNamespace(topic="pos.sales", partition=0, offset=n, key=o.encode(), value=raw)
    )


def run(stream):
    state, ids = {}, IdMemory(stream.ids_per_key, stream.id_horizon)
    t = time.process_time()
    for i in range(0, N, 5000):
        b = Batch(stream, REG, state, ids, NOW)
        for r in records[i : i + 5000]:
            b.add("pos.sales", r)
        b.finish()
    return (time.process_time() - t) / N * 1e6


now_stream = stock_stream(Catalog())
plain = dict(now_stream.handlers)
plain[pos.SaleRecorded] = plain[StockCounted]  # the generic handler every command has
old_stream = Stream(**{**now_stream.__dict__, "handlers": plain})
a, b = [], []
for _ in range(6):
    a.append(run(now_stream))
    b.append(run(old_stream))
print(f"min now {min(a):.1f} us/line, plain {min(b):.1f} us/line")
if "--profile" in sys.argv:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(run, now_stream)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
