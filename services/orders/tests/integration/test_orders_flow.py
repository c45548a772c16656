"""Orders against live stock: the orders API, the orders worker and the inventory worker
on the real broker and Redis."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest

from lumbung.platform.clock import WITA

pytestmark = pytest.mark.broker
OUTLET, SKU, OTHER = "IKN-01", "KERIPIK-PISANG-200", "KOPI-LIBERIKA-200"
BUTTONS = {"fulfil": "fulfilled", "cancel": "cancelled"}


def order_body(lines: list[tuple[str, int]], **changes: Any) -> dict[str, Any]:
    body = {
        "customer_name": "KBIH Al-Ikhlas Paser",
        "customer_phone": "+6281250011005",
        "kind": "souvenir_bulk",
        "outlet_id": OUTLET,
        "pickup_at": (datetime.now(WITA) + timedelta(hours=4)).isoformat(),
        "lines": [{"sku": sku, "qty": qty} for sku, qty in lines],
        "note": "oleh-oleh jemaah haji",
    }
    return body | changes


def place(api: Any, body: dict[str, Any], key: str | None = None, wait: float = 20) -> Any:
    headers = {"Idempotency-Key": key or f"test-{uuid.uuid4()}"}
    return api.post("/v1/orders", params={"wait": wait}, json=body, headers=headers)


@pytest.fixture
def running(workers: Any, open_outlet: Any) -> None:
    workers("inventory")
    workers("orders")
    open_outlet({SKU: 20, OTHER: 10})


def stock(read_model: Any, sku: str) -> tuple[int, int] | None:
    """(on hand, reserved), or None while the cell is not in the read model (a rebuild)."""
    cell = read_model.outlet(OUTLET).get(sku)
    return None if cell is None else (cell["on_hand"], cell["reserved"])


def test_placed_reserved_then_fulfilled_takes_the_units_off_the_shelf(
    running: None, orders_api: Any, read_model: Any
) -> None:
    answer = place(orders_api, order_body([(SKU, 5), (OTHER, 2)]))
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert order["state"] == "reserved"
    assert read_model.wait_for(lambda: stock(read_model, SKU) == (20, 5))

    fulfilled = orders_api.post(f"/v1/orders/{order['order_id']}/fulfil")
    assert fulfilled.status_code == 200, fulfilled.text
    assert fulfilled.json()["state"] == "fulfilled"
    assert read_model.wait_for(
        lambda: stock(read_model, SKU) == (15, 0) and stock(read_model, OTHER) == (8, 0)
    )
    assert read_model.wait_for(
        lambda: orders_api.get(f"/v1/orders/{order['order_id']}").json()["state"] == "fulfilled"
    )
    history = orders_api.get(f"/v1/orders/{order['order_id']}").json()["history"]
    assert [h["state"] for h in history] == ["placed", "reserved", "fulfilled"]
    again = orders_api.post(f"/v1/orders/{order['order_id']}/cancel")
    assert again.status_code == 409
    assert "fulfilled" in again.json()["detail"]


def test_an_order_beyond_what_is_available_is_rejected_with_the_shortfall(
    running: None, orders_api: Any, read_model: Any
) -> None:
    answer = place(orders_api, order_body([(SKU, 5), (OTHER, 12)]))
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert order["state"] == "rejected"
    assert order["shortfall"] == [{"sku": OTHER, "requested": 12, "available": 10, "missing": 2}]
    assert stock(read_model, SKU) == (20, 0), "a two-line order is never half reserved"
    assert orders_api.post(f"/v1/orders/{order['order_id']}/fulfil").status_code == 409


def test_cancel_and_expiry_each_release_the_reservation(
    running: None, orders_api: Any, read_model: Any, shift_clock: Any
) -> None:
    cancelled = place(orders_api, order_body([(SKU, 4)])).json()
    expiring = place(
        orders_api,
        order_body([(SKU, 3)], pickup_at=(datetime.now(WITA) + timedelta(hours=1)).isoformat()),
    ).json()
    assert (cancelled["state"], expiring["state"]) == ("reserved", "reserved")
    assert read_model.wait_for(lambda: stock(read_model, SKU) == (20, 7))

    answer = orders_api.post(
        f"/v1/orders/{cancelled['order_id']}/cancel", json={"reason": "jadwal berubah"}
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["state"], answer.json()["reason"]) == ("cancelled", "jadwal berubah")
    assert read_model.wait_for(lambda: stock(read_model, SKU) == (20, 3))

    shift_clock(timedelta(hours=3, minutes=5).total_seconds())  # past pickup + 2 h grace
    assert read_model.wait_for(lambda: stock(read_model, SKU) == (20, 0))
    assert read_model.wait_for(
        lambda: orders_api.get(f"/v1/orders/{expiring['order_id']}").json()["state"] == "expired"
    )
    listed = orders_api.get("/v1/orders", params={"outlet_id": OUTLET, "state": "cancelled"})
    assert [o["order_id"] for o in listed.json()["orders"]] == [cancelled["order_id"]]


def test_the_same_idempotency_key_places_one_order_and_refuses_another_body(
    running: None, orders_api: Any, on_topic: Any
) -> None:
    body = order_body([(SKU, 2)])
    first = place(orders_api, body, key="hajj-2026-kloter-7")
    second = place(orders_api, body, key="hajj-2026-kloter-7")
    assert first.status_code == 201, first.text
    assert second.status_code == 200, second.text
    assert second.json()["order_id"] == first.json()["order_id"]
    other = place(orders_api, order_body([(SKU, 3)]), key="hajj-2026-kloter-7")
    assert other.status_code == 409
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    placed = on_topic("orders.events", "orders.OrderPlaced", wait_for=1)
    assert len({e["event_id"] for e in placed}) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lines": [{"sku": "NOT-A-PRODUCT", "qty": 1}]}, "lines.0.sku"),
        ({"lines": [{"sku": SKU, "qty": 0}]}, "qty"),
        ({"lines": []}, "lines"),
        ({"customer_phone": "0812-abc"}, "customer_phone"),
        ({"pickup_at": "2020-01-01T10:00:00+08:00"}, "pickup_at"),
        (
            {
                "outlet_id": "BOOTH-STADION",
                "pickup_at": (datetime.now(WITA) + timedelta(days=30)).isoformat(),
            },
            "pickup_at",
        ),
        ({"outlet_id": "NOWHERE"}, "outlet_id"),
    ],
)
def test_bad_orders_are_refused_naming_the_field(
    orders_api: Any, changes: dict[str, Any], field: str, on_topic: Any
) -> None:
    answer = place(orders_api, order_body([(SKU, 1)]) | changes, wait=0)
    assert 400 <= answer.status_code < 500, answer.text
    assert field in answer.text
    assert on_topic("orders.events") == []


def test_orders_come_back_after_redis_is_wiped(
    running: None, orders_api: Any, read_model: Any
) -> None:
    order = place(orders_api, order_body([(SKU, 2)])).json()
    assert order["state"] == "reserved"

    read_model.redis.flushdb()

    assert read_model.wait_for(
        lambda: orders_api.get(f"/v1/orders/{order['order_id']}").status_code == 200, seconds=30
    )
    again = orders_api.get(f"/v1/orders/{order['order_id']}").json()
    assert (again["state"], again["lines"]) == ("reserved", [{"sku": SKU, "qty": 2}])
    assert read_model.wait_for(lambda: stock(read_model, SKU) == (20, 2), seconds=60)


def test_fulfil_and_cancel_sent_together_each_answer_what_the_order_became(
    workers: Any, open_outlet: Any, orders_api: Any, read_model: Any
) -> None:
    """A clerk presses "picked up" while another presses "cancel", 50 times over: an answer
    that names a state (200) is the state the order ends in; a 409 means it became the
    other; a 202 says the outcome is still pending."""
    workers("inventory")
    workers("orders")
    open_outlet({SKU: 60})
    order_ids = [
        place(orders_api, order_body([(SKU, 1)]), wait=0).json()["order_id"] for _ in range(50)
    ]

    def state(order_id: str) -> str:
        """The order's state, or "" while the orders read model has not seen it yet (404)."""
        return str(orders_api.get(f"/v1/orders/{order_id}").json().get("state", ""))

    assert read_model.wait_for(lambda: all(state(o) == "reserved" for o in order_ids))

    def press(order_id: str, button: str) -> Any:
        return orders_api.post(f"/v1/orders/{order_id}/{button}")

    with ThreadPoolExecutor(2) as pool:

        def press_both(order_id: str) -> dict[str, Any]:
            pressed = {button: pool.submit(press, order_id, button) for button in BUTTONS}
            return {button: future.result() for button, future in pressed.items()}

        answers = {order_id: press_both(order_id) for order_id in order_ids}

    assert read_model.wait_for(lambda: all(state(o) in BUTTONS.values() for o in order_ids))
    untrue = []
    for order_id, by_button in answers.items():
        final = state(order_id)
        for button, answer in by_button.items():
            told = answer.json()
            if answer.status_code == 409:
                true = final != BUTTONS[button]
            elif "pending" in told:
                true = answer.status_code == 202 and told["pending"] == BUTTONS[button]
            else:
                true = answer.status_code in (200, 202) and told["state"] == final
            if not true:
                untrue.append((order_id, button, answer.status_code, told.get("state"), final))
    assert untrue == [], f"{len(untrue)} answers untrue, e.g. {untrue[:3]}"
