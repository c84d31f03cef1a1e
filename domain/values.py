"""Constrained value types shared by commands and register entries.

Everything that enters an event is typed and bounded here, once: what passes lies in the
ledger for ever, so a value that later breaks a read model or a database can never be let in.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints

MAX_TEXT = 20_000  # characters of one free text
MAX_ITEMS = 100  # entries of one list


def plain_text(text: str) -> str:
    # PostgreSQL text cannot hold NUL: one such value would stop every read model for ever.
    # (A lone surrogate, which UTF-8 cannot encode, pydantic refuses as no string at all.)
    if "\x00" in text:
        raise ValueError("the text contains a NUL character")
    return text


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT),
    AfterValidator(plain_text),
]
OptionalText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_TEXT),
    AfterValidator(plain_text),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(plain_text),
]
Texts = Annotated[list[Text], Field(max_length=MAX_ITEMS)]


def finite(number: Any) -> Any:
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError("NaN and Infinity are not numbers here")
    return number


# An approximate number of people or records: a whole number, never NaN, within reason.
Count = Annotated[int, BeforeValidator(finite), Field(ge=0, le=10_000_000_000)]

# A moment someone states (awareness, receipt, sending): within years every deadline and read
# model can compute with; a year like 573 would pass pydantic and poison every projection.
# Whether it lies in the future is judged by the application against its own clock.
EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, tzinfo=UTC)


def not_a_number(value: Any) -> Any:
    # pydantic would read 0 or -1 as seconds since 1970: a number is not a stated moment.
    if isinstance(value, int | float):
        raise ValueError("a moment is a date and time with its offset, not a number")
    return value


def plausible(moment: datetime) -> datetime:
    if not EARLIEST <= moment <= LATEST:
        raise ValueError("the moment must lie between the years 1900 and 2999")
    return moment


Moment = Annotated[AwareDatetime, BeforeValidator(not_a_number), AfterValidator(plausible)]

# A file's SHA-256 in lower-case hexadecimal (evidence of an incident); empty: no file.
Sha256 = Annotated[str, StringConstraints(pattern=r"^([0-9a-f]{64})?$")]


def plausible_day(day: date) -> date:
    if not EARLIEST.date() <= day <= LATEST.date():
        raise ValueError("the date must lie between the years 1900 and 2999")
    return day


# A calendar date someone states (an agreement's term), bounded as a ``Moment`` is.
Day = Annotated[date, AfterValidator(plausible_day)]
