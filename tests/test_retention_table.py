"""The Selectielijst table: one rule per record type, each period counted in calendar years
from the day (in Amsterdam) of the event that closed the file."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from adapters.config import ConfigurationError
from adapters.retention_table import BUILT_IN, load_retention_schedule, parse_retention_schedule
from domain.retention import RecordType, add_years, due_on


def test_the_repositorys_table_has_a_rule_for_every_record_type_and_says_what_is_unverified():
    schedule = load_retention_schedule()
    assert set(schedule.rules) == set(RecordType)
    incident = schedule.rule(RecordType.INCIDENT)
    assert (incident.category, incident.years) == ("29.1", 5)
    # Nothing could be checked against the Selectielijst itself offline: the table says so.
    assert not any(rule.verified for rule in schedule.rules.values())
    assert len(schedule.version) == 64


def test_a_table_without_a_rule_for_a_type_or_with_two_is_refused():
    text = BUILT_IN.read_text(encoding="utf-8")
    without = text.split("[[rule]]")
    with pytest.raises(ConfigurationError, match="no rule for"):
        parse_retention_schedule("[[rule]]".join(without[:-1]), "test")
    with pytest.raises(ConfigurationError, match="has two rules"):
        parse_retention_schedule(text + "\n[[rule]]" + without[1], "test")
    with pytest.raises(ConfigurationError, match="years"):
        parse_retention_schedule(text.replace("years = 5", "years = 0"), "test")


def test_the_period_counts_from_the_amsterdam_day_of_closing():
    rule = load_retention_schedule().rule(RecordType.INCIDENT)
    # 23:30 UTC on 31 December is already 1 January in Amsterdam.
    assert due_on(rule, datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2032, 1, 1)
    assert add_years(date(2028, 2, 29), 5) == date(2033, 3, 1)
