"""Constrained value types shared by commands and register entries."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Count = Annotated[int, Field(ge=0)]
