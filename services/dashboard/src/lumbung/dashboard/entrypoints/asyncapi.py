"""The AsyncAPI document of every topic and event, as YAML and as a page. Public, like the
OpenAPI document at /docs: it holds the contracts, no data.

No `from __future__ import annotations`: FastAPI reads these signatures.
"""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from lumbung.dashboard.asyncapi import AsyncApiDocument, Served

router = APIRouter(tags=["events"])


async def served(request: Request) -> Served | None:
    document: AsyncApiDocument = request.app.state.asyncapi
    # Parsing and rendering take a moment when the file is new or changed: off the loop.
    return await asyncio.to_thread(document.load)


Document = Annotated[Served | None, Depends(served)]


@router.get(
    "/asyncapi",
    response_class=HTMLResponse,
    summary="Every Kafka topic and event: the AsyncAPI document as a page",
)
async def page(request: Request, document: Document) -> Response:
    if document is None:
        return _missing(request)
    return HTMLResponse(document.page, headers={"Cache-Control": "no-cache"})


@router.get(
    "/asyncapi.yaml",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}, "description": "docs/asyncapi.yaml"}},
    summary="The AsyncAPI 3 document of every Kafka topic and event",
)
async def source(request: Request, document: Document) -> Response:
    if document is None:
        return _missing(request)
    return Response(
        document.yaml, media_type="application/yaml", headers={"Cache-Control": "no-cache"}
    )


def _missing(request: Request) -> Response:
    path = request.app.state.asyncapi.path
    return JSONResponse(
        {"detail": f"no AsyncAPI document at {path}: `make asyncapi` writes it"}, status_code=404
    )
