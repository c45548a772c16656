from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
]
"""An id that is safe in a URL and a Kafka key: letters, digits, `.`, `_`, `-`."""

Sku = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
]


class Payload(BaseModel):
    """Base of every event payload.

    Unknown fields are ignored, so a consumer built on an older version of a payload keeps
    reading events from a producer that has added optional fields (additive evolution).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)


NonNegativeInt = Annotated[int, Field(ge=0)]
PositiveInt = Annotated[int, Field(gt=0)]
