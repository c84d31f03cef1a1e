"""The FG's part in the incident procedure of seed 002 (bijlage 3), step by step, on both
databases: informed at once (step 3), advising before the secretary decides (step 15), advising
unasked (AVG art. 39(1)), and never deciding where it is FG (art. 38(6))."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import pytest
from pydantic import ValidationError

from adapters.config import database_env
from adapters.persistence.personal_data import ErasedAsSubject, PersonalDataAsCiphertext
from adapters.persistence.subject_keys import MasterKey, open_key_store
from domain.application import Bewijslast
from domain.authorization import Actor, Grant, NotAuthorised, Role
from domain.commands import (
    AnswerFGAdvice,
    DecideNotification,
    EstablishBreach,
    GiveFGAdvice,
    InformFG,
    ReportIncident,
    RequestFGAdvice,
    TriageIncident,
    VolunteerFGAdvice,
)
from domain.deadlines import AMSTERDAM
from domain.errors import ProcedureError, UnknownRecord
from domain.fg_advice import FGAdvice
from domain.incidents import Incident
from tests.forms import URGENT

MONDAY_9 = datetime(2026, 3, 23, 9, 0, tzinfo=AMSTERDAM)
B_AND_W = "college van burgemeester en wethouders"


def person(name: str, role: Role, municipality: str = "Nijkerk") -> Actor:
    return Actor.with_grants(name, [Grant(role, municipality)])


EMPLOYEE = person("medewerker@nijkerk.nl", Role.EMPLOYEE)
CISO = person("ciso@nijkerk.nl", Role.CISO)
PRIVACY = person("pb@nijkerk.nl", Role.PRIVACY_OFFICER)
SECRETARY = person("gs@nijkerk.nl", Role.SECRETARY)
FG = Actor.with_grants("fg@blnp.nl", [Grant(Role.FG, m) for m in ("Nijkerk", "Putten")])


@pytest.fixture(params=["sqlite", "postgres"])
def app(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'b.db'}"
    else:
        url = request.getfixturevalue("pg_database").url
    keys = open_key_store(url, MasterKey.generate())
    clock = iter(MONDAY_9 + timedelta(hours=h) for h in range(1000))
    return Bewijslast(
        env=database_env(url),
        transcodings=[PersonalDataAsCiphertext(keys), ErasedAsSubject()],
        clock=lambda: next(clock),
    )


def breach(app: Bewijslast, summary: str = "USB-stick met BRP-export verloren") -> UUID:
    """Steps 1-2 and 6: reported, triaged, established as a breach."""
    incident = app.execute(
        ReportIncident(municipality="Nijkerk", controller=B_AND_W, summary=summary), EMPLOYEE
    )
    app.execute(TriageIncident(aggregate_id=incident, impact="hoog"), CISO)
    app.execute(
        EstablishBreach(
            aggregate_id=incident,
            aware_at=MONDAY_9,
            natures=["vertrouwelijkheid"],
            data_categories=["naam", "BSN"],
            approx_subjects=1200,
            approx_records=1200,
            likely_consequences="identiteitsfraude",
        ),
        CISO,
    )
    return incident


def decision(incident: UUID, **fg: object) -> DecideNotification:
    return DecideNotification(
        aggregate_id=incident,
        notify_ap=True,
        ap_reasons="BSN's van 1.200 inwoners",
        inform_subjects=True,
        subjects_reasons="hoog risico",
        **fg,
    )


def test_step_3_the_local_ciso_informs_the_fg_at_once_and_the_moment_is_recorded(app):
    incident = breach(app)
    told = MONDAY_9 + timedelta(minutes=10)
    for someone in (EMPLOYEE, PRIVACY, SECRETARY):
        with pytest.raises(NotAuthorised, match="inform_fg"):
            app.execute(InformFG(aggregate_id=incident, informed_at=told), someone)
    app.execute(InformFG(aggregate_id=incident, informed_at=told), CISO)
    stored = app.repository.get(incident)
    assert stored.fg_informed_at == told
    (informed,) = [e for e in app.events.get(incident) if isinstance(e, Incident.FGInformed)]
    assert (informed.informed_at, informed.actor) == (told, CISO.id)


def test_step_15_the_secretary_decides_on_advice_the_fg_gave_about_this_breach(app):
    incident, other = breach(app), breach(app, "brief naar verkeerd adres")
    size = app.recorder.ledger_size()
    # Neither advice nor the reason none was asked: refused at the edge.
    with pytest.raises(ValidationError, match="without_fg_advice"):
        decision(incident)
    asked = app.execute(
        RequestFGAdvice(municipality="Nijkerk", about=incident, question="Melden?"), PRIVACY
    )
    with pytest.raises(ProcedureError, match="has not given advice"):
        app.execute(decision(incident, fg_advice=asked, fg_advice_followed=True), SECRETARY)
    app.execute(GiveFGAdvice(aggregate_id=asked, advice="melden", recommendation="melden"), FG)
    # Advice about another breach is no advice about this one.
    with pytest.raises(ProcedureError, match="no FG advice about"):
        app.execute(decision(other, fg_advice=asked, fg_advice_followed=True), SECRETARY)
    # Nor is any other record, or an advice of another municipality.
    with pytest.raises(ProcedureError, match="no FG advice about"):
        app.execute(decision(incident, fg_advice=other, fg_advice_followed=True), SECRETARY)
    with pytest.raises(UnknownRecord):
        app.execute(decision(incident, fg_advice=UUID(int=1), fg_advice_followed=True), SECRETARY)
    assert app.recorder.ledger_size() == size + 2  # the request and the advice only

    app.execute(decision(incident, fg_advice=asked, fg_advice_followed=True), SECRETARY)
    decided = app.repository.get(incident).decision
    assert (decided["fg_advice"], decided["fg_advice_followed"]) == (asked, True)


def test_step_15_without_fg_advice_only_with_the_reason_none_was_asked(app):
    incident = breach(app)
    with pytest.raises(ValidationError, match="explanation"):
        decision(incident, without_fg_advice={"reason": "spoed"})
    with pytest.raises(ValidationError, match="fg_advice"):
        decision(incident, fg_advice=UUID(int=1), without_fg_advice=URGENT)
    with pytest.raises(ProcedureError, match="no advice to follow"):
        app.execute(
            decision(incident, without_fg_advice=URGENT, fg_advice_followed=False), SECRETARY
        )
    app.execute(decision(incident, without_fg_advice=URGENT), SECRETARY)
    (decided,) = [
        e for e in app.events.get(incident) if isinstance(e, Incident.NotificationDecided)
    ]
    assert decided.fg_advice is None
    assert decided.without_fg_advice["reason"] == "spoed"
    # The explanation may describe people: sealed under the incident's key.
    assert decided.without_fg_advice["explanation"].value == URGENT["explanation"]
    assert decided.without_fg_advice["explanation"].subject == app.repository.get(incident).key


def test_art_39_1_the_fg_advises_unasked_and_the_decision_may_rest_on_it(app):
    incident = breach(app)
    unasked = VolunteerFGAdvice(
        municipality="Nijkerk", about=incident, advice="melden", recommendation="melden"
    )
    for someone in (SECRETARY, PRIVACY, CISO):
        with pytest.raises(NotAuthorised, match="give_fg_advice"):
            app.execute(unasked, someone)
    with pytest.raises(UnknownRecord):  # Putten's FG role does not reach Nijkerk's breach
        app.execute(unasked.model_copy(update={"municipality": "Putten"}), FG)
    advice = app.execute(unasked, FG)
    stored = app.repository.get(advice)
    assert isinstance(stored, FGAdvice)
    assert (stored.volunteered, stored.given, stored.about) == (True, True, incident)
    with pytest.raises(ProcedureError, match="already gave"):
        app.execute(GiveFGAdvice(aggregate_id=advice, advice="x", recommendation="x"), FG)
    app.execute(decision(incident, fg_advice=advice, fg_advice_followed=True), SECRETARY)
    app.execute(AnswerFGAdvice(aggregate_id=advice, followed=True), SECRETARY)
    assert app.repository.get(advice).followed is True


def test_art_38_6_an_fg_that_also_holds_the_secretarys_role_does_not_decide(app):
    incident = breach(app)
    advice = app.execute(
        VolunteerFGAdvice(municipality="Nijkerk", about=incident, advice="a", recommendation="b"),
        FG,
    )
    both = Actor.with_grants("fg@blnp.nl", [*FG.grants, Grant(Role.SECRETARY, "Nijkerk")])
    size = app.recorder.ledger_size()
    with pytest.raises(NotAuthorised, match="art. 38"):
        app.execute(decision(incident, fg_advice=advice, fg_advice_followed=True), both)
    with pytest.raises(NotAuthorised, match="art. 38"):
        app.execute(AnswerFGAdvice(aggregate_id=advice, followed=True), both)
    assert app.recorder.ledger_size() == size
