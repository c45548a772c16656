"""Run a service's HTTP API with uvicorn: the one way every entrypoint starts."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from lumbung.platform import logs
from lumbung.platform.metrics import tune_collections
from lumbung.platform.settings import ServiceSettings


def serve(app: FastAPI, settings: ServiceSettings, service: str) -> None:
    logs.configure(service, settings.log_level)
    tune_collections(service)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        loop="uvloop",  # as the workers (shell.py): the event loop in C
        # Open streams (dashboard pages) would hold a stop forever; they reconnect.
        timeout_graceful_shutdown=5,
    )
