from __future__ import annotations

from lumbung.inventory.domain import (
    Alerted,
    Moved,
    OutletStock,
    Rejected,
    Reserved,
    RestockDone,
    RestockNeeded,
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
    outlet = outlet_with(AMPLANG=5)
    outlet.reserve("O-1", [("AMPLANG", 2)])

    assert OutletStock.from_dict(outlet.to_dict()) == outlet
