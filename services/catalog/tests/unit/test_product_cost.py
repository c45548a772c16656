"""A product's cost price: written with the product, read only by ops and the product's
own producer. The catalog's rules alone; the API's answers are in the integration tests."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from lumbung.catalog.domain import PRODUCT, next_revision, shown_to
from lumbung.contracts import KeyRole
from lumbung.contracts.bounds import MAX_PRICE_IDR
from lumbung.contracts.events.catalog import ProductChanged, ProductDetails
from lumbung.platform.clock import WITA

AMPLANG = {
    "name": "Amplang Ikan Pipih 250 g",
    "supplier_id": "SUP-SARI",
    "category": "camilan",
    "unit": "pack",
    "price_idr": 25000,
    "cost_idr": 16000,
}
NOW = datetime(2026, 10, 1, 10, 0, tzinfo=WITA)


def amplang(current: ProductChanged | None = None, **fields: object) -> ProductChanged:
    body = {k: v for k, v in {**AMPLANG, **fields}.items() if v is not None}
    product = next_revision(
        PRODUCT, "AMPLANG-250", ProductDetails.model_validate(body), current, None, NOW
    )
    assert isinstance(product, ProductChanged)
    return product


def test_a_product_is_written_with_its_cost_and_a_write_without_one_clears_it() -> None:
    first = amplang()

    again = amplang(first, cost_idr=None)

    assert (first.price_idr, first.cost_idr) == (25000, 16000)
    assert (again.version, again.cost_idr) == (2, None)


@pytest.mark.parametrize("cost", ["murah", -1, MAX_PRICE_IDR + 1, 1.5])
def test_a_cost_that_is_no_price_is_refused_naming_the_field(cost: object) -> None:
    with pytest.raises(ValidationError) as refused:
        ProductDetails.model_validate({**AMPLANG, "cost_idr": cost})

    assert [error["loc"] for error in refused.value.errors()] == [("cost_idr",)]


def test_only_ops_and_the_products_own_supplier_read_its_cost() -> None:
    product = amplang()

    def seen_by(role: KeyRole, subject: str) -> dict[str, object]:
        return shown_to(PRODUCT, product, role, subject)

    assert seen_by(KeyRole.OPS, "*")["cost_idr"] == 16000
    assert seen_by(KeyRole.SUPPLIER, "SUP-SARI")["cost_idr"] == 16000
    for role, stranger in [(KeyRole.OUTLET, "IDM-1"), (KeyRole.SUPPLIER, "SUP-UDIN")]:
        shown = seen_by(role, stranger)
        assert "cost_idr" not in shown
        assert shown == {k: v for k, v in seen_by(KeyRole.OPS, "*").items() if k != "cost_idr"}
