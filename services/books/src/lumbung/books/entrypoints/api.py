"""HTTP routes of the books service: consignment statements and their payments.

No `from __future__ import annotations`: FastAPI reads these signatures, whose key
dependency is built per app.
"""

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lumbung.books.adapters.inventory import InventoryUnavailable
from lumbung.books.domain import BooksError, NotAllowed, Rebuilding, UnknownStatement
from lumbung.books.imports import Outcome
from lumbung.books.render import as_csv, as_html
from lumbung.books.service import BadReport, BooksService, Upload
from lumbung.contracts.bounds import MAX_PRICE_IDR
from lumbung.contracts.events import books
from lumbung.contracts.events.books import PaymentMethod
from lumbung.contracts.events.common import Identifier
from lumbung.platform.auth import KEY_HEADER, Principal, Role, authorize


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


NumberPath = Annotated[
    str,
    Path(
        pattern=r"^ST-[0-9]{4}-[0-9]{2}-[A-Za-z0-9._-]+$",
        max_length=160,
        description="ST-<YYYY-MM>-<supplier>-<outlet>, e.g. ST-2026-11-SUP-KERIPIK-IDM-GROGOT-1.",
    ),
]
PeriodQuery = Annotated[
    str | None, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="A month, YYYY-MM.")
]
IdQuery = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


RetailerPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
MAX_REPORT_BYTES = 10_000_000


class ProfileIn(BaseModel):
    """A retailer's report profile as ops send it (the retailer is in the path)."""

    model_config = ConfigDict(extra="forbid")

    columns: books.ReportColumns
    date_format: str = Field(default="%d/%m/%Y", min_length=1, max_length=64)
    stores: dict[str, str] = Field(default_factory=dict, max_length=5000)
    plus: dict[str, str] = Field(default_factory=dict, max_length=20000)


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_id: Identifier = Field(description="Your own id of this payment: sent twice, once.")
    amount_idr: int = Field(gt=0, le=MAX_PRICE_IDR, description="Whole rupiah paid.")
    paid_at: AwareDatetime
    method: PaymentMethod = PaymentMethod.TRANSFER
    note: str = Field(default="", max_length=300)


