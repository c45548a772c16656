"""HTTP routes of the notifications service: the supplier API and the answer links.

- `/v1/restocks…` with an API key: a supplier key sees and answers only its own
  supplier's requests; an ops key sees and answers any.
- `/v1/links/{token}` without a key, from the phone that got the message: GET shows the
  request and a button (link previews fetch GETs, so a GET never answers), POST answers.

No `from __future__ import annotations`: FastAPI reads these signatures, whose key
dependency is built per app.
"""

import html
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lumbung.contracts.bounds import MAX_UNITS, Units, whole_number
from lumbung.contracts.events.common import Identifier
from lumbung.notifications.answers import Answers
from lumbung.notifications.plan import supplier_recipient, webhook_secret
from lumbung.notifications.signing import BadToken, LinkExpired, read_token
from lumbung.platform.auth import AuthError, Principal, Role, authorize
from lumbung.platform.restocks import RestockStatus
from lumbung.platform.views import CatalogView
from lumbung.platform.web import FieldError

RestockPath = Annotated[str, Path(min_length=1, max_length=64, description="The request's id.")]
TokenPath = Annotated[str, Path(min_length=10, max_length=1000, description="From the link.")]


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qty: Units = Field(description="Units the supplier will deliver.")
    expected_at: AwareDatetime = Field(description="When they will arrive.")


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=300)


class AnswerOut(BaseModel):
    restock_id: str
    event_id: str
    answer: str


class WebhookSecretOut(BaseModel):
    recipient: str
    secret: str


def _supplier_scope(who: Principal) -> str | None:
    """The supplier a key acts for; None for ops (any supplier)."""
    if who.role is Role.OPS:
        return None
    authorize(who, Role.SUPPLIER)
    return who.subject


