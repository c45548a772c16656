from __future__ import annotations

from lumbung.inventory.domain import (
    Alerted,
    Moved,
    OutletStock,
    Rejected,
    Reserved,
    RestockDone,
    RestockNeeded,
    Stock,
    TransferSent,
)


def outlet_with(**on_hand: int) -> OutletStock:
    outlet = OutletStock("BOOTH-1")
    outlet.count([(sku.replace("_", "-"), qty) for sku, qty in on_hand.items()], "opening")
    return outlet


def kinds(effects: list[object], of: type) -> list[object]:
    return [e for e in effects if isinstance(e, of)]


def test_a_sale_lowers_on_hand_and_bumps_the_version() -> None:
    outlet = outlet_with(AMPLANG=10)

    effects = outlet.sell([("AMPLANG", 3)])

    [moved] = kinds(effects, Moved)
    assert (moved.stock.on_hand, moved.stock.version, moved.reason) == (7, 2, "sale")


def test_a_sale_below_zero_is_applied_and_raises_a_negative_stock_alert() -> None:
    outlet = outlet_with(AMPLANG=1)

    effects = outlet.sell([("AMPLANG", 3)])

    assert outlet.skus["AMPLANG"].on_hand == -2
    assert [a.kind for a in kinds(effects, Alerted)] == ["negative_stock"]


def test_a_sale_of_a_sku_never_heard_of_is_applied_and_alerted() -> None:
    outlet = outlet_with(AMPLANG=1)

    effects = outlet.sell([("MYSTERY", 1)], known={"AMPLANG"})

    assert outlet.skus["MYSTERY"].on_hand == -1
    assert "unknown_sku" in [a.kind for a in kinds(effects, Alerted)]


def test_a_multi_line_order_is_reserved_all_or_nothing() -> None:
    outlet = outlet_with(AMPLANG=5, MADU=1)

    rejected = outlet.reserve("O-1", [("AMPLANG", 2), ("MADU", 2)])
    reserved = outlet.reserve("O-2", [("AMPLANG", 2), ("MADU", 1)])

    assert kinds(rejected, Rejected) == [Rejected("O-1", [("MADU", 2, 1)])]
    assert kinds(reserved, Reserved) == [Reserved("O-2", {"AMPLANG": 2, "MADU": 1})]
    assert (outlet.skus["AMPLANG"].available, outlet.skus["MADU"].available) == (3, 0)


def test_a_repeated_order_gets_the_same_answer_and_holds_nothing_more() -> None:
    outlet = outlet_with(AMPLANG=5)
    outlet.reserve("O-1", [("AMPLANG", 2)])

    again = outlet.reserve("O-1", [("AMPLANG", 2)])

    assert again == [Reserved("O-1", {"AMPLANG": 2})]
    assert outlet.skus["AMPLANG"].reserved == 2


def test_cancel_releases_and_fulfil_commits() -> None:
    outlet = outlet_with(AMPLANG=5)
    outlet.reserve("O-1", [("AMPLANG", 2)])
    outlet.reserve("O-2", [("AMPLANG", 1)])

    outlet.release("O-1", "order_cancelled")
    outlet.fulfil("O-2")

    stock = outlet.skus["AMPLANG"]
    assert (stock.on_hand, stock.reserved, stock.available) == (4, 0, 4)


def test_reaching_the_reorder_point_asks_once_for_a_restock_up_to_par() -> None:
    outlet = outlet_with(AMPLANG=10)
    outlet.set_levels("AMPLANG", reorder_point=3, par_level=20)

    first = outlet.sell([("AMPLANG", 7)])
    second = outlet.sell([("AMPLANG", 1)])

    assert [r.suggested_qty for r in kinds(first, RestockNeeded)] == [17]  # type: ignore[attr-defined]
    assert kinds(second, RestockNeeded) == []


def test_the_receipt_closes_the_open_restock() -> None:
    outlet = outlet_with(AMPLANG=10)
    outlet.set_levels("AMPLANG", reorder_point=3, par_level=20)
    outlet.sell([("AMPLANG", 8)])
    outlet.open_restock("AMPLANG", "R-1")

    effects = outlet.receive("AMPLANG", 18, "R-1")

    assert kinds(effects, RestockDone) == [RestockDone("R-1", "AMPLANG", 18)]
    assert outlet.skus["AMPLANG"].restock_id is None


def requested(sku: str = "AMPLANG", restock_id: str = "R-1") -> OutletStock:
    """An outlet whose `sku` fell to its reorder point and asked for restock `restock_id`."""
    outlet = outlet_with(**{sku: 10})
    outlet.set_levels(sku, reorder_point=3, par_level=20)
    outlet.sell([(sku, 8)])
    outlet.open_restock(sku, restock_id)
    return outlet


