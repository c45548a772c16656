"""A refused request names its real reason first: for a body that fits none of a union's
models, the errors of the model it came closest to lead."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field

from lumbung.platform.web import create_service_app


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SaleIn(Strict):
    sale_id: str
    sold_at: str
    lines: list[int] = Field(min_length=1)


class SalesIn(Strict):
    sales: list[SaleIn] = Field(min_length=1, max_length=500)


def client() -> TestClient:
    router = APIRouter()

    @router.post("/sales")
    async def sales(body: Annotated[SaleIn | SalesIn, Body()]) -> dict[str, str]:
        return {}

    return TestClient(create_service_app("validationtest", routers=[router]))


SALE = {"sale_id": "S-1", "sold_at": "2026-12-02T10:00:00+08:00", "lines": [1]}


def test_a_batch_over_the_limit_is_told_the_limit_first() -> None:
    answer = client().post("/sales", json={"sales": [SALE] * 501})

    assert answer.status_code == 422
    first = answer.json()["errors"][0]
    assert first["field"] == "SalesIn.sales"
    assert "at most 500 items" in first["message"]


def test_a_single_sale_without_lines_is_told_about_its_lines_first() -> None:
    answer = client().post("/sales", json=SALE | {"lines": []})

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "SaleIn.lines"


def test_errors_outside_a_union_keep_their_order() -> None:
    router = APIRouter()

    @router.post("/sale")
    async def sale(body: SaleIn) -> dict[str, str]:
        return {}

    with TestClient(create_service_app("validationtest", routers=[router])) as plain:
        answer = plain.post("/sale", json={"lines": []})

    assert [e["field"] for e in answer.json()["errors"]] == ["sale_id", "sold_at", "lines"]
