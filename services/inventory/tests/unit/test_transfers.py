"""Transfers between outlets in the worker's stream, with no broker: in transit from
dispatch until the destination counts what arrived, a difference booked lost or found,
and a transfer that does not come flagged (issue 21)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from lumbung.contracts.events import inventory as inv
from lumbung.inventory.entrypoints.worker import stock_stream
from lumbung.inventory.handlers import flag_overdue_transfers, in_transit
from lumbung.inventory.service import HANDLING, TRAVEL_KMH, UNKNOWN_TRANSIT

from .test_forecast import BOOTH as NEAR_BOOTH
from .test_forecast import FAR_BOOTH, Catalog
from .test_handlers import BOOTH, IKN, NOW, Sent, Shelf, ledger, on


def dispatch(source: Shelf, qty: int = 4, to: str = IKN, transfer_id: str = "T-1") -> Sent:
    """The source sends `qty` AMPLANG; returns the dispatch it writes for the destination."""
    sent = source.send(
        "inventory.commands",
        inv.TransferRequested(
            transfer_id=transfer_id,
            from_outlet_id=BOOTH,
            to_outlet_id=to,
            lines=[inv.TransferLine(sku="AMPLANG", qty=qty)],
        ),
    )
    [dispatched] = on("inventory.commands", sent)
    assert (dispatched.key, dispatched.type) == (to, "inventory.TransferDispatched")
    return dispatched


def arrival(counted: int, transfer_id: str = "T-1") -> inv.TransferArrived:
    return inv.TransferArrived(
        transfer_id=transfer_id,
        from_outlet_id=BOOTH,
        to_outlet_id=IKN,
        lines=[inv.TransferLine(sku="AMPLANG", qty=counted)],
        received_at=NOW,
    )


def test_a_transfer_is_in_transit_until_counted_and_what_is_short_is_booked_lost() -> None:
    booth, ikn = Shelf(), Shelf()
    booth.count(AMPLANG=10)

    dispatched = dispatch(booth, qty=4)
    taken_in = ikn.send_raw("inventory.commands", dispatched.key, dispatched.value)

    assert booth.stock(BOOTH, "AMPLANG").on_hand == 6
    assert on("inventory.stock", taken_in) == []  # in transit: not at the destination yet
    assert in_transit(IKN, "T-1") in ikn.state
    assert (
        datetime.fromisoformat(dispatched.data["expected_at"])
        - datetime.fromisoformat(dispatched.data["dispatched_at"])
        == UNKNOWN_TRANSIT
    )  # the test catalog knows neither outlet

    counted_id = uuid.uuid4()
    counted = ikn.send("inventory.commands", arrival(3), event_id=counted_id)

    assert ledger(counted) == [
        ("AMPLANG", 4, 0, 4, "transfer_in"),
        ("AMPLANG", 3, 0, -1, "adjustment:lost"),
    ]
    assert in_transit(IKN, "T-1") not in ikn.state
    assert ikn.send("inventory.commands", arrival(3), event_id=counted_id) == []  # once


def test_more_than_was_sent_is_booked_found() -> None:
    booth, ikn = Shelf(), Shelf()
    booth.count(AMPLANG=10)
    dispatched = dispatch(booth, qty=4)
    ikn.send_raw("inventory.commands", dispatched.key, dispatched.value)

    counted = ikn.send("inventory.commands", arrival(5))

    assert ledger(counted)[-1] == ("AMPLANG", 5, 0, 1, "adjustment:found")


def test_an_arrival_with_no_dispatch_to_check_comes_in_as_it_says() -> None:
    ikn = Shelf()

    counted = ikn.send("inventory.commands", arrival(4))  # as written before issue 21

    assert ledger(counted) == [("AMPLANG", 4, 0, 4, "transfer_in")]


def test_a_transfer_not_received_by_its_expected_time_is_flagged_once() -> None:
    booth, ikn = Shelf(), Shelf()
    booth.count(AMPLANG=10)
    dispatched = dispatch(booth)
    ikn.send_raw("inventory.commands", dispatched.key, dispatched.value)
    due = datetime.fromisoformat(dispatched.data["expected_at"])

    early = flag_overdue_transfers(ikn.state, due - timedelta(minutes=1))
    late = flag_overdue_transfers(ikn.state, due + timedelta(minutes=1))
    ikn.state.update(late.changes)
    again = flag_overdue_transfers(ikn.state, due + timedelta(hours=1))

    assert (early.events, early.changes) == ([], {})
    [flag] = late.events
    assert (flag.topic, flag.key) == ("inventory.alerts", IKN)
    assert b'"inventory.TransferOverdue"' in flag.value
    assert b'"transfer_id":"T-1"' in flag.value
    assert again.events == []


def test_a_transfer_is_expected_after_the_drive_between_the_outlets_and_handling() -> None:
    catalog = Catalog()
    source = Shelf(stock_stream(catalog))
    near, far = catalog.outlets[NEAR_BOOTH], catalog.outlets[FAR_BOOTH]
    assert near.location is not None
    assert far.location is not None
    road_km = near.location.km_to(far.location) * 1.3
    source.send(
        "inventory.commands",
        inv.StockCounted(
            count_id="OPEN",
            outlet_id=NEAR_BOOTH,
            kind=inv.CountKind.OPENING,
            lines=[inv.CountedLine(sku="AMPLANG", counted=10)],
            counted_at=NOW,
        ),
    )

    sent = source.send(
        "inventory.commands",
        inv.TransferRequested(
            transfer_id="T-9",
            from_outlet_id=NEAR_BOOTH,
            to_outlet_id=FAR_BOOTH,
            lines=[inv.TransferLine(sku="AMPLANG", qty=2)],
        ),
    )

    [dispatched] = on("inventory.commands", sent)
    took = datetime.fromisoformat(dispatched.data["expected_at"]) - datetime.fromisoformat(
        dispatched.data["dispatched_at"]
    )
    assert took == HANDLING + timedelta(hours=road_km / TRAVEL_KMH)


def test_a_count_that_comes_before_its_dispatch_leaves_nothing_in_transit() -> None:
    booth, ikn = Shelf(), Shelf()
    booth.count(AMPLANG=10)
    dispatched = dispatch(booth, qty=4)

    ikn.send("inventory.commands", arrival(4))
    ikn.send_raw("inventory.commands", dispatched.key, dispatched.value)

    assert ikn.stock(IKN, "AMPLANG").on_hand == 4
    assert in_transit(IKN, "T-1") not in ikn.state
    late = flag_overdue_transfers(ikn.state, NOW + timedelta(days=3))
    assert late.events == []
