"""The one place that says how large a number in Lumbung may be.

Every integer a request carries, and every integer an event carries, has an upper bound:
a business bound where a person typed the number (units, rupiah, days, percent), and the
wire's bound where a service computed it (stock sums, versions, attempts). Beyond the wire's
bound orjson cannot write the number at all, so a value past it would fail at the encoder
after the request had been accepted (issue 15: a price of 10^30 answered 500).

Payload models of schema version 1 were released without these bounds, and a released
schema is frozen; `released_without_bounds` rebuilds such a model as it was released, so
that consumers keep reading the events already in the log beside the bounded version.
"""

from __future__ import annotations

import copy
import types
from functools import cache
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import AfterValidator, BaseModel, Field, create_model
from pydantic.fields import FieldInfo

MAX_UNITS = 1_000_000
"""The most units one line may move, count or hold as a level: far above any outlet's day
(the busiest Porprov booth sold about 2,000 units a day)."""
MAX_PRICE_IDR = 1_000_000_000_000
"""Rp 10^12 for one unit: above any price, below what a line total (price times units, 10^18)
could not hold in 64 bits."""
MAX_DAYS = 90
"""A supplier's restock lead time."""
MAX_PERCENT = 100
"""A consignment commission."""
MAX_OFFSET = 1_000_000
"""How far into a list a page may start."""
MAX_PACK_SIZE = 10_000
"""The units in one supplier's pack: a carton of the smallest snack holds a few hundred."""
MAX_VISITORS = 10_000_000
"""The visitors expected at a calendar event or one of its sessions: above any crowd in
Kalimantan (a provincial games sees tens of thousands a day)."""
WIRE_MAX = 2**63 - 1
"""The largest integer every reader of the JSON (orjson, a JVM tool, kcat's users) takes."""
WIRE_MIN = -(2**63)

Units = Annotated[int, Field(gt=0), Field(le=MAX_UNITS)]
"""Units on a line: sold, moved, received, ordered, promised; more than zero."""
Count = Annotated[int, Field(ge=0), Field(le=MAX_UNITS)]
"""Units counted, or a stock level (reorder point, par level); zero or more."""
UnitsDelta = Annotated[int, Field(ge=-MAX_UNITS), Field(le=MAX_UNITS)]
"""A correction of on hand, either way."""
Price = Annotated[int, Field(ge=0), Field(le=MAX_PRICE_IDR)]
"""Whole rupiah for one unit."""
Visitors = Annotated[int, Field(ge=0), Field(le=MAX_VISITORS)]
"""People expected at an event or a session; zero or more."""
WireInt = Annotated[int, Field(ge=WIRE_MIN), Field(le=WIRE_MAX)]
"""A number a service computed (stock, a difference); only the wire bounds it."""
WireCount = Annotated[int, Field(ge=0), Field(le=WIRE_MAX)]
"""A counter a service keeps (a version, units reserved); zero or more."""
WirePositive = Annotated[int, Field(gt=0), Field(le=WIRE_MAX)]
"""A counter a service keeps that starts at one (attempts, versions)."""

_ADDED = {MAX_UNITS, MAX_PRICE_IDR, WIRE_MAX, WIRE_MIN, -MAX_UNITS}
"""The bound values that came after version 1; `released_without_bounds` removes them."""

M = TypeVar("M", bound=BaseModel)


def whole_number(text: str, most: int) -> int | None:
    """A whole number written in ASCII digits, 0 to `most`; None for anything else. For
    numbers in CSV cells, headers and form fields: `str.isdigit` also takes '²' and
    5,000-digit strings, on which `int()` raises (a 500, not the caller's 422)."""
    if not (0 < len(text) <= len(str(most))) or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value <= most else None


def _added_bound(item: Any) -> bool:
    if isinstance(item, FieldInfo):  # Field(le=…) inside an Annotated
        return bool(item.metadata) and all(_added_bound(m) for m in item.metadata)
    bound = getattr(item, "le", getattr(item, "ge", None))
    return isinstance(item, annotated_types.Le | annotated_types.Ge) and bound in _ADDED


def _on_the_wire(value: int) -> int:
    if not WIRE_MIN <= value <= WIRE_MAX:
        raise ValueError("no encoder of Lumbung's writes an integer past 64 bits")
    return value


ON_THE_WIRE = AfterValidator(_on_the_wire)
"""The wire's bound as a check that no JSON Schema shows: what the released form of a
model keeps in place of the bounds it leaves out. No event past 64 bits was ever written by
a Lumbung producer (orjson cannot), so a consumer of the frozen schema never saw one; one
from elsewhere (a gateway writing with another JSON library) goes to the DLQ instead of
stopping the worker that could not write its state."""


def _unbounded(annotation: Any) -> Any:
    """`annotation` with every model in it replaced by its released form."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return released_without_bounds(annotation)
    args = get_args(annotation)
    if not args:
        return annotation
    origin = get_origin(annotation)
    if origin is Annotated:
        kept = [m for m in annotation.__metadata__ if not _added_bound(m)]
        inner = _unbounded(args[0])
        if len(kept) < len(annotation.__metadata__):
            kept.append(ON_THE_WIRE)
        return Annotated[(inner, *kept)]
    if origin in (Union, types.UnionType):
        return Union[tuple(_unbounded(a) for a in args)]  # noqa: UP007
    return origin[tuple(_unbounded(a) for a in args)]


@cache
def released_without_bounds(model: type[M]) -> type[M]:
    """`model` as its version 1 was released: a subclass (so `isinstance` still holds) with
    the same name, fields and checks, without the bounds in `_ADDED` (only ON_THE_WIRE,
    which its schema does not show, stays in their place). It reads events already in the
    log; nothing new is written with it. `canonical()` gives the model back."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        metadata = [m for m in info.metadata if not _added_bound(m)]
        if len(metadata) < len(info.metadata):
            metadata.append(ON_THE_WIRE)
        annotation = _unbounded(info.annotation)
        if metadata == info.metadata and annotation is info.annotation:
            continue
        loose = copy.copy(info)
        loose.metadata = metadata
        fields[name] = (annotation, loose)
    if not fields:
        return model
    released = create_model(model.__name__, __base__=model, __module__=model.__module__, **fields)
    released.__doc__ = model.__doc__
    released.__lumbung_canonical__ = model  # type: ignore[attr-defined]
    return released


def canonical(value: M) -> M:
    """A released-form value as its current model (top level only: the fields keep their
    values), so code that dispatches on `type(data)` sees one class per event type."""
    # The class's own __dict__: a pydantic model class answers a missing attribute through
    # its metaclass's __getattr__ and an exception, 2 µs an event on a worker's hot path.
    current = type(value).__dict__.get("__lumbung_canonical__")
    if current is None:
        return value
    built: M = current.model_construct(
        _fields_set=value.model_fields_set,
        **{k: getattr(value, k) for k in type(value).model_fields},
    )
    return built