def csv_file(statements: list[dict[str, Any]], name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    return Response(as_csv(statements), media_type="text/csv", headers=headers)


def written(done: str, conflict: str) -> dict[int | str, dict[str, Any]]:
    """The answers of a write that may have been done already, for the OpenAPI document."""
    return {
        200: {"description": f"{done} already: the same statement, nothing written again"},
        201: {"description": f"{done} now"},
        409: {"description": conflict},
        503: {"description": "The books are being rebuilt from Kafka: send it again soon"},
    }


def answered(statement: dict[str, Any], new: bool) -> JSONResponse:
    return JSONResponse(statement, status_code=201 if new else 200)


def routers(principal: Any) -> list[APIRouter]:
    router = APIRouter(prefix="/v1/statements", tags=["statements"])
    Caller = Annotated[Principal, principal]

    def service(request: Request) -> BooksService:
        svc: BooksService = request.app.state.books
        return svc

    @router.get("", summary="Statements of a month, a supplier, an outlet (JSON or CSV)")
    async def list_statements(
        request: Request,
        who: Caller,
        period: PeriodQuery = None,
        supplier_id: IdQuery = None,
        outlet_id: IdQuery = None,
        format: Annotated[Format, Query(description="json or csv")] = Format.JSON,
    ) -> Response:
        if who.role is Role.SUPPLIER:  # a supplier sees its own statements only
            supplier_id = who.subject
        authorize(who, Role.SUPPLIER, supplier_id)
        found = await service(request).list(period, supplier_id, outlet_id)
        if format is Format.CSV:
            return csv_file(found, f"statements-{period or 'all'}")
        return JSONResponse({"statements": found})

    @router.get(
        "/{number}",
        summary="One statement: JSON, CSV, or a printable page in Bahasa Indonesia",
        responses={404: {"description": "No such supplier and outlet in the catalog"}},
    )
    async def get_one(
        request: Request, number: NumberPath, who: Caller, format: Format = Format.JSON
    ) -> Response:
        statement = await service(request).statement(number)
        authorize(who, Role.SUPPLIER, statement["supplier_id"])
        if format is Format.CSV:
            return csv_file([statement], number)
        if format is Format.HTML:
            return HTMLResponse(as_html(statement))
        return JSONResponse(statement)

    @router.post(
        "/{number}/issue",
        summary="Issue a statement to its supplier (again: the same statement)",
        responses=written("Issued", "The period has not ended (force=true issues it anyway)"),
    )
    async def issue(
        request: Request,
        number: NumberPath,
        who: Caller,
        force: Annotated[bool, Query(description="Issue before the period has ended.")] = False,
    ) -> JSONResponse:
        authorize(who, Role.OPS)
        return answered(*await service(request).issue(number, force))

    @router.post(
        "/{number}/payments",
        summary="Record a payment to the supplier against an issued statement",
        responses=written("Recorded", "Not issued, more than is left, or the id used otherwise"),
    )
    async def pay(
        request: Request, number: NumberPath, body: PaymentIn, who: Caller
    ) -> JSONResponse:
        authorize(who, Role.OPS)
        return answered(*await service(request).pay(number, body.model_dump()))

    reports = APIRouter(prefix="/v1", tags=["retailer reports"])

    @reports.put(
        "/report-profiles/{retailer}",
        summary="Save how a retailer's sales report reads (its columns and codes)",
    )
    async def save_profile(
        request: Request, retailer: RetailerPath, body: ProfileIn, who: Caller
    ) -> dict[str, Any]:
        authorize(who, Role.OPS)
        profile = books.ReportProfileSaved(**body.model_dump() | {"retailer": retailer})
        return await service(request).save_profile(profile)

    @reports.get("/report-profiles/{retailer}", summary="A retailer's saved report profile")
    async def get_profile(request: Request, retailer: RetailerPath, who: Caller) -> dict[str, Any]:
        authorize(who, Role.OPS)
        return await service(request).profile(retailer)

    @reports.post(
        "/reports/{retailer}/{store}/{period}",
        summary="Import a retailer's sales report (CSV or XLSX as the request body)",
        responses={
            200: {"description": "A dry run, or the same report imported before: nothing written"},
            201: {"description": "Imported: its sales went through the inventory ingest"},
            409: {"description": "The report was imported before with other lines"},
            422: {"description": "The file cannot be read with the retailer's profile"},
        },
    )
    async def import_report(
        request: Request,
        retailer: RetailerPath,
        store: RetailerPath,
        period: Annotated[str, Path(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")],
        who: Caller,
        dry_run: Annotated[bool, Query(description="Check every row, write nothing.")] = True,
        filename: Annotated[str, Query(max_length=200)] = "report.csv",
    ) -> JSONResponse:
        authorize(who, Role.OPS)
        data = await request.body()
        if len(data) > MAX_REPORT_BYTES:
            raise BadReport("file", f"the file is over {MAX_REPORT_BYTES // 1_000_000} MB")
        upload = Upload(retailer, store, period, filename, data)
        key = request.headers.get(KEY_HEADER, "")
        answer, outcome = await service(request).import_report(upload, key, dry_run)
        status = {Outcome.IMPORTED: 201, Outcome.REFUSED: 409}.get(outcome, 200)
        return JSONResponse(answer, status_code=status)

    return [router, reports]


def install_error_mapping(app: FastAPI) -> None:
    """The books' refusals, each to one status, with the field that was wrong."""
    statuses: dict[type[BooksError], int] = {
        UnknownStatement: 404,
        NotAllowed: 409,
        Rebuilding: 503,
        InventoryUnavailable: 503,
    }

    async def books_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, BooksError)
        status = next((s for error, s in statuses.items() if isinstance(exc, error)), 422)
        body = {"detail": str(exc), "errors": [{"field": exc.field, "message": str(exc)}]}
        retry = {"Retry-After": "2"} if status == 503 else None
        return JSONResponse(body, status_code=status, headers=retry)

    app.add_exception_handler(BooksError, books_error)
