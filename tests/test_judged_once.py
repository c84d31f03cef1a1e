"""Judged once: a change in the law, the holiday table or a validation rule changes nothing
that the ledger already says. The demo history is recorded, every rule is then changed (as a
later version of the code would), and every aggregate still loads as it was, and every read
model, report and reconstruction comes out byte for byte the same."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

import domain.deadlines
from adapters.bootstrap import open_application
from adapters.config import Settings
from adapters.demo import B_AND_W, MUNICIPALITIES
from adapters.services.accountability_report import build_report, render_html
from adapters.services.projection_runner import ReadModelRunner
from adapters.services.reconstruction import reconstruct
from domain.errors import ProcedureError
from domain.fg_advice import FGAdvice
from domain.incidents import Incident
from domain.processing import ProcessingActivity
from domain.processors import Processor
from domain.requests import RightsRequest
from projections.base import to_json
from projections.catalogue import all_projections
from projections.report import Period
from tests.conftest import copy_demo

ASKED_AT = datetime(2027, 1, 1, tzinfo=UTC)


def refuse(*args, **kwargs):
    raise ProcedureError("this rule now refuses everything")


def change_every_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a later version of the rules could say: other periods, another holiday table,
    stricter checks everywhere."""
    rules = domain.deadlines
    monkeypatch.setattr(rules, "AP_NOTIFICATION_PERIOD", timedelta(hours=24))
    monkeypatch.setattr(rules, "NIS2_EARLY_WARNING_PERIOD", timedelta(hours=6))
    monkeypatch.setattr(rules, "REQUEST_PERIOD_MONTHS", 3)
    monkeypatch.setattr(rules, "MAX_EXTENSION_MONTHS", 0)
    monkeypatch.setattr(rules, "OBJECTION_PERIOD", timedelta(weeks=1))
    # issue 14: the Awb 7:10 and 4:17 terms
    monkeypatch.setattr(rules, "OBJECTION_DECISION_PERIOD", timedelta(weeks=1))
    monkeypatch.setattr(rules, "COMMITTEE_DECISION_PERIOD", timedelta(weeks=2))
    monkeypatch.setattr(rules, "OBJECTION_DECISION_EXTENSION", timedelta(0))
    monkeypatch.setattr(rules, "NOTICE_OF_DEFAULT_PERIOD", timedelta(0))
    monkeypatch.setattr(rules, "PENALTY_RATES", ((42, 1000),))
    monkeypatch.setattr(
        rules,
        "public_holidays",
        lambda year: frozenset(date(year, m, d) for m in range(1, 13) for d in range(1, 8)),
    )
    monkeypatch.setattr(rules, "RULES", "deadlines/99")
    for aggregate in (Incident, RightsRequest):
        monkeypatch.setattr(aggregate, "_require", refuse)
    monkeypatch.setattr(RightsRequest, "_not_before_receipt", refuse)
    monkeypatch.setattr(RightsRequest, "_require_admissible", refuse)
    monkeypatch.setattr(RightsRequest, "_require_late_objection", refuse)
    monkeypatch.setattr("domain.processing.check_entry", refuse)
    monkeypatch.setattr("domain.processors.EEA", frozenset())  # every country outside it


def everything(settings: Settings) -> dict[str, str]:
    """Every aggregate as loaded, every read model rebuilt from index 0, every report (JSON
    and HTML) and every reconstruction, each as text."""
    app = open_application(settings)
    app.clock = lambda: ASKED_AT
    found: dict[str, str] = {}
    ids = {n.originator_id for n in app.recorder.select_notifications(1, 1_000_000)}
    kinds = (Incident, RightsRequest, FGAdvice, ProcessingActivity, Processor)
    for aggregate_id in sorted(ids):
        aggregate = app.repository.get(aggregate_id)
        if isinstance(aggregate, kinds):
            found[f"aggregate {aggregate_id}"] = repr(sorted(vars(aggregate).items()))
    runner = ReadModelRunner(app, all_projections())
    last = app.recorder.ledger_size() - 1
    for projection in runner.projections:
        runner.rebuild(projection)
        with runner.db.transaction() as cursor:
            found[f"read model {projection.name}"] = to_json(projection.snapshot(cursor))
        rebuilt = reconstruct(app, projection, upto=last)
        found[f"reconstruction {projection.name}"] = json.dumps(rebuilt.to_json(), sort_keys=True)
    years = Period(date(2026, 1, 1), date(2027, 12, 31))
    for town in MUNICIPALITIES:
        report = build_report(app, town, B_AND_W, years)
        found[f"report {town}"] = json.dumps(report.to_json(), sort_keys=True)
        found[f"report {town} html"] = render_html(report)
    return found


def test_a_change_in_every_rule_changes_nothing_the_ledger_says(demo_folder, tmp_path, monkeypatch):
    # The demo's history, with a signed checkpoint over all of it (for every receipt).
    home = copy_demo(demo_folder, tmp_path / "demo")
    settings = Settings.from_environ({}, config_file=home / "bewijslast.toml")
    before = everything(settings)
    assert sum(k.startswith("aggregate") for k in before) == 100  # the demo's records

    change_every_rule(monkeypatch)
    # The rules did change: a deadline computed now differs from the one recorded.
    aware = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert domain.deadlines.ap_notification_deadline(aware) == aware + timedelta(hours=24)

    after = everything(settings)
    assert after.keys() == before.keys()
    assert [k for k in before if after[k] != before[k]] == []
