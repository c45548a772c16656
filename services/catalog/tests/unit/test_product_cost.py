"""A product's cost price: written by ops, read by ops and the product's own producer."""

from __future__ import annotations

from lumbung.catalog.domain import PRODUCT
from lumbung.contracts.events.catalog import ProductChanged
from services.catalog.tests.unit.fakes import Catalog

SUPPLIER = {"name": "Amplang Bu Sari", "owner_name": "Sari Wulandari"}
AMPLANG = {
    "name": "Amplang Ikan Pipih 250 g",
    "supplier_id": "SUP-SARI",
    "category": "camilan",
    "unit": "pack",
    "price_idr": 25000,
    "cost_idr": 16000,
}


def with_amplang() -> Catalog:
    catalog = Catalog()
    for supplier_id in ("SUP-SARI", "SUP-UDIN"):
        assert catalog.api.put(f"/v1/suppliers/{supplier_id}", json=SUPPLIER).status_code == 201
    assert catalog.api.put("/v1/products/AMPLANG-250", json=AMPLANG).status_code == 201
    return catalog


def test_a_product_is_written_with_its_cost_and_published_with_it() -> None:
    catalog = with_amplang()

    read = catalog.api.get("/v1/products/AMPLANG-250").json()

    assert (read["price_idr"], read["cost_idr"]) == (25000, 16000)
    [published] = catalog.written_to(PRODUCT.topic)
    assert isinstance(published, ProductChanged)
    assert published.cost_idr == 16000


def test_a_product_written_without_a_cost_has_none() -> None:
    catalog = with_amplang()
    plain = {k: v for k, v in AMPLANG.items() if k != "cost_idr"}

    assert catalog.api.put("/v1/products/AMPLANG-250", json=plain).status_code == 200

    assert catalog.api.get("/v1/products/AMPLANG-250").json()["cost_idr"] is None


def test_a_cost_that_is_no_price_is_refused_naming_the_field() -> None:
    catalog = with_amplang()

    answer = catalog.api.put("/v1/products/AMPLANG-250", json={**AMPLANG, "cost_idr": "murah"})

    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["cost_idr"]
    assert catalog.api.get("/v1/products/AMPLANG-250").json()["cost_idr"] == 16000


def test_only_ops_and_the_products_own_supplier_read_its_cost() -> None:
    catalog = with_amplang()

    def seen_by(key: str) -> dict[str, object]:
        one = catalog.api.get("/v1/products/AMPLANG-250", headers={"X-API-Key": key}).json()
        [listed] = catalog.api.get("/v1/products", headers={"X-API-Key": key}).json()["items"]
        assert listed == one
        return dict(one)

    assert seen_by("ops")["cost_idr"] == 16000
    assert seen_by("supplier:SUP-SARI")["cost_idr"] == 16000
    for stranger in ("outlet:IDM-1", "supplier:SUP-UDIN"):
        shown = seen_by(stranger)
        assert "cost_idr" not in shown
        assert shown["price_idr"] == 25000
