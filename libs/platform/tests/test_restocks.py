"""The restock view's fold, with no broker: suggestions held for ops, requests sent, the
answers, and what a supplier has been asked this week."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from lumbung.contracts import Registry, make_event
from lumbung.contracts.events import restock
from lumbung.platform.clock import WITA
from lumbung.platform.restocks import RestockStatus, RestockView

NOW = datetime(2026, 7, 15, 10, tzinfo=WITA)


def event(payload: Any, at: datetime) -> Any:
    return make_event(
        payload,
        event_id=uuid.uuid4(),
        occurred_at=at,
        producer="test",
        correlation_id="c",
    )


def requested(restock_id: str, qty: int, at: datetime, outlet: str = "IKN-01") -> Any:
    payload = restock.RestockRequested(
        restock_id=restock_id,
        outlet_id=outlet,
        sku="AMPLANG",
        supplier_id="SUP-1",
        suggested_qty=qty,
        available=3,
        reorder_point=10,
        par_level=50,
    )
    return event(payload, at)


def test_a_suggestion_is_listed_for_its_outlet_and_never_for_its_supplier() -> None:
    view = RestockView("127.0.0.1:1", Registry(), "test")
    suggested = restock.RestockSuggested(
        restock_id="R-1",
        outlet_id="IKN-01",
        sku="AMPLANG",
        supplier_id="SUP-1",
        suggested_qty=40,
        available=3,
        reason="about 43 expected",
        send_at=NOW + timedelta(minutes=10),
    )
    view.apply(event(suggested, NOW))
    [held] = view.of_outlet("IKN-01")
    assert (held.status, held.why) == (RestockStatus.SUGGESTED, "about 43 expected")
    assert view.of_supplier("SUP-1") == []
    assert view.get("R-1") is None
    assert view.get("R-1", suggested=True) is held
    view.apply(requested("R-1", 30, NOW + timedelta(minutes=5)))
    assert (held.status, held.suggested_qty) == (RestockStatus.OPEN, 30)
    assert view.of_supplier("SUP-1") == [held]


def test_what_a_supplier_was_asked_since_a_moment_counts_every_outlet_and_no_decline() -> None:
    view = RestockView("127.0.0.1:1", Registry(), "test")
    view.apply(requested("OLD", 100, NOW - timedelta(days=8)))
    view.apply(requested("A", 40, NOW - timedelta(days=1)))
    view.apply(requested("B", 50, NOW, outlet="RA-KM47"))
    view.apply(requested("C", 70, NOW))
    accepted = restock.RestockAccepted(
        restock_id="A",
        outlet_id="IKN-01",
        sku="AMPLANG",
        supplier_id="SUP-1",
        qty=35,
        expected_at=NOW + timedelta(days=1),
    )
    view.apply(event(accepted, NOW))
    declined = restock.RestockDeclined(
        restock_id="C", outlet_id="IKN-01", sku="AMPLANG", supplier_id="SUP-1", reason="habis"
    )
    view.apply(event(declined, NOW))
    assert view.committed("SUP-1", NOW - timedelta(days=7)) == 35 + 50
    assert view.committed("SUP-OTHER", NOW - timedelta(days=7)) == 0
