"""The FastAPI application every service starts from: health, readiness, metrics and one
place that maps errors to HTTP answers that name what was wrong."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from aiokafka.errors import KafkaError
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from lumbung.contracts import ContractError

# How large a number may be is said once, in the contracts; re-exported for older imports.
from lumbung.contracts.bounds import Units as Units
from lumbung.platform.auth import AuthError
from lumbung.platform.metrics import REQUEST_SECONDS, exposition
from lumbung.platform.readiness import NotReady

ReadinessCheck = Callable[[], Awaitable[bool]]
DOCS_ASSETS = "/docs/assets"
MAX_BODY_BYTES = 1024 * 1024


class FieldError(Exception):
    """A request a service refuses for one field: answered with `status` and
    `{"detail": …, "errors": [{"field": …, "message": …}]}`."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field = status, field


def _field(loc: Sequence[str | int]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    return ".".join(parts) or "(body)"


def _closest_first(errors: Sequence[Any]) -> list[Any]:
    """A body that fits none of a union's models (one sale, or a batch of them) gets the
    errors of each model, the first model's first. The model it came closest to (the fewest
    errors) is the one the caller meant, so its errors come first: a 501-sale batch is told
    "at most 500 items" before "sale_id: field required". pydantic names the model right
    after `body` in an error's location; errors outside a union keep their order."""

    def member(error: Any) -> str | None:
        loc = error["loc"]
        named = len(loc) > 1 and loc[0] == "body" and isinstance(loc[1], str)
        return loc[1] if named and loc[1][:1].isupper() else None

    sizes = Counter(member(e) for e in errors)
    return sorted(errors, key=lambda e: 0 if member(e) is None else sizes[member(e)])


def create_service_app(
    service: str,
    *,
    version: str = "0.1.0",
    routers: Sequence[APIRouter] = (),
    readiness: dict[str, ReadinessCheck] | None = None,
    description: str = "",
    lifespan: Any = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    # /docs and /redoc load Swagger UI and ReDoc from the pinned fastapi-offline package,
    # served by the service itself: a booth's laptop with no reach of a CDN still has them.
    app = FastAPIOffline(
        title=f"Lumbung {service}",
        version=version,
        description=description,
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        swagger_ui_parameters={"validatorUrl": None},  # no badge from validator.swagger.io
    )
    checks = readiness or {}

    @app.get("/healthz", tags=["ops"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get(
        "/readyz",
        tags=["ops"],
        summary="Broker, Redis, read models and the service's workers are there",
    )
    async def readyz() -> JSONResponse:
        results, reasons = {}, {}
        for name, check in checks.items():
            try:
                results[name] = await check()
            except NotReady as exc:
                results[name], reasons[name] = False, str(exc)
            except Exception:  # a failing dependency is a 'not ready', never a 500
                results[name] = False
        ready = all(results.values())
        body: dict[str, Any] = {"ready": ready, "checks": results}
        if reasons:
            body["reasons"] = reasons
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(e["loc"]), "message": e["msg"]} for e in _closest_first(exc.errors())
        ]
        return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=422)

    @app.exception_handler(ValidationError)
    async def invalid_value(_: Request, exc: ValidationError) -> JSONResponse:
        # A value that passed the request model but not the event it goes into (a path
        # parameter, say): the caller's mistake, named like any invalid request.
        errors = [{"field": _field(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=422)

    @app.exception_handler(ContractError)
    async def contract_error(_: Request, exc: ContractError) -> JSONResponse:
        return JSONResponse({"detail": "invalid event", "errors": exc.errors}, status_code=422)

    @app.exception_handler(FieldError)
    async def field_error(_: Request, exc: FieldError) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc), "errors": [{"field": exc.field, "message": str(exc)}]},
            status_code=exc.status,
        )

    @app.exception_handler(KafkaError)
    async def kafka_unavailable(_: Request, exc: KafkaError) -> JSONResponse:
        return JSONResponse(
            {
                "detail": f"Kafka did not acknowledge the write ({exc}); "
                "nothing was accepted, send it again"
            },
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(AuthError)
    async def auth_error(_: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    for router in routers:
        app.include_router(router)
    app.add_middleware(Timing, service=service)
    app.add_middleware(StrictJson)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app


class Timing:
    """Counts every request's seconds in REQUEST_SECONDS by method, route and status.
    A plain ASGI middleware: `@app.middleware("http")` (Starlette's BaseHTTPMiddleware)
    halved the requests a second of an endpoint (docs/PERFORMANCE.md)."""

    def __init__(self, app: Any, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")  # the router leaves the matched route in the scope
            REQUEST_SECONDS.labels(
                self.service, scope["method"], getattr(route, "path", "unmatched"), str(status)
            ).observe(time.perf_counter() - started)


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class StrictJson:
    """Refuses with 422 a JSON body that holds a lone UTF-16 surrogate ("\\ud800", or the
    bytes that would encode one). FastAPI reads JSON with the standard library, which takes
    it into a str that no encoder writes again: the request passed its model and answered
    500 when its event was encoded (found in the sweep of issue 15). Only a body with a
    surrogate escape or bytes that are not UTF-8 is read a second time, by orjson."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _json_body(scope):
            await self.app(scope, receive, send)
            return
        messages, chunks = [], []
        while True:
            message = await receive()
            messages.append(message)
            chunks.append(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        problem = _unwritable_text(b"".join(chunks))
        if problem:
            errors = [{"field": "(body)", "message": problem}]
            answer = JSONResponse({"detail": "invalid request", "errors": errors}, 422)
            await answer(scope, receive, send)
            return

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _json_body(scope: Any) -> bool:
    kind = dict(scope["headers"]).get(b"content-type", b"application/json").lower()
    return scope["method"] in ("POST", "PUT", "PATCH") and b"json" in kind


def _unwritable_text(body: bytes) -> str | None:
    try:
        body.decode("utf-8")
        if not _SURROGATE_ESCAPE.search(body):
            return None
        orjson.loads(body)
    except (UnicodeDecodeError, orjson.JSONDecodeError) as exc:
        return f"the body is not JSON that can be written again: {exc}"
    return None


class BodyLimit:
    """Refuses a body over `max_bytes` with 413: at once by its Content-Length, and while it
    is read when it comes in chunks without one (so no length header can smuggle it in).
    Past the limit the app reads a disconnect, and whatever it answers is replaced. A route
    that reads the body itself (`await request.body()`, a CSV import) raises Starlette's
    ClientDisconnect on that disconnect; past the limit that is the 413 too, never a 500."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self.refusal(scope, receive, send)
            return
        received, exceeded, answered = 0, False, False

        async def limited() -> Any:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Any) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                answered = True
                if exceeded:
                    await self.refusal(scope, limited, send)
            if not exceeded:
                await send(message)

        try:
            await self.app(scope, limited, guarded)
        except ClientDisconnect:
            if not exceeded:
                raise
        if exceeded and not answered:
            await self.refusal(scope, limited, send)

    async def refusal(self, scope: Any, receive: Any, send: Any) -> None:
        answer = JSONResponse(
            {"detail": f"the body is larger than {self.max_bytes} bytes"}, status_code=413
        )
        await answer(scope, receive, send)
