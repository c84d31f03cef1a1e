"""The Selectielijst table (``adapters/data/selectielijst.toml``): one retention rule per record
type, read and checked once; its digest is the version every destruction names."""

from __future__ import annotations

import hashlib
from importlib.resources import files

from pydantic import BaseModel, ConfigDict, Field

from adapters.config import ConfigurationError, read_table
from domain.retention import RecordType, RetentionRule, RetentionSchedule
from domain.values import ShortText

BUILT_IN = files("adapters") / "data" / "selectielijst.toml"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    record_type: RecordType
    category: ShortText
    verified: bool
    description: str = Field(min_length=1, max_length=500)
    years: int = Field(ge=1, le=120)
    trigger: str = Field(min_length=1, max_length=500)
    source: str = Field(min_length=1, max_length=1000)


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    rule: list[_Row] = Field(max_length=100)


def parse_retention_schedule(text: str, source: str) -> RetentionSchedule:
    """Every record type has exactly one rule: a type without one could never be destroyed,
    one with two would leave unclear which applies."""
    rows = read_table(text, source, _Table).rule
    rules: dict[RecordType, RetentionRule] = {}
    for row in rows:
        if row.record_type in rules:
            raise ConfigurationError(f"{source}: {row.record_type} has two rules")
        rules[row.record_type] = RetentionRule(**row.model_dump())
    missing = sorted(set(RecordType) - set(rules))
    if missing:
        raise ConfigurationError(f"{source}: no rule for {', '.join(missing)}")
    return RetentionSchedule(rules, hashlib.sha256(text.encode()).hexdigest())


def load_retention_schedule() -> RetentionSchedule:
    return parse_retention_schedule(BUILT_IN.read_text(encoding="utf-8"), str(BUILT_IN))
