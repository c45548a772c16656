"""The one envelope every Lumbung event travels in, and its parsing by `event_type`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from lumbung.contracts.events.common import Payload

P = TypeVar("P", bound=Payload)


class Envelope(BaseModel, Generic[P]):
    """A Lumbung event: who said what, when, why, and the payload in `data`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID = Field(description="Unique id; the idempotency key downstream.")
    event_type: str = Field(pattern=r"^[a-z]+\.[A-Z][A-Za-z]+$", description="<domain>.<PastTense>")
    schema_version: int = Field(ge=1, description="Version of the payload's schema.")
    occurred_at: AwareDatetime = Field(description="When it happened, with its UTC offset.")
    producer: str = Field(min_length=1, max_length=128, description="e.g. outlet:IKN-01")
    correlation_id: str = Field(min_length=1, max_length=128, description="The business flow.")
    causation_id: str | None = Field(
        default=None, max_length=128, description="event_id of the event that caused this one."
    )
    data: P


class _Header(BaseModel):
    model_config = ConfigDict(extra="allow")

    event_type: str
    schema_version: int


class ContractError(ValueError):
    """An event that does not satisfy its contract; `errors` name each wrong field."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))

    @classmethod
    def from_validation(cls, exc: ValidationError, prefix: str = "") -> ContractError:
        errors = []
        for err in exc.errors(include_url=False):
            field = ".".join(str(part) for part in err["loc"])
            errors.append(
                {
                    "field": f"{prefix}{field}" if field else prefix.rstrip(".") or "(body)",
                    "message": err["msg"],
                }
            )
        return cls(errors)


def loads(raw: bytes | str) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ContractError([{"field": "(body)", "message": f"not valid JSON: {exc}"}]) from exc
    if not isinstance(value, dict):
        raise ContractError([{"field": "(body)", "message": "an event must be a JSON object"}])
    return value


def encode(event: Envelope[Any]) -> bytes:
    return orjson.dumps(event.model_dump(mode="json"))


def utc_offset_required(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a time must carry its UTC offset")
    return moment
