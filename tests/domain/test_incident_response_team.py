"""The incident response team of seed 002 (bijlage 3, "Incident management response
procedure"), step by step by number, as a municipality runs it: through the application, so
each step is given by the role the seed names it to and refused for the others."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from uuid import UUID

import pytest

from adapters.config import database_env
from adapters.persistence.personal_data import ErasedAsSubject, PersonalDataAsCiphertext
from adapters.persistence.subject_keys import MasterKey, open_key_store
from adapters.services.projection_runner import ReadModelRunner
from domain import commands as c
from domain.application import Bewijslast
from domain.authorization import Actor, Grant, NotAuthorised, Role
from domain.deadlines import AMSTERDAM, RULES
from domain.errors import ProcedureError
from domain.fg_advice import NoAdviceReason, WithoutFGAdvice
from domain.incidents import (
    Incident,
    IRTMember,
    Recipient,
    SubjectsNotInformedGround,
)
from domain.personal_data import PersonalData
from projections.catalogue import all_projections
from tests.test_first_version_ledger import opened

TOWN, COLLEGE = "Putten", "college van burgemeester en wethouders"
MONDAY_9 = datetime(2026, 3, 23, 9, 0, tzinfo=AMSTERDAM)
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def person(role: Role) -> Actor:
    return Actor.with_grants(f"{role.name.lower()}@putten.nl", [Grant(role, TOWN)])


CISO, SECRETARY, PRIVACY, OWNER, FG, EMPLOYEE = map(
    person,
    (Role.CISO, Role.SECRETARY, Role.PRIVACY_OFFICER, Role.PROCESS_OWNER, Role.FG, Role.EMPLOYEE),
)


class Clock:
    def __init__(self) -> None:
        self.now = MONDAY_9

    def __call__(self) -> datetime:
        return self.now

    def after(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    keys = open_key_store(url, MasterKey.generate())
    return Bewijslast(
        env=database_env(url),
        transcodings=[PersonalDataAsCiphertext(keys), ErasedAsSubject()],
        clock=clock,
    )


def reported_and_triaged(app: Bewijslast, clock: Clock) -> UUID:
    # Steps 1-9: found, reported to the CISO, assessed by the IBD's table.
    incident = app.execute(
        c.ReportIncident(
            municipality=TOWN,
            controller=COLLEGE,
            summary="Laptop van een medewerker sociaal domein uit de auto gestolen",
        ),
        EMPLOYEE,
    )
    clock.after(hours=1)
    app.execute(c.TriageIncident(aggregate_id=incident, impact="hoog"), CISO)
    return incident


def as_breach(app: Bewijslast, clock: Clock, incident: UUID, *, inform_subjects: bool) -> None:
    app.execute(
        c.EstablishBreach(
            aggregate_id=incident,
            aware_at=clock.now,
            natures=["vertrouwelijkheid"],
            data_categories=["naam", "adres", "bankrekeningnummer"],
            approx_subjects=300,
            approx_records=300,
            likely_consequences="fraude met bankgegevens",
        ),
        CISO,
    )
    clock.after(hours=2)
    app.execute(
        c.DecideNotification(
            aggregate_id=incident,
            notify_ap=False,
            ap_reasons="de schijf is versleuteld",
            inform_subjects=inform_subjects,
            subjects_reasons="naar het oordeel van het IRT",
            # The IRT's own FG member was at the table (step 10); no separate advice was asked.
            without_fg_advice=WithoutFGAdvice(
                reason=NoAdviceReason.URGENCY, explanation="de FG zat in het IRT"
            ),
        ),
        SECRETARY,
    )


def refused_for_others(app: Bewijslast, command: c.CommandModel, allowed: set[Actor]) -> None:
    """Everyone the seed does not name for the step is refused it, and nothing is recorded."""
    size = app.recorder.ledger_size()
    for actor in {CISO, SECRETARY, PRIVACY, OWNER, FG, EMPLOYEE} - allowed:
        with pytest.raises(NotAuthorised):
            app.execute(command, actor)
    assert app.recorder.ledger_size() == size


def test_a_stolen_laptop_is_handled_by_the_incident_response_team_step_by_step(app, clock):
    incident = reported_and_triaged(app, clock)

    # Step 10: the CISO convenes the incident response team; the team's evaluation (step 38)
    # is dated now: two to six weeks after the incident.
    convene = c.ConveneIRT(
        aggregate_id=incident,
        members=[IRTMember.CISO, IRTMember.FG, IRTMember.PRIVACY_OFFICER, IRTMember.LEGAL],
        notes="communicatiestrategie: niemand praat buiten het team tot de secretaris het zegt",
    )
    refused_for_others(app, convene, {CISO})
    clock.after(hours=1)
    app.execute(convene, CISO)
    convened: Incident = app.repository.get(incident)
    assert convened.evaluation_due_by == date(2026, 3, 23) + timedelta(weeks=6)

    # Step 11: the team's first assessment.
    assess = c.AssessIncident(
        aggregate_id=incident,
        likely_breach=True,
        ap_pre_notification=False,
        investigation="forensisch: nagaan of de schijf versleuteld was",
    )
    refused_for_others(app, assess, {CISO})
    app.execute(assess, CISO)

    # Step 12: criminal activity: theft.
    criminal = c.AssessCriminalActivity(
        aggregate_id=incident, criminal=True, reasons="inbraak in een auto, diefstal"
    )
    refused_for_others(app, criminal, {CISO})
    app.execute(criminal, CISO)

    # Step 13: the aangifte is the secretary's, always after consulting the burgemeester; a
    # CISO cannot record one, nor can the secretary before the burgemeester agreed.
    aangifte = c.FileAangifte(
        aggregate_id=incident, reference="PL0900-2026-311", filed_at=clock.now
    )
    refused_for_others(app, aangifte, {SECRETARY})
    with pytest.raises(ProcedureError, match="after the burgemeester agreed") as early:
        app.execute(aangifte, SECRETARY)
    assert early.value.allowed == ["consult-mayor"]
    consult = c.ConsultMayor(
        aggregate_id=incident,
        file_aangifte=True,
        reasons="diefstal van gemeentelijk eigendom met persoonsgegevens",
        consulted_at=clock.after(hours=1),
    )
    refused_for_others(app, consult, {SECRETARY})
    app.execute(consult, SECRETARY)
    app.execute(
        c.FileAangifte(aggregate_id=incident, reference="PL0900-2026-311", filed_at=clock.now),
        SECRETARY,
    )

    # Step 15: a breach, and serious: the wethouder is informed by the secretary.
    as_breach(app, clock, incident, inform_subjects=False)
    wethouder = c.InformGovernment(
        aggregate_id=incident,
        recipient=Recipient.WETHOUDER,
        party="wethouder sociaal domein",
        reference="memo ernstig datalek",
        informed_at=clock.now,
    )
    refused_for_others(app, wethouder, {SECRETARY})
    app.execute(wethouder, SECRETARY)

    # Steps 17-18: evidence secured and kept in the inventory, handed over against a receipt.
    evidence = c.RecordEvidence(
        aggregate_id=incident,
        description="kopie van het logboek van het MDM-systeem",
        custodian="J. de Vries, beveiligingsbeheerder",
        kept_at="forensische share",
        sha256=SHA,
        collected_at=clock.after(hours=1),
    )
    refused_for_others(app, evidence, {CISO})
    app.execute(evidence, CISO)
    unsigned = c.HandOverEvidence(
        aggregate_id=incident,
        item=1,
        custodian="forensisch bureau",
        kept_at="kluis forensisch bureau",
        reason="onderzoek (stap 19)",
        receipt_signed=False,
        handed_over_at=clock.after(hours=1),
    )
    with pytest.raises(ProcedureError, match="signs for receipt"):
        app.execute(unsigned, CISO)
    app.execute(unsigned.model_copy(update={"receipt_signed": True}), CISO)
    with pytest.raises(ProcedureError, match="no evidence item 2"):
        app.execute(unsigned.model_copy(update={"item": 2, "receipt_signed": True}), CISO)

    # Step 27: the data subjects are not told: art. 34(3)(a), the disk was encrypted.
    exemption = c.RecordSubjectsNotInformed(
        aggregate_id=incident,
        ground=SubjectsNotInformedGround.UNINTELLIGIBLE,
        reasons="volledige schijfversleuteling; de sleutel stond niet op de laptop",
    )
    refused_for_others(app, exemption, {SECRETARY})
    app.execute(exemption, SECRETARY)

    # Steps 34-36: the IBD, the bank, a third party, by the team's chair; the police of step
    # 33 (informed, beyond the aangifte) by the secretary: one kind of step, typed recipients.
    for recipient in (Recipient.IBD, Recipient.BANK, Recipient.THIRD_PARTY):
        informed = c.InformParty(
            aggregate_id=incident,
            recipient=recipient,
            party="Rabobank" if recipient is Recipient.BANK else "",
            reference=f"melding {recipient.name}",
            informed_at=clock.now,
        )
        refused_for_others(app, informed, {CISO})
        app.execute(informed, CISO)
    police = c.InformParty(
        aggregate_id=incident, recipient=Recipient.POLICE, reference="x", informed_at=clock.now
    )
    with pytest.raises(ProcedureError, match="informed by another step") as wrong_step:
        app.execute(police, CISO)
    assert wrong_step.value.allowed == ["inform-government"]

    # Step 37: the time written and its costs.
    costs = c.RecordTimeAndCosts(
        aggregate_id=incident, hours=62, costs_eur=7350, description="IRT en forensisch bureau"
    )
    refused_for_others(app, costs, {CISO})
    app.execute(costs, CISO)

    # Step 38: evaluated three weeks after the incident, before closing: on time.
    clock.after(weeks=3)
    app.execute(
        c.EvaluateIncident(aggregate_id=incident, findings="schijfversleuteling werkt"), CISO
    )
    app.execute(c.CloseIncident(aggregate_id=incident), CISO)

    done: Incident = app.repository.get(incident)
    assert done.external_reports == [
        Recipient.WETHOUDER,
        Recipient.IBD,
        Recipient.BANK,
        Recipient.THIRD_PARTY,
    ]
    assert done.criminal is True
    assert done.aangifte_filed
    assert done.subjects_ground is SubjectsNotInformedGround.UNINTELLIGIBLE
    assert done.evaluated
    (evaluated,) = [e for e in app.events.get(incident) if isinstance(e, Incident.Evaluated)]
    assert (evaluated.due_by, evaluated.late, evaluated.rules) == (date(2026, 5, 4), False, RULES)
    # Free text that may describe a person is sealed under the incident's key.
    recorded = [e for e in app.events.get(incident) if isinstance(e, Incident.EvidenceRecorded)]
    assert isinstance(recorded[0].custodian, PersonalData)
    assert recorded[0].sha256 == SHA


def test_addresses_of_those_affected_are_collected_and_destroyed_afterwards(app, clock):
    incident = reported_and_triaged(app, clock)
    as_breach(app, clock, incident, inform_subjects=True)
    # Step 28: the department collects the names and addresses, advised by the CISO.
    collect = c.CollectAddresses(
        aggregate_id=incident,
        approx_subjects=300,
        kept_at="beveiligde map sociaal domein",
        collected_at=clock.after(hours=1),
    )
    refused_for_others(app, collect, {OWNER, PRIVACY})
    app.execute(collect, OWNER)
    # Step 32: informed; the incident closed.
    app.execute(
        c.InformSubjects(aggregate_id=incident, channel="brief", informed_at=clock.after(days=1)),
        PRIVACY,
    )
    with pytest.raises(ProcedureError, match="the decision was to inform them"):
        app.execute(
            c.RecordSubjectsNotInformed(
                aggregate_id=incident, ground=SubjectsNotInformedGround.NO_HIGH_RISK, reasons="-"
            ),
            SECRETARY,
        )
    app.execute(c.CloseIncident(aggregate_id=incident), CISO)
    # Destroyed when no longer needed: after closing too.
    destroy = c.DestroyAddresses(
        aggregate_id=incident, method="map gewist", destroyed_at=clock.after(days=2)
    )
    refused_for_others(app, destroy, {OWNER, PRIVACY})
    app.execute(destroy, PRIVACY)
    assert app.repository.get(incident).addresses_destroyed
    with pytest.raises(ProcedureError, match="no addresses are kept"):
        app.execute(destroy, PRIVACY)


def test_art_34_3_c_goes_with_a_public_communication_and_only_there(app, clock):
    incident = reported_and_triaged(app, clock)
    as_breach(app, clock, incident, inform_subjects=False)
    bare = c.RecordSubjectsNotInformed(
        aggregate_id=incident,
        ground=SubjectsNotInformedGround.DISPROPORTIONATE_EFFORT,
        reasons="adressen onbekend",
    )
    with pytest.raises(ProcedureError, match="public communication"):
        app.execute(bare, SECRETARY)
    with pytest.raises(ProcedureError, match="public communication"):
        app.execute(
            bare.model_copy(
                update={
                    "ground": SubjectsNotInformedGround.SUBSEQUENT_MEASURES,
                    "public_communication": "persbericht",
                    "communicated_at": clock.now,
                }
            ),
            SECRETARY,
        )
    app.execute(
        bare.model_copy(
            update={
                "public_communication": "persbericht op de website",
                "communicated_at": clock.now,
            }
        ),
        SECRETARY,
    )


def test_the_team_steps_wait_for_the_team_and_the_aangifte_for_criminal_activity(app, clock):
    incident = reported_and_triaged(app, clock)
    with pytest.raises(ProcedureError, match="convene it first") as refused:
        app.execute(
            c.AssessCriminalActivity(aggregate_id=incident, criminal=True, reasons="diefstal"),
            CISO,
        )
    assert refused.value.allowed == ["convene-irt"]
    with pytest.raises(ProcedureError, match="the CISO chairs"):
        app.execute(c.ConveneIRT(aggregate_id=incident, members=[IRTMember.FG]), CISO)
    app.execute(c.ConveneIRT(aggregate_id=incident, members=[IRTMember.CISO]), CISO)
    app.execute(
        c.AssessCriminalActivity(aggregate_id=incident, criminal=False, reasons="verloren"), CISO
    )
    with pytest.raises(ProcedureError, match="criminal activity the team found"):
        app.execute(
            c.ConsultMayor(
                aggregate_id=incident, file_aangifte=True, reasons="-", consulted_at=clock.now
            ),
            SECRETARY,
        )


def test_an_incident_without_a_team_is_evaluated_after_closing_within_six_weeks(app, clock):
    incident = reported_and_triaged(app, clock)
    app.execute(c.ClassifyNotABreach(aggregate_id=incident, reasons="geen persoonsgegevens"), CISO)
    with pytest.raises(ProcedureError, match="cannot evaluate"):
        app.execute(c.EvaluateIncident(aggregate_id=incident, findings="-"), CISO)
    app.execute(c.CloseIncident(aggregate_id=incident), CISO)
    clock.after(weeks=7)
    app.execute(c.EvaluateIncident(aggregate_id=incident, findings="te laat"), CISO)
    (evaluated,) = [e for e in app.events.get(incident) if isinstance(e, Incident.Evaluated)]
    assert evaluated.due_by == date(2026, 3, 23) + timedelta(weeks=6)
    assert evaluated.late is True


def test_reports_to_authorities_and_evaluations_of_an_older_ledger_still_read(tmp_path):
    """Recorded before informing had one step and evaluations a dated obligation."""
    _, old = opened(tmp_path)
    runner = ReadModelRunner(old, all_projections())
    runner.catch_up_all()
    with runner.db.transaction() as cursor:
        cursor.execute("SELECT doc FROM incidents")
        records = [json.loads(doc) for (doc,) in cursor.fetchall()]
    informed = [p["recipient"] for r in records for p in r["parties_informed"]]
    assert {"politie (aangifte)", "Informatiebeveiligingsdienst (IBD)"} <= set(informed)
    evaluations = [r["evaluation"] for r in records if "evaluation" in r]
    assert evaluations
    assert {(e["due_by"], e["late"]) for e in evaluations} == {(None, None)}
    old.close()