def routers(principal: Any) -> list[APIRouter]:
    api = APIRouter(prefix="/v1", tags=["suppliers"])
    Caller = Annotated[Principal, principal]

    def answers(request: Request) -> Answers:
        service: Answers = request.app.state.answers
        return service

    @api.get("/restocks", summary="Restock requests of the caller's supplier (ops: any)")
    async def list_restocks(
        request: Request,
        who: Caller,
        status: Annotated[RestockStatus | None, Query(description="Only this status.")] = None,
        supplier_id: Annotated[Identifier | None, Query(description="Ops: whose.")] = None,
    ) -> list[dict[str, Any]]:
        scope = _supplier_scope(who)
        if scope is not None and supplier_id not in (None, scope):
            authorize(who, Role.SUPPLIER, supplier_id)
        wanted = scope or supplier_id
        if wanted is None:
            raise FieldError(422, "supplier_id", "ops must say whose requests to list")
        return answers(request).of_supplier(wanted, status)

    @api.get("/restocks/{restock_id}", summary="One restock request")
    async def get_restock(request: Request, restock_id: RestockPath, who: Caller) -> dict[str, Any]:
        return answers(request).visible(restock_id, _supplier_scope(who)).to_dict()

    @api.post(
        "/restocks/{restock_id}/accept",
        status_code=202,
        response_model=AnswerOut,
        summary="Accept: deliver `qty` by `expected_at` (RestockAccepted on restock.acks)",
    )
    async def accept(
        request: Request, restock_id: RestockPath, body: AcceptIn, who: Caller
    ) -> dict[str, Any]:
        service = answers(request)
        found = service.visible(restock_id, _supplier_scope(who))
        return await service.accept(found, body.qty, body.expected_at, f"api:{who.key_id}")

    @api.post(
        "/restocks/{restock_id}/decline",
        status_code=202,
        response_model=AnswerOut,
        summary="Decline, with a reason (RestockDeclined on restock.acks)",
    )
    async def decline(
        request: Request, restock_id: RestockPath, body: DeclineIn, who: Caller
    ) -> dict[str, Any]:
        service = answers(request)
        found = service.visible(restock_id, _supplier_scope(who))
        return await service.decline(found, body.reason, f"api:{who.key_id}")

    @api.get(
        "/suppliers/{supplier_id}/webhook-secret",
        response_model=WebhookSecretOut,
        tags=["ops"],
        summary="The secret a supplier's webhook verifies our signatures with (ops only)",
    )
    async def supplier_webhook_secret(
        request: Request, supplier_id: Identifier, who: Caller
    ) -> WebhookSecretOut:
        authorize(who, Role.OPS)
        recipient = supplier_recipient(supplier_id)
        secret = webhook_secret(request.app.state.secret_key, recipient)
        return WebhookSecretOut(recipient=recipient, secret=secret)

    links = APIRouter(prefix="/v1/links", tags=["links"])

    @links.get("/{token}", response_class=HTMLResponse, summary="What the link answers")
    async def show_link(request: Request, token: TokenPath) -> HTMLResponse:
        try:
            action, found = _link(request, token)
        except _Refused as refused:
            return refused.page()
        catalog: CatalogView = request.app.state.catalog
        product = catalog.products.get(found.sku)
        outlet = catalog.outlets.get(found.outlet_id)
        what = (
            f"{found.suggested_qty} {product.unit if product else ''} "
            f"{product.name if product else found.sku} → "
            f"{outlet.name if outlet else found.outlet_id}"
        )
        verb = "Terima" if action == "accept" else "Tolak"
        field = (
            f'<label>Jumlah <input name="qty" type="number" min="1" '
            f'value="{found.suggested_qty}"></label>'
            if action == "accept"
            else '<label>Alasan <input name="reason" maxlength="300"></label>'
        )
        return _page(
            200,
            f"{verb} permintaan restok",
            f"<p>{html.escape(what)}</p><form method=post>{field}"
            f"<button type=submit>{verb}</button></form>",
        )

    @links.post("/{token}", response_class=HTMLResponse, summary="Answer by the link (once)")
    async def use_link(request: Request, token: TokenPath) -> HTMLResponse:
        try:
            action, found = _link(request, token)
            body = (await request.body()).decode(errors="replace")  # a form is not always UTF-8
            form = {k: v[-1] for k, v in parse_qs(body).items()}
            service = answers(request)
            if action == "accept":
                qty = _positive(form.get("qty"), found.suggested_qty)
                lead = request.app.state.lead_time_days(found.supplier_id)
                expected_at = request.app.state.now() + timedelta(days=lead)
                await service.accept(found, qty, expected_at, "link")
                done = f"Diterima: {qty} unit, tiba sekitar {expected_at:%d-%m-%Y}."
            else:
                await service.decline(found, form.get("reason", "")[:300], "link")
                done = "Ditolak. Terima kasih atas kabarnya."
        except _Refused as refused:
            return refused.page()
        except FieldError as exc:
            if exc.status != 409:
                raise
            return _Refused(409, "Permintaan ini sudah dijawab.").page()
        return _page(200, "Terima kasih", f"<p>{html.escape(done)}</p>")

    return [api, links]


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message

    def page(self) -> HTMLResponse:
        return _page(self.status, "Tautan tidak dapat dipakai", f"<p>{self.message}</p>")


def _link(request: Request, token: str) -> tuple[str, Any]:
    """The action and request of a link, or _Refused saying why not."""
    state = request.app.state
    try:
        read = read_token(state.secret_key, token, state.now())
    except LinkExpired:
        raise _Refused(410, "Tautan ini sudah kedaluwarsa.") from None
    except BadToken:
        raise _Refused(400, "Tautan ini tidak sah.") from None
    if read.action not in ("accept", "decline"):
        raise _Refused(400, "Tautan ini tidak sah.")
    service: Answers = state.answers
    try:
        found = service.visible(read.restock_id, read.supplier_id)
    except (FieldError, AuthError):
        raise _Refused(404, "Permintaan restok ini tidak ditemukan.") from None
    if found.status is not RestockStatus.OPEN:
        raise _Refused(409, "Permintaan ini sudah dijawab.")
    return read.action, found


def _positive(text: str | None, default: int) -> int:
    value = whole_number(text.strip(), MAX_UNITS) if text else default
    if value is None or value < 1:
        raise FieldError(422, "qty", f"qty must be a whole number from 1 to {MAX_UNITS}")
    return value


def _page(status: int, title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=id><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>{body}</html>",
        status_code=status,
    )