def test_an_acceptance_puts_the_quantity_on_order_until_it_arrives() -> None:
    outlet = requested()

    assert outlet.restock_accepted("AMPLANG", "R-1", 18, "2026-07-15T09:00:00+08:00") == []

    stock = outlet.skus["AMPLANG"]
    assert (stock.on_order, stock.due_at) == (18, "2026-07-15T09:00:00+08:00")
    assert stock.on_hand == 2, "on order is not on hand"


def test_a_partial_delivery_leaves_the_rest_on_order_and_the_request_open() -> None:
    outlet = requested()
    outlet.restock_accepted("AMPLANG", "R-1", 18, "2026-07-15T09:00:00+08:00")

    first = outlet.receive("AMPLANG", 10, "R-1")

    stock = outlet.skus["AMPLANG"]
    assert kinds(first, RestockDone) == []
    assert (stock.on_hand, stock.on_order, stock.restock_id) == (12, 8, "R-1")
    assert kinds(outlet.sell([("AMPLANG", 10)]), RestockNeeded) == [], "still open: no new ask"

    rest = outlet.receive("AMPLANG", 8, "R-1")

    assert kinds(rest, RestockDone) == [RestockDone("R-1", "AMPLANG", 18)]
    assert (stock.on_order, stock.due_at, stock.received, stock.restock_id) == (0, None, 0, None)


def test_a_delivery_of_more_than_accepted_closes_the_request() -> None:
    outlet = requested()
    outlet.restock_accepted("AMPLANG", "R-1", 18, "2026-07-15T09:00:00+08:00")

    effects = outlet.receive("AMPLANG", 24, "R-1")

    assert kinds(effects, RestockDone) == [RestockDone("R-1", "AMPLANG", 24)]
    assert outlet.skus["AMPLANG"].on_order == 0


def test_an_answer_to_a_request_no_longer_open_changes_nothing() -> None:
    outlet = requested()
    outlet.receive("AMPLANG", 18, "R-1")  # delivered before the supplier answered: closed

    outlet.restock_accepted("AMPLANG", "R-1", 18, "2026-07-15T09:00:00+08:00")

    assert (outlet.skus["AMPLANG"].on_order, outlet.skus["AMPLANG"].due_at) == (0, None)


def test_a_declined_request_leaves_nothing_on_order() -> None:
    outlet = requested()
    outlet.restock_accepted("AMPLANG", "R-1", 18, "2026-07-15T09:00:00+08:00")

    outlet.restock_declined("AMPLANG", "R-1")

    stock = outlet.skus["AMPLANG"]
    assert (stock.on_order, stock.due_at, stock.restock_id) == (0, None, None)


def test_a_transfer_leaves_the_source_and_arrives_at_the_destination() -> None:
    source, destination = outlet_with(AMPLANG=10), OutletStock("IKN-01")

    sent = source.dispatch("T-1", "IKN-01", [("AMPLANG", 4)])
    destination.arrive([("AMPLANG", 4)])

    assert kinds(sent, TransferSent) == [TransferSent("T-1", "IKN-01", {"AMPLANG": 4})]
    assert (source.skus["AMPLANG"].on_hand, destination.skus["AMPLANG"].on_hand) == (6, 4)


def test_status_changes_raise_low_out_and_back_in_stock_alerts() -> None:
    outlet = outlet_with(AMPLANG=5)
    outlet.set_levels("AMPLANG", reorder_point=2, par_level=5)

    low = outlet.sell([("AMPLANG", 3)])
    out = outlet.sell([("AMPLANG", 2)])
    back = outlet.receive("AMPLANG", 5, None)

    assert [a.kind for a in kinds(low + out + back, Alerted)] == [
        "low_stock",
        "out_of_stock",
        "back_in_stock",
    ]


def test_the_state_survives_storage() -> None:
    outlet = requested()
    outlet.restock_accepted("AMPLANG", "R-1", 18, "2026-07-15T09:00:00+08:00")
    outlet.receive("AMPLANG", 5, "R-1")
    outlet.reserve("O-1", [("AMPLANG", 2)])

    assert OutletStock.from_dict(outlet.to_dict()) == outlet


def test_a_stock_stored_before_on_order_existed_reads_with_nothing_on_order() -> None:
    stored = [5, 1, 3, 20, 7, "R-1"]  # on hand, reserved, reorder point, par, version, request

    stock = Stock.from_list(stored)

    assert (stock.restock_id, stock.on_order, stock.due_at, stock.received) == ("R-1", 0, None, 0)
