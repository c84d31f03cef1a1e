"""Processors (AVG art. 28; seed 002 §7.2-7.4, seed 004 "Verwerkersovereenkomsten"), the
processor's notice of a breach (art. 33(2)), and the Cyberbeveiligingswet's early warning
(bijlage 3: the CISO handles the security incident and informs the CSIRT), as a municipality
records them, on both databases: the register and its exports, the incident register, and
the FG's oversight."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from adapters.persistence.personal_data import opened
from adapters.services.accountability_report import build_report, render_html
from adapters.services.projection_runner import ReadModelRunner
from domain.authorization import Actor, Grant, NotAuthorised, Role
from domain.commands import (
    AmendProcessingActivity,
    ConcludeAgreement,
    EndAgreement,
    FindSignificantIncident,
    RecordProcessorNotice,
    RegisterProcessingActivity,
    RegisterProcessor,
    RenewAgreement,
    ReportIncident,
    SendEarlyWarning,
    TriageIncident,
)
from domain.deadlines import EarlyWarningRule
from domain.errors import ProcedureError, UnknownRecord
from domain.incidents import Impact, Incident
from domain.processing import LegalBasis, RegisterChanges, RegisterEntry, SpecialCategoryGround
from domain.processors import Agreement, Location, SubProcessor, TransferSafeguard
from projections import oversight
from projections.base import utc_text
from projections.catalogue import all_projections
from projections.incidents import incident_register
from projections.register import current_register, public_register, vng_csv
from projections.report import Period
from tests.conftest import fresh_pg_database
from tests.projections.history import COLLEGE, T0, Clock, History, open_history

TOWN = "Leusden"
MAYOR = "burgemeester"
CBW_FROM = T0.date() - timedelta(days=30)  # configured for the test: in force before T0


@pytest.fixture(params=["sqlite", "postgres"])
def history(request, tmp_path):
    def opened_at(url: str) -> History:
        h = open_history(url, tmp_path / "keys", Clock(T0))
        h.app.early_warning_rule = EarlyWarningRule(CBW_FROM)
        return h

    if request.param == "sqlite":
        yield opened_at(f"sqlite:///{tmp_path / 'b.db'}")
    else:
        with fresh_pg_database(request.getfixturevalue("pg_url")) as database:
            yield opened_at(database.url)


def projected(h: History):
    runner = ReadModelRunner(h.app, all_projections())
    runner.catch_up_all()
    return runner.db.transaction()


def agreement(reference: str, expires_on: date | None, *subs: SubProcessor) -> Agreement:
    return Agreement(
        reference=reference,
        concluded_on=date(2025, 1, 1),
        expires_on=expires_on,
        location=Location(country="NL"),
        sub_processors=list(subs),
    )


def entry(**fields) -> RegisterEntry:
    return RegisterEntry(
        name="Jeugdhulp",
        purposes=["uitvoering Jeugdwet"],
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        legal_basis_law="Jeugdwet art. 7.4.4",
        data_subject_categories=["jeugdigen"],
        personal_data_categories=["NAW", "gezondheid"],
        retention="10 jaar",
        security_measures=["versleuteling"],
        process_owner="teamleider Sociaal Domein",
        **fields,
    )


def test_processors_their_agreements_and_the_register_entries_that_name_them(history):
    h = history
    # The process owner registers the processor and concludes the agreement (seed 002 §2.1.1:
    # "Afsluiten, beheren en actualiseren van verwerkersovereenkomsten").
    cloud = h.do(RegisterProcessor(municipality=TOWN, controller=COLLEGE, name="Zorgcloud BV"), T0)
    printer = h.do(RegisterProcessor(municipality=TOWN, controller=COLLEGE, name="Drukkerij"), T0)
    us_backup = SubProcessor(name="Backup Inc", location=Location(country="US"))
    h.do(
        ConcludeAgreement(
            aggregate_id=cloud, agreement=agreement("VO-1", date(2026, 4, 1), us_backup)
        ),
        T0,
    )
    # The register entry (privacy officer) names both by id, and one by name only, as before.
    activity = h.do(
        RegisterProcessingActivity(
            municipality=TOWN,
            controller=COLLEGE,
            entry=entry(
                special_categories=["gezondheid"],
                special_category_grounds=[SpecialCategoryGround.HEALTH_AND_SOCIAL_CARE],
                processors=["Oude leverancier"],
                processor_ids=[cloud, printer],
            ),
            valid_from=T0,
        ),
        T0,
    )
    today = T0.date()
    with projected(h) as cursor:
        (row,) = current_register(cursor, TOWN)
        assert [r["name"] for r in row["processor_records"]] == ["Zorgcloud BV", "Drukkerij"]
        (published,) = public_register(cursor, TOWN)
        assert published["processors"] == ["Oude leverancier", "Zorgcloud BV", "Drukkerij"]
        assert published["third_country_transfers"] == [
            "Zorgcloud BV / Backup Inc: US (geen waarborg)"
        ]
        table = list(csv.DictReader(io.StringIO(vng_csv([row]).lstrip("\ufeff")), delimiter=";"))
        assert table[0]["Verwerkers"] == "Oude leverancier; Zorgcloud BV; Drukkerij"
        assert table[0]["Verwerkersovereenkomsten"] == (
            "Zorgcloud BV: VO-1 (2025-01-01 - 2026-04-01); Drukkerij: geen verwerkersovereenkomst"
        )
        # Oversight: the processor named only by name and the printer have no agreement.
        (without,) = oversight.processing_without_agreement(cursor, [TOWN], today)
        assert [p["name"] for p in without["processors"]] == ["Oude leverancier", "Drukkerij"]
        (expiring,) = oversight.processor_agreements_expiring(cursor, [TOWN], today)
        assert (expiring["agreement"], expiring["days_left"]) == (
            "VO-1",
            (date(2026, 4, 1) - today).days,
        )
        # Health data processed in the US without a transfer safeguard (seed 002 §7.4).
        (outside,) = oversight.special_categories_outside_eea(cursor, [TOWN])
        assert outside["transfers"][0]["country"] == "US"

    # Renewed with standard contractual clauses; the old name replaced by a record; the
    # printer's agreement concluded, then ended.
    safe_backup = SubProcessor(
        name="Backup Inc", location=Location(country="US", safeguard=TransferSafeguard.SCC)
    )
    h.do(RenewAgreement(aggregate_id=cloud, agreement=agreement("VO-2", None, safe_backup)), T0)
    h.do(ConcludeAgreement(aggregate_id=printer, agreement=agreement("VO-3", None)), T0)
    h.do(
        AmendProcessingActivity(
            aggregate_id=activity, changes=RegisterChanges(processors=[]), valid_from=T0
        ),
        T0,
    )
    with projected(h) as cursor:
        assert oversight.processing_without_agreement(cursor, [TOWN], today) == []
        assert oversight.processor_agreements_expiring(cursor, [TOWN], today) == []
        assert oversight.special_categories_outside_eea(cursor, [TOWN]) == []
    h.do(EndAgreement(aggregate_id=printer, ended_on=today, reason="contract beëindigd"), T0)
    with projected(h) as cursor:
        (without,) = oversight.processing_without_agreement(cursor, [TOWN], today)
        assert [p["processor"] for p in without["processors"]] == [str(printer)]
    with pytest.raises(ProcedureError, match="no agreement is in force to end"):
        h.do(EndAgreement(aggregate_id=printer, ended_on=today, reason="nogmaals"), T0)


def test_a_register_entry_names_only_processors_of_its_own_controller(history):
    h = history
    mayors = h.do(RegisterProcessor(municipality=TOWN, controller=MAYOR, name="Camerabeheer"), T0)
    elsewhere = h.do(
        RegisterProcessor(municipality="Putten", controller=COLLEGE, name="X"), T0, "Putten"
    )
    for foreign in (mayors, elsewhere):
        with pytest.raises(UnknownRecord):
            h.do(
                RegisterProcessingActivity(
                    municipality=TOWN,
                    controller=COLLEGE,
                    entry=entry(processor_ids=[foreign]),
                    valid_from=T0,
                ),
                T0,
            )


def test_only_the_process_owner_and_the_privacy_officer_keep_processor_agreements(history):
    h = history
    employee = Actor.with_grants("mdw@leusden.nl", [Grant(Role.EMPLOYEE, TOWN)])
    ciso = Actor.with_grants("ciso@leusden.nl", [Grant(Role.CISO, TOWN)])
    owner = Actor.with_grants("pe@leusden.nl", [Grant(Role.PROCESS_OWNER, TOWN)])
    register = RegisterProcessor(municipality=TOWN, controller=COLLEGE, name="Zorgcloud BV")
    for refused in (employee, ciso):
        with pytest.raises(NotAuthorised):
            h.app.execute(register, refused)
    processor = h.app.execute(register, owner)
    with pytest.raises(NotAuthorised):
        h.app.execute(
            ConcludeAgreement(aggregate_id=processor, agreement=agreement("VO", None)), ciso
        )


def test_a_processor_informed_us_of_the_breach_art_33_2(history):
    """Bijlage 3: the incident is reported and triaged; the processor's notice (art. 33(2))
    is recorded with its moment and the processor record, and the register shows it."""
    h = history
    cloud = h.do(RegisterProcessor(municipality=TOWN, controller=COLLEGE, name="Zorgcloud BV"), T0)
    other = h.do(RegisterProcessor(municipality=TOWN, controller=MAYOR, name="Camerabeheer"), T0)
    incident = h.do(
        ReportIncident(municipality=TOWN, controller=COLLEGE, summary="lek bij de zorgcloud"), T0
    )
    h.do(TriageIncident(aggregate_id=incident, impact=Impact.HIGH), T0)
    informed = T0 - timedelta(hours=12)  # the evening before
    h.do(RecordProcessorNotice(aggregate_id=incident, processor=cloud, informed_at=informed), T0)
    with pytest.raises(UnknownRecord):  # not this controller's processor
        h.do(RecordProcessorNotice(aggregate_id=incident, processor=other, informed_at=T0), T0)
    with pytest.raises(UnknownRecord):  # not a processor at all
        h.do(RecordProcessorNotice(aggregate_id=incident, processor=incident, informed_at=T0), T0)
    with projected(h) as cursor:
        (record,) = incident_register(cursor, TOWN)
    (notice,) = record["processor_notices"]
    assert notice["processor"] == str(cloud)
    report = build_report(h.app, TOWN, COLLEGE, Period(T0.date(), T0.date()), sign=h.sign)
    figures = {f.key: f.value for f in report.sections["processors"]}
    assert figures["processors.breach_notices"] == 0  # informed the day before the period
    report = build_report(h.app, TOWN, COLLEGE, Period(date(2026, 1, 1), T0.date()))
    figures = {f.key: f.value for f in report.sections["processors"]}
    assert figures["processors.breach_notices"] == 1
    assert figures["processors.total"] == 1
    assert notice["informed_at"] == utc_text(informed)


def test_the_early_warning_runs_from_finding_the_incident_significant(history):
    """Bijlage 3 with the Cyberbeveiligingswet: the CISO triages, finds the incident
    significant (awareness at 10:00), the 24 hours run from then; oversight shows it due,
    then sent late."""
    h = history
    incident = h.do(ReportIncident(municipality=TOWN, controller=COLLEGE, summary="ransomware"), T0)
    h.do(TriageIncident(aggregate_id=incident, impact=Impact.HIGH, significant=True), T0)
    aware = T0 + timedelta(hours=1)
    h.do(FindSignificantIncident(aggregate_id=incident, aware_at=aware), aware)
    with projected(h) as cursor:
        (due,) = oversight.early_warnings(cursor, [TOWN], aware + timedelta(hours=20))
        (record,) = incident_register(cursor, TOWN)
    assert (due["status"], due["hours_left"]) == ("due", 4.0)
    assert record["significance"]["rule"] == f"cbw-early-warning/1 (in force from {CBW_FROM})"
    assert opened(h.app, due)["summary"] == "ransomware"
    h.do(
        SendEarlyWarning(
            aggregate_id=incident, reference="NCSC-7", sent_at=aware + timedelta(hours=30)
        ),
        aware + timedelta(hours=30),
    )
    with projected(h) as cursor:
        (late,) = oversight.early_warnings(cursor, [TOWN], aware + timedelta(hours=31))
        (record,) = incident_register(cursor, TOWN)
    assert late["status"] == "sent late"
    assert record["early_warning"]["late"] is True
    report = build_report(h.app, TOWN, COLLEGE, Period(T0.date(), T0.date()), sign=h.sign)
    figures = {f.key: f.value for f in report.sections["early_warnings"]}
    assert figures == {
        "early_warnings.significant": 1,
        "early_warnings.owed": 1,
        "early_warnings.sent_within_24h": 0.0,
        "early_warnings.late": 1,
    }
    assert "Warned late or not (yet)" in render_html(report, "en")
    employee = Actor.with_grants("mdw@leusden.nl", [Grant(Role.PRIVACY_OFFICER, TOWN)])
    with pytest.raises(NotAuthorised):
        h.app.execute(FindSignificantIncident(aggregate_id=incident, aware_at=aware), employee)


def test_the_in_force_date_is_the_deployments_setting(tmp_path):
    from adapters.config import database_env
    from domain.application import Bewijslast

    env = {
        **database_env(f"sqlite:///{tmp_path / 'b.db'}"),
        "CYBERBEVEILIGINGSWET_IN_FORCE_FROM": "2026-10-01",
    }
    assert Bewijslast(env=env).early_warning_rule == EarlyWarningRule(date(2026, 10, 1))
    del env["CYBERBEVEILIGINGSWET_IN_FORCE_FROM"]
    assert Bewijslast(env=env).early_warning_rule == EarlyWarningRule(None)


def test_an_incident_recorded_before_the_dated_rule_keeps_its_early_warning_deadline(history):
    """Before the dated rule, a triage marked significant stored a 24-hour deadline from the
    triage: the incident still loads with it, and the register shows it under the rules the
    event names."""
    h = history
    incident = Incident.report(
        municipality=TOWN, controller=COLLEGE, summary="ransomware", reported_at=T0, actor="x"
    )
    deadline = T0 + timedelta(hours=24)
    incident._triaged(  # the event as the code of that time recorded it
        impact=Impact.HIGH,
        significant=True,
        triaged_at=T0,
        early_warning_deadline=deadline,
        rules="deadlines/2",
        actor="ciso@leusden.nl",
    )
    h.app.save(incident)
    assert h.app.repository.get(incident.id).early_warning_deadline == deadline
    with projected(h) as cursor:
        (record,) = incident_register(cursor, TOWN)
        (due,) = oversight.early_warnings(cursor, [TOWN], T0)
    assert record["significance"]["rule"] == "deadlines/2"
    assert record["significance"]["early_warning_deadline"] == utc_text(deadline)
    assert due["hours_left"] == 24.0
