"""Schemathesis checks of our own (loaded with SCHEMATHESIS_HOOKS by tests/test_api_fuzz.py,
in the tools environment): every 4xx answer names the problem, in a JSON `detail`, or for
the answer-link pages a producer opens on the phone, in the page's text; and no answer
shows a key what its role may not read."""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis


@schemathesis.check
def four_xx_names_the_problem(ctx: Any, response: Any, case: Any) -> None:
    if not 400 <= response.status_code < 500:
        return
    if response.headers.get("content-type", [""])[0].startswith("text/html"):
        if "<p" not in response.text:
            raise AssertionError(f"{response.status_code} page without a message")
        return
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} without a JSON body") from exc
    detail = body.get("detail") if isinstance(body, dict) else None
    if not detail:
        raise AssertionError(f"{response.status_code} without a `detail` naming the problem")


@schemathesis.check
def no_read_beyond_the_key(ctx: Any, response: Any, case: Any) -> None:
    """No answer shows what the key's role may not read: the texts in LUMBUNG_FUZZ_FORBIDDEN
    (tests/test_api_fuzz.py: other suppliers' owner names, phones and e-mail addresses)."""
    forbidden = json.loads(os.environ.get("LUMBUNG_FUZZ_FORBIDDEN", "[]"))
    shown = [text for text in forbidden if text in response.text]
    if shown:
        raise AssertionError(f"{response.status_code} shows what this key may not read: {shown}")
