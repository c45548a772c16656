"""The outlet client as a clerk meets it: bad input answered in one line, "offline" told
from "refused", and a status a person can read (or a machine parse)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from lumbung.inventory import outlet_cli
from lumbung.inventory.outlet import HttpSender, OutletClient, Spool, Unreachable

OUTLET = "IKN-01"


def cli(spool: Path, *args: str) -> int:
    return outlet_cli.main(["--outlet", OUTLET, "--spool", str(spool), *args])


def api(answer: Callable[[dict[str, Any]], httpx.Response]) -> Callable[..., HttpSender]:
    """An HttpSender whose ingest API answers each batch with `answer(body)`."""

    def handler(request: httpx.Request) -> httpx.Response:
        return answer(orjson.loads(request.content))

    return lambda: HttpSender("http://inventory", "key", transport=httpx.MockTransport(handler))


def client_with(tmp_path: Path, sender: HttpSender, sales: int = 3) -> OutletClient:
    client = OutletClient(OUTLET, Spool(tmp_path / "spool.sqlite"), sender)
    for n in range(sales):
        client.spool.add({"sale_id": f"S-{n}", "sold_at": "2026-12-02T10:00:00+08:00", "lines": []})
    return client


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("AMPLANG-IKAN-250:two:25000", "QTY"),
        ("AMPLANG-IKAN-250:2:25.000", "PRICE"),
        ("AMPLANG-IKAN-250:0:25000", "QTY"),
        ("AMPLANG-IKAN-250:2:25000:1", "SKU:QTY[:PRICE]"),
        (":2:25000", "SKU:QTY[:PRICE]"),
    ],
)
def test_a_bad_line_is_refused_in_one_line_naming_the_part(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, named: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli(tmp_path / "spool.sqlite", "record", "--line", line)

    message = str(exited.value.code)
    assert "\n" not in message
    assert named in message
    assert repr(line) in message
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "spool.sqlite").exists(), "nothing was spooled"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(503, json={"detail": "Kafka did not acknowledge the write"}),
        httpx.Response(429, json={"detail": "too many requests"}),
    ],
)
def test_a_busy_or_failing_service_is_offline_and_the_sales_stay_pending(
    tmp_path: Path, answer: httpx.Response
) -> None:
    client = client_with(tmp_path, api(lambda _: answer)())

    with pytest.raises(Unreachable):
        client.flush()

    assert client.spool.counts() == {"pending": 3, "sent": 0, "refused": 0}


def test_a_key_for_another_outlet_is_refused_not_offline_and_the_sales_stay_visible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong_key = httpx.Response(403, json={"detail": "this key acts for outlet RA-KM47 only"})
    client = client_with(tmp_path, api(lambda _: wrong_key)())

    outcome = outlet_cli.flush_once(client)
    client.close()

    err = capsys.readouterr().err
    assert outcome == outlet_cli.REFUSED
    assert "refused 3 sales" in err
    assert "403: this key acts for outlet RA-KM47 only" in err
    assert "offline" not in err
    spool = tmp_path / "spool.sqlite"
    assert cli(spool, "status", "--json") == 0
    shown = orjson.loads(capsys.readouterr().out)
    assert (shown["pending"], shown["refused"]) == (0, 3)
    assert shown["refused_sales"][0] == {
        "sale_id": "S-0",
        "reason": "403: this key acts for outlet RA-KM47 only",
    }

    assert cli(spool, "resend") == 0
    right_key = api(lambda _: httpx.Response(202, json={"accepted": []}))
    fixed = OutletClient(OUTLET, Spool(spool), right_key())
    assert fixed.flush() == 3
    assert fixed.spool.counts() == {"pending": 0, "sent": 3, "refused": 0}


def test_a_refused_sale_is_set_aside_and_the_sales_behind_it_go_in(tmp_path: Path) -> None:
    def ingest(body: dict[str, Any]) -> httpx.Response:
        if any(sale["sale_id"] == "S-1" for sale in body["sales"]):
            return httpx.Response(
                422,
                json={
                    "detail": "invalid request",
                    "errors": [{"field": "lines.0.sku", "message": "'X' is not a product"}],
                },
            )
        return httpx.Response(202, json={"accepted": []})

    client = client_with(tmp_path, api(ingest)())

    assert client.flush() == 2
    assert client.spool.counts() == {"pending": 0, "sent": 2, "refused": 1}
    [refused] = client.spool.refused()
    assert refused.reason == "422: invalid request (lines.0.sku: 'X' is not a product)"


def test_returns_and_voids_go_out_in_order_with_the_sales_each_on_its_own(
    tmp_path: Path,
) -> None:
    asked: list[tuple[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        ids = [s["sale_id"] for s in body["sales"]] if "sales" in body else [body["return_id"]]
        asked.append((request.url.path.rsplit("/", 1)[1], ids))
        return httpx.Response(202, json={"accepted": []})

    sender = HttpSender("http://inventory", "key", transport=httpx.MockTransport(handler))
    spool = tmp_path / "spool.sqlite"
    assert cli(spool, "record", "--sale-id", "S-1", "--line", "AMPLANG-IKAN-250:2") == 0
    assert (
        cli(spool, "void", "--sale-id", "S-1", "--return-id", "V-1", "--line", "AMPLANG-IKAN-250:2")
        == 0
    )
    assert cli(spool, "record", "--sale-id", "S-2", "--line", "AMPLANG-IKAN-250:1:25000") == 0
    assert cli(spool, "record", "--sale-id", "S-3", "--line", "AMPLANG-IKAN-250:3") == 0
    assert (
        cli(
            spool,
            "return",
            "--sale-id",
            "S-3",
            "--return-id",
            "R-1",
            "--damaged",
            "--line",
            "AMPLANG-IKAN-250:1",
        )
        == 0
    )
    client = OutletClient(OUTLET, Spool(spool), sender)

    assert client.flush() == 5

    assert asked == [
        ("sales", ["S-1"]),
        ("returns", ["V-1"]),
        ("sales", ["S-2", "S-3"]),
        ("returns", ["R-1"]),
    ]
    assert client.spool.counts() == {"pending": 0, "sent": 5, "refused": 0}
    rows = client.spool._db.execute("SELECT sale_id, body FROM sales ORDER BY seq").fetchall()
    bodies = {key: orjson.loads(body) for key, body in rows}
    assert bodies["return:V-1"]["kind"] == "void"
    assert bodies["return:R-1"]["disposition"] == "damaged"
    assert "unit_price_idr" not in bodies["S-1"]["lines"][0]  # the ingest fills it in


def test_status_is_a_table_for_people_and_json_for_machines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spool = tmp_path / "spool.sqlite"
    assert cli(spool, "record", "--line", "AMPLANG-IKAN-250:2:25000", "--sale-id", "S-1") == 0
    capsys.readouterr()

    assert cli(spool, "status") == 0
    table = capsys.readouterr().out
    assert "{" not in table
    assert [line.split() for line in table.splitlines()[2:5]] == [
        ["pending", "1"],
        ["sent", "0"],
        ["refused", "0"],
    ]

    assert cli(spool, "status", "--json") == 0
    assert orjson.loads(capsys.readouterr().out) == {
        "outlet_id": OUTLET,
        "spool": str(spool),
        "pending": 1,
        "sent": 0,
        "refused": 0,
        "refused_sales": [],
    }
