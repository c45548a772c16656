"""Statements from ledgers, without a broker: lines, rounding, rates per day, states."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from lumbung.books.domain import (
    Ledger,
    StatementState,
    UnknownStatement,
    commission_of,
    figures,
    lines_of,
    parse_number,
    period_end,
    state_of,
    statement_number,
)
from lumbung.books.service import rate_on
from lumbung.contracts import OutletChanged
from lumbung.contracts.events.catalog import Channel, CommissionRate
from lumbung.platform.clock import WITA
from services.books.tests.unit.test_handlers import outlet

SKU = "KERIPIK-PISANG-200"


def shop(**more: object) -> OutletChanged:
    return outlet("IDM-GROGOT-1", Channel.INDOMARET, **more)


def ledger(sold: dict[str, int], **returns: tuple[str, int, int]) -> Ledger:
    return Ledger(
        sold=sold,
        returns={
            rid: {"day": day, "lines": [[SKU, price, qty]], "refund": price * qty}
            for rid, (day, price, qty) in returns.items()
        },
    )


def test_commission_is_rounded_to_whole_rupiah_half_up() -> None:
    assert commission_of(12_345, 10.0) == 1_235  # 1,234.5
    assert commission_of(12_344, 10.0) == 1_234  # 1,234.4
    assert commission_of(1_005, 12.5) == 126  # 125.625
    assert commission_of(-12_345, 10.0) == -1_235  # a line that owes back, the same way
    assert commission_of(3, 15.0) == 0  # 0.45


def test_a_line_is_gross_less_its_commission_and_the_totals_are_the_lines_sums() -> None:
    sold = {f"2026-11-03|{SKU}|15000": 10, "2026-11-04|AMPLANG-IKAN-250|24500": 3}
    lines, refunds = lines_of([ledger(sold, R1=("2026-11-05", 15_000, 2))], lambda _: 15.0)

    shown = figures(lines, refunds)
    assert [(line["sku"], line["sold"], line["returned"]) for line in shown["lines"]] == [
        ("AMPLANG-IKAN-250", 3, 0),
        (SKU, 10, 2),
    ]
    amplang, keripik = shown["lines"]
    assert (amplang["gross_idr"], amplang["commission_idr"], amplang["net_idr"]) == (
        73_500,
        11_025,
        62_475,
    )
    assert (keripik["gross_idr"], keripik["commission_idr"], keripik["net_idr"]) == (
        120_000,
        18_000,
        102_000,
    )
    assert (shown["gross_idr"], shown["commission_idr"], shown["net_idr"]) == (
        193_500,
        29_025,
        164_475,
    )
    assert (shown["sold"], shown["returned"], shown["refunds_idr"]) == (13, 2, 30_000)


def test_rounding_is_per_line_not_on_the_total() -> None:
    # Two prices, each line's commission ends in .5: each rounds up by itself.
    sold = {f"2026-11-03|{SKU}|15005": 1, f"2026-11-03|{SKU}|15015": 1}
    lines, _ = lines_of([ledger(sold)], lambda _: 10.0)

    assert [line.commission_idr for line in lines] == [1_501, 1_502]  # 1,500.5 and 1,501.5
    assert figures(lines, 0)["commission_idr"] == 3_003  # not round(3,002.0)


def shop_whose_rate_falls_on_the_16th() -> OutletChanged:
    """15 % from January, 12 % from 16 November 2026."""
    return shop(
        commission_percent=12.0,
        commission_history=[
            CommissionRate(effective_from=date(2026, 1, 1), percent=15.0),
            CommissionRate(effective_from=date(2026, 11, 16), percent=12.0),
        ],
    )


def test_a_commission_change_in_mid_month_applies_from_its_day() -> None:
    outlet = shop_whose_rate_falls_on_the_16th()
    sold = {f"2026-11-15|{SKU}|15000": 10, f"2026-11-16|{SKU}|15000": 10}
    lines, _ = lines_of([ledger(sold)], rate_on(outlet))

    assert [(line.commission_percent, line.sold, line.commission_idr) for line in lines] == [
        (12.0, 10, 18_000),
        (15.0, 10, 22_500),
    ]


def test_a_return_counts_at_the_rate_of_the_day_its_sale_sold() -> None:
    outlet = shop_whose_rate_falls_on_the_16th()
    sold = {f"2026-11-10|{SKU}|15000": 4}
    back = ledger(sold, R1=("2026-11-20", 15_000, 1))
    back.returns["R1"]["sold_on"] = "2026-11-10"
    lines, _ = lines_of([back], rate_on(outlet))

    assert [(line.commission_percent, line.sold, line.returned) for line in lines] == [(15.0, 4, 1)]


def test_an_outlet_the_forum_runs_takes_no_commission() -> None:
    kiosk = outlet("IKN-01", Channel.IKN_KIOSK)
    lines, _ = lines_of([ledger({f"2026-11-03|{SKU}|15000": 7})], rate_on(kiosk))

    assert [(line.commission_percent, line.gross_idr, line.net_idr) for line in lines] == [
        (0.0, 105_000, 105_000)
    ]


def test_a_statement_moves_from_open_to_issued_part_paid_and_paid() -> None:
    net = 164_475
    assert state_of(False, net, 0) is StatementState.OPEN
    assert state_of(True, net, 0) is StatementState.ISSUED
    assert state_of(True, net, 100_000) is StatementState.PART_PAID
    assert state_of(True, net, net) is StatementState.PAID
    assert state_of(True, 0, 0) is StatementState.PAID  # nothing owed


def test_a_number_names_its_period_supplier_and_outlet_even_with_dashes_in_ids() -> None:
    number = statement_number("2026-11", "SUP-KERIPIK", "IDM-GROGOT-1")

    assert number == "ST-2026-11-SUP-KERIPIK-IDM-GROGOT-1"
    found = parse_number(number, ["SUP-KERIPIK", "SUP-AMPLANG"], ["IDM-GROGOT-1", "GROGOT-1"])
    assert found == ("2026-11", "SUP-KERIPIK", "IDM-GROGOT-1")


@pytest.mark.parametrize(
    "number",
    ["ST-2026-13-SUP-KERIPIK-IDM-GROGOT-1", "ST-2026-11-SUP-OTHER-IDM-GROGOT-1", "XX-2026-11-A-B"],
)
def test_a_number_the_catalog_cannot_place_is_unknown(number: str) -> None:
    with pytest.raises(UnknownStatement):
        parse_number(number, ["SUP-KERIPIK"], ["IDM-GROGOT-1"])


def test_a_period_ends_at_midnight_of_the_next_month_in_the_outlets_zone() -> None:
    assert period_end("2026-11", WITA) == datetime(2026, 12, 1, tzinfo=WITA)
    assert period_end("2026-12", WITA) == datetime(2027, 1, 1, tzinfo=WITA)
