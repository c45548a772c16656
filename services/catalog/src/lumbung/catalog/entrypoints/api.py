"""HTTP routes of the catalog: thin — parse, call the service, map the answer.

No `from __future__ import annotations` here: FastAPI reads the route signatures, which
use types built inside the router factories.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Body,
    Depends,
    FastAPI,
    Header,
    Path,
    Query,
    Request,
    Response,
)
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from lumbung.catalog import demo
from lumbung.catalog.domain import KINDS, InvalidField, Kind, NotFound, StaleVersion, shown_to
from lumbung.catalog.service import CatalogService, Filters
from lumbung.catalog.spreadsheet import SpreadsheetError
from lumbung.contracts import KeyRole
from lumbung.contracts.bounds import MAX_OFFSET, WIRE_MAX, whole_number
from lumbung.contracts.events.catalog import Revision
from lumbung.platform.auth import AuthError, Principal, Role, authorize

MAX_PAGE = 500


def service_of(request: Request) -> CatalogService:
    service: CatalogService = request.app.state.catalog
    return service


Service = Annotated[CatalogService, Depends(service_of)]


def parse_if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    version = whole_number(value.strip().removeprefix("W/").strip('"'), WIRE_MAX)
    if version is None:
        raise InvalidField("If-Match", f'If-Match: {value!r} is not an entity version like "3"')
    return version


def tagged(
    entity: Revision, status: int = 200, shown: dict[str, Any] | None = None
) -> JSONResponse:
    return JSONResponse(
        entity.model_dump(mode="json") if shown is None else shown,
        status_code=status,
        headers={"ETag": f'"{entity.version}"'},
    )


class Page(BaseModel):
    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


def _examples() -> dict[str, dict[str, Any]]:
    today = datetime(2026, 11, 20).date()
    first: dict[str, dict[str, Any]] = {}
    for collection, entity_id, body in demo.catalog(today):
        first.setdefault(collection, {"summary": f"{collection[:-1]} {entity_id}", "value": body})
    return first


EXAMPLES = _examples()


def entity_router(kind: Kind, principal: Any) -> APIRouter:
    request_model = type(
        f"{kind.details.__name__}In",
        (kind.details,),
        {
            "model_config": ConfigDict(extra="forbid", frozen=True),
            "__doc__": kind.details.__doc__ or f"A {kind.name} as written.",
        },
    )
    router = APIRouter(prefix=f"/v1/{kind.plural}", tags=[kind.plural])
    Caller = Annotated[Principal, principal]
    id_path = Annotated[
        str,
        Path(
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
            description=f"The {kind.name}'s id: letters, digits, . _ -",
        ),
    ]

    @router.put(
        "/{entity_id}",
        summary=f"Create or replace a {kind.name}",
        responses={201: {"description": "Created"}, 412: {"description": "Stale If-Match"}},
    )
    async def put(
        entity_id: id_path,
        body: Annotated[
            request_model,  # type: ignore[valid-type]
            Body(openapi_examples={"demo": EXAMPLES[kind.plural]}),
        ],
        service: Service,
        caller: Caller,
        if_match: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        authorize(caller, Role.OPS)
        entity, created = await service.put(kind, entity_id, body, parse_if_match(if_match))
        return tagged(entity, 201 if created else 200)

    @router.get("/{entity_id}", summary=f"Read one {kind.name}")
    async def get(entity_id: id_path, service: Service, caller: Caller) -> JSONResponse:
        entity = await service.get(kind, entity_id)
        return tagged(entity, shown=shown_to(kind, entity, caller.role, caller.subject))

    @router.get("", summary=f"List {kind.plural}", response_model=Page)
    async def list_(
        service: Service,
        caller: Caller,
        supplier_id: str | None = None,
        channel: str | None = None,
        calendar_id: str | None = None,
        active_at: Annotated[
            datetime | None,
            Query(description="Only what is active (and open) at this time, with its offset."),
        ] = None,
        include_retired: bool = False,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    ) -> Page:
        filters = Filters(supplier_id, channel, calendar_id, active_at, include_retired)
        items, total = await service.find(kind, filters, offset, limit)
        return Page(
            items=[shown_to(kind, i, caller.role, caller.subject) for i in items],
            total=total,
            offset=offset,
            limit=limit,
        )

    @router.delete("/{entity_id}", summary=f"Retire a {kind.name} (soft delete)")
    async def retire(
        entity_id: id_path,
        service: Service,
        caller: Caller,
        if_match: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        authorize(caller, Role.OPS)
        return tagged(await service.retire(kind, entity_id, parse_if_match(if_match)))

    return router


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: KeyRole
    subject: str = Field(
        default="*", max_length=64, description="The outlet or supplier id; ignored for ops keys."
    )
    label: str = Field(default="", max_length=120)


class IssuedKey(BaseModel):
    key: str = Field(description="Shown once; only its hash is kept.")
    key_id: str
    role: KeyRole
    subject: str


class KeyInfo(BaseModel):
    key_id: str
    role: KeyRole
    subject: str
    label: str
    revoked: bool


def keys_router(principal: Any) -> APIRouter:
    router = APIRouter(prefix="/v1/keys", tags=["keys"])
    Caller = Annotated[Principal, principal]

    @router.post("", status_code=201, response_model=IssuedKey, summary="Issue an API key")
    async def issue(body: KeyRequest, service: Service, caller: Caller) -> IssuedKey:
        authorize(caller, Role.OPS)
        plain, record = await service.issue_key(body.role, body.subject, body.label)
        return IssuedKey(key=plain, key_id=record.key_id, role=record.role, subject=record.subject)

    @router.get("", response_model=list[KeyInfo], summary="List API keys (never the secrets)")
    async def list_keys(service: Service, caller: Caller) -> list[KeyInfo]:
        authorize(caller, Role.OPS)
        return [
            KeyInfo(
                key_id=k.key_id, role=k.role, subject=k.subject, label=k.label, revoked=k.retired
            )
            for k in service.api_keys()
        ]

    @router.delete("/{key_id}", response_model=KeyInfo, summary="Revoke an API key")
    async def revoke(key_id: str, service: Service, caller: Caller) -> KeyInfo:
        authorize(caller, Role.OPS)
        k = await service.revoke_key(key_id)
        return KeyInfo(
            key_id=k.key_id, role=k.role, subject=k.subject, label=k.label, revoked=k.retired
        )

    return router


class ImportProblem(BaseModel):
    row: int
    message: str


class ImportReport(BaseModel):
    sheet: str
    dry_run: bool
    rows: int
    imported: list[str]
    problems: list[ImportProblem]


CSV_EXAMPLE = (
    "sku;name;supplier_id;category;unit;price_idr;cost_idr\n"
    "AMPLANG-250;Amplang Ikan Pipih 250 g;SUP-SARI;snack;pack;Rp 25.000;Rp 16.000\n"
)


def import_router(principal: Any) -> APIRouter:
    router = APIRouter(prefix="/v1/import", tags=["import"])
    Caller = Annotated[Principal, principal]

    @router.post(
        "/{sheet}",
        response_model=ImportReport,
        summary="Import a spreadsheet (CSV)",
        description="The body is the CSV file as exported by a spreadsheet: comma or semicolon "
        "separated, UTF-8 with or without BOM, header in row 1. Valid rows are written, invalid "
        "rows are listed with their row number and reason; `dry_run=true` writes nothing.",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}},
            }
        },
    )
    async def import_sheet(
        sheet: Literal["products", "suppliers", "outlets"],
        request: Request,
        service: Service,
        caller: Caller,
        dry_run: bool = False,
    ) -> ImportReport:
        authorize(caller, Role.OPS)
        report = await service.import_sheet(sheet, await request.body(), dry_run)
        return ImportReport(
            sheet=report.kind,
            dry_run=report.dry_run,
            rows=report.rows,
            imported=report.imported,
            problems=[ImportProblem(**p) for p in report.problems],
        )

    return router


def install_error_mapping(app: FastAPI) -> None:
    statuses: dict[type[Exception], int] = {
        NotFound: 404,
        StaleVersion: 412,
        InvalidField: 422,
        SpreadsheetError: 422,
    }

    async def catalog_error(_: Request, exc: Exception) -> Response:
        status = next((s for error, s in statuses.items() if isinstance(exc, error)), 400)
        body: dict[str, Any] = {"detail": str(exc)}
        if isinstance(exc, InvalidField):
            body["errors"] = [{"field": exc.field, "message": str(exc)}]
        return JSONResponse(body, status_code=status)

    for error in statuses:
        app.add_exception_handler(error, catalog_error)


def routers(principal: Any) -> list[APIRouter]:
    return [
        *(entity_router(kind, principal) for kind in KINDS),
        keys_router(principal),
        import_router(principal),
    ]


__all__ = ["AuthError", "install_error_mapping", "routers"]
