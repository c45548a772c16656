"""A supplier's acceptance names when the goods arrive: a time already past is refused,
naming the field, before anything is claimed or published."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from lumbung.notifications.answers import Answers
from lumbung.platform.clock import WITA
from lumbung.platform.restocks import RestockRequest
from lumbung.platform.web import FieldError

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=WITA)


class Untouched:
    """Stands for the view, publisher and Redis: a refused answer reaches none of them."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a refused answer used {name}")


def test_an_acceptance_with_an_arrival_in_the_past_is_refused_naming_expected_at() -> None:
    answers = Answers(Untouched(), Untouched(), Untouched(), "", lambda: NOW)  # type: ignore[arg-type]
    request = RestockRequest(restock_id="RS-1", outlet_id="IKN-01", sku="AMPLANG-IKAN-250")

    with pytest.raises(FieldError) as refused:
        asyncio.run(answers.accept(request, 40, NOW - timedelta(days=1), "api:test"))

    assert refused.value.status == 422
    assert refused.value.field == "expected_at"
    assert "in the past" in str(refused.value)
