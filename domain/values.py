"""Constrained value types shared by commands and register entries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints


def without_nul(text: str) -> str:
    # PostgreSQL text cannot hold NUL, and one such value would stop every read model.
    if "\x00" in text:
        raise ValueError("the text contains a NUL character")
    return text


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000),
    AfterValidator(without_nul),
]
OptionalText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=20_000),
    AfterValidator(without_nul),
]
Count = Annotated[int, Field(ge=0)]

# A moment someone states (awareness, receipt, sending): within years every deadline and read
# model can compute with; a year like 573 would pass pydantic and poison every projection.
EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, tzinfo=UTC)


def plausible(moment: datetime) -> datetime:
    if not EARLIEST <= moment <= LATEST:
        raise ValueError("the moment must lie between the years 1900 and 2999")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(plausible)]
