"""The decree days (Atw art. 3(3)) as data: the table in the repository, and a deployment's own
file for decrees published after this version (``equated_days_file``)."""

from __future__ import annotations

from datetime import date
from importlib.resources import files
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from adapters.config import ConfigurationError, read_table
from domain.deadlines import EquatedDay, TermCalendar
from domain.values import ShortText

BUILT_IN = files("adapters") / "data" / "equated_days.toml"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    date: date
    decree: str = Field(min_length=1, max_length=500)
    publication: ShortText


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    day: list[_Row] = Field(default_factory=list, max_length=1000)


def _rows(text: str, source: str) -> list[_Row]:
    return read_table(text, source, _Table).day


def load_term_calendar(extra: Path | None = None) -> TermCalendar:
    """The repository's table, with the rows of ``extra`` added; a day listed twice is refused,
    because two sources for one day would leave it unclear which decree counts."""
    rows = _rows(BUILT_IN.read_text(encoding="utf-8"), str(BUILT_IN))
    if extra is not None:
        try:
            text = extra.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigurationError(f"cannot read {extra}: {e}") from None
        rows += _rows(text, str(extra))
    seen: set[date] = set()
    for row in rows:
        if row.date in seen:
            raise ConfigurationError(f"the decree day {row.date.isoformat()} is listed twice")
        seen.add(row.date)
    return TermCalendar(
        tuple(
            EquatedDay(row.date, row.decree, row.publication)
            for row in sorted(rows, key=lambda row: row.date)
        )
    )
