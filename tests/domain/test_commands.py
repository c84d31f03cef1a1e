"""Commands through the application service: validated at the edge, authorised against the
role table, recorded with their actor; nothing is recorded from a refused command."""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from adapters.config import database_env
from adapters.persistence.personal_data import ErasedAsSubject, PersonalDataAsCiphertext
from adapters.persistence.subject_keys import MasterKey, open_key_store
from domain import commands
from domain.application import Bewijslast
from domain.authorization import Actor, Grant, NotAuthorised, Role
from domain.commands import (
    AmendProcessingActivity,
    DecideNotification,
    DecideRequest,
    EstablishBreach,
    GiveFGAdvice,
    ReceiveRequest,
    ReportIncident,
    RequestFGAdvice,
    SubmitAPNotification,
    SupplementAPNotification,
    TriageIncident,
    VerifyIdentity,
)
from domain.deadlines import AMSTERDAM
from domain.errors import ProcedureError, UnknownRecord
from domain.handlers import STEPS
from domain.incidents import Impact, Nature, Stage
from domain.requests import Outcome
from tests.forms import AP_FORM, URGENT

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=AMSTERDAM)
REQUEST = {
    "municipality": "Nijkerk",
    "controller": "college van burgemeester en wethouders",
    "right": "art. 15 inzage",
    "channel": "balie",
    "requester_name": "K. Bakker",
    "requester_contact": "06-12345678",
    "received_at": NOW,
}
SUPPLEMENT = {
    "aggregate_id": "0" * 32,
    "meldingsnummer": "M-1",
    "changes": {"approx_subjects": 3},
    "final": True,
    "supplemented_at": NOW,
}
B_AND_W = "college van burgemeester en wethouders"


def person(name: str, role: Role, municipality: str = "Nijkerk", controller: str | None = None):
    return Actor.with_grants(name, [Grant(role, municipality, controller)])


EMPLOYEE = person("medewerker@nijkerk.nl", Role.EMPLOYEE)
CISO = person("ciso@nijkerk.nl", Role.CISO)
PRIVACY = person("pb@nijkerk.nl", Role.PRIVACY_OFFICER)
SECRETARY = person("gs@nijkerk.nl", Role.SECRETARY)
FG = Actor.with_grants("fg@blnp.nl", [Grant(Role.FG, m) for m in ("Nijkerk", "Putten")])


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    keys = open_key_store(url, MasterKey.generate())
    clock = iter(NOW + timedelta(hours=h) for h in range(1000))
    return Bewijslast(
        env=database_env(url),
        transcodings=[PersonalDataAsCiphertext(keys), ErasedAsSubject()],
        clock=lambda: next(clock),
    )


def test_a_breach_from_report_to_ap_notification_by_the_right_people(app):
    incident = app.execute(
        ReportIncident(municipality="Nijkerk", controller=B_AND_W, summary="mail aan verkeerde"),
        EMPLOYEE,
    )
    app.execute(TriageIncident(aggregate_id=incident, impact="midden"), CISO)
    app.execute(
        EstablishBreach(
            aggregate_id=incident,
            aware_at=NOW,
            natures=["vertrouwelijkheid"],
            data_categories=["naam", "schuldgegevens"],
            approx_subjects=1,
            approx_records=1,
            likely_consequences="schaamte",
        ),
        CISO,
    )
    advice = app.execute(
        RequestFGAdvice(municipality="Nijkerk", about=incident, question="Melden?"), PRIVACY
    )
    app.execute(GiveFGAdvice(aggregate_id=advice, advice="melden", recommendation="melden"), FG)
    app.execute(
        DecideNotification(
            aggregate_id=incident,
            notify_ap=True,
            ap_reasons="gevoelige gegevens",
            inform_subjects=True,
            subjects_reasons="betrokkene informeren",
            fg_advice=advice,
            fg_advice_followed=True,
        ),
        SECRETARY,
    )
    app.execute(
        SubmitAPNotification(
            aggregate_id=incident,
            meldingsnummer="M-77",
            preliminary=False,
            form=AP_FORM,
            submitted_at=NOW + timedelta(hours=5),
        ),
        PRIVACY,
    )
    events = list(app.events.get(incident))
    assert [e.actor for e in events] == [
        "medewerker@nijkerk.nl",
        "ciso@nijkerk.nl",
        "ciso@nijkerk.nl",
        "gs@nijkerk.nl",
        "pb@nijkerk.nl",
    ]
    assert app.repository.get(incident).stage is Stage.BREACH


def test_an_actor_without_the_role_is_refused_and_nothing_is_recorded(app):
    incident = app.execute(
        ReportIncident(municipality="Nijkerk", controller=B_AND_W, summary="laptop gestolen"),
        EMPLOYEE,
    )
    size = app.recorder.ledger_size()
    with pytest.raises(NotAuthorised, match="may not triage_incident for Nijkerk"):
        app.execute(TriageIncident(aggregate_id=incident, impact="hoog"), EMPLOYEE)
    # To another municipality's CISO the record does not exist: the same error as an unknown
    # id, naming neither its municipality nor its controller.
    other_ciso = person("ciso@putten.nl", Role.CISO, "Putten")
    with pytest.raises(UnknownRecord) as elsewhere:
        app.execute(TriageIncident(aggregate_id=incident, impact="hoog"), other_ciso)
    made_up = uuid4()
    with pytest.raises(UnknownRecord) as unknown:
        app.execute(TriageIncident(aggregate_id=made_up, impact="hoog"), other_ciso)
    assert str(elsewhere.value) == f"record {incident} does not exist"
    assert str(unknown.value) == f"record {made_up} does not exist"
    assert app.recorder.ledger_size() == size


def test_advice_is_asked_only_about_a_record_of_the_same_municipality(app):
    incident = app.execute(
        ReportIncident(municipality="Nijkerk", controller=B_AND_W, summary="laptop gestolen"),
        EMPLOYEE,
    )
    putten = person("pb@putten.nl", Role.PRIVACY_OFFICER, "Putten")
    for about in (incident, uuid4()):
        with pytest.raises(UnknownRecord):
            app.execute(RequestFGAdvice(municipality="Putten", about=about, question="?"), putten)
    # Nor may a Nijkerk decision point to Putten's advice.
    theirs = app.execute(
        ReportIncident(municipality="Putten", controller=B_AND_W, summary="x"),
        person("mw@putten.nl", Role.EMPLOYEE, "Putten"),
    )
    advice = app.execute(RequestFGAdvice(municipality="Putten", about=theirs, question="?"), putten)
    both = person("gs@beide.nl", Role.SECRETARY, "Nijkerk")
    both = Actor.with_grants(both.id, [*both.grants, Grant(Role.SECRETARY, "Putten")])
    app.execute(TriageIncident(aggregate_id=incident, impact="hoog"), CISO)
    size = app.recorder.ledger_size()
    with pytest.raises(UnknownRecord):
        app.execute(
            DecideNotification(
                aggregate_id=incident,
                notify_ap=False,
                ap_reasons="geen risico",
                inform_subjects=False,
                subjects_reasons="geen risico",
                fg_advice=advice,
                fg_advice_followed=True,
            ),
            both,
        )
    assert app.recorder.ledger_size() == size


def test_an_impossible_step_records_nothing(app):
    incident = app.execute(
        ReportIncident(municipality="Nijkerk", controller=B_AND_W, summary="x"), EMPLOYEE
    )
    size = app.recorder.ledger_size()
    with pytest.raises(ProcedureError, match="allowed now: triage-incident"):
        app.execute(
            DecideNotification(
                aggregate_id=incident,
                notify_ap=False,
                ap_reasons="geen risico",
                inform_subjects=False,
                subjects_reasons="geen risico",
                without_fg_advice=URGENT,
            ),
            SECRETARY,
        )
    assert app.recorder.ledger_size() == size


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: ReportIncident(municipality="Nijkerk", controller=B_AND_W, summary="   "),
            "at least 1 character",
        ),
        (
            lambda: ReportIncident(
                municipality="Nijkerk", controller=B_AND_W, summary="x", severity="hoog"
            ),
            "Extra inputs are not permitted",
        ),
        (lambda: TriageIncident(aggregate_id="not-a-uuid", impact="hoog"), "valid UUID"),
        (lambda: TriageIncident(aggregate_id="0" * 32, impact="enorm"), "laag"),
        (
            lambda: EstablishBreach(
                aggregate_id="0" * 32,
                aware_at=datetime(2026, 11, 23, 9),
                natures=["vertrouwelijkheid"],
                data_categories=[],
                approx_subjects=1,
                approx_records=1,
                likely_consequences="x",
            ),
            "timezone",
        ),
        (
            lambda: EstablishBreach(
                aggregate_id="0" * 32,
                aware_at=NOW,
                natures=[],
                data_categories=[],
                approx_subjects=-1,
                approx_records=1,
                likely_consequences="x",
            ),
            "greater than or equal to 0",
        ),
        (
            lambda: EstablishBreach(
                aggregate_id="0" * 32,
                aware_at=NOW.replace(year=573),
                natures=["vertrouwelijkheid"],
                data_categories=[],
                approx_subjects=1,
                approx_records=1,
                likely_consequences="x",
            ),
            "between the years 1900 and 2999",
        ),
        (
            lambda: ReportIncident(municipality="Nijkerk", controller=B_AND_W, summary="a\x00b"),
            "contains a NUL character",
        ),
        (
            lambda: ReportIncident(municipality="Nijkerk", controller=B_AND_W, summary="a\ud800"),
            "unable to parse raw data as a unicode string",
        ),
        (
            lambda: ReportIncident(
                municipality="Nijkerk", controller=B_AND_W, summary="x" * 20_001
            ),
            "at most 20000 characters",
        ),
        (lambda: ReceiveRequest(**{**REQUEST, "received_at": -1}), "not a number"),
        (lambda: ReceiveRequest(**{**REQUEST, "received_at": 1.7e9}), "not a number"),
        (lambda: SupplementAPNotification(**{**SUPPLEMENT, "changes": {"aard": {}}}), "aard"),
        (lambda: SupplementAPNotification(**{**SUPPLEMENT, "changes": {}}), "at least one part"),
        (
            lambda: SubmitAPNotification(
                aggregate_id="0" * 32,
                meldingsnummer="M-1",
                preliminary=True,
                form={},
                submitted_at=NOW,
            ),
            "form.fg_contact",
        ),
        (
            lambda: SupplementAPNotification(
                **{**SUPPLEMENT, "changes": {**AP_FORM, "approx_subjects": float("nan")}}
            ),
            "NaN",
        ),
        (
            lambda: SupplementAPNotification(
                **{**SUPPLEMENT, "changes": {**AP_FORM, "approx_records": float("inf")}}
            ),
            "NaN and Infinity",
        ),
        (
            lambda: SupplementAPNotification(
                **{**SUPPLEMENT, "changes": {**AP_FORM, "measures": "a\x00b"}}
            ),
            "NUL",
        ),
        (
            lambda: AmendProcessingActivity(
                aggregate_id="0" * 32, changes={"criminal_data": "misschien"}, valid_from=NOW
            ),
            "criminal_data",
        ),
    ],
)
def test_invalid_commands_are_refused_at_the_edge_with_a_clear_message(make, message):
    with pytest.raises(ValidationError, match=message):
        make()


def test_no_command_field_is_free_form():
    """Every field of every command is typed: no open dictionaries, nothing of any type."""
    assert "Any" not in Path(commands.__file__).read_text()
    fields = [
        (cls.__name__, name, repr(field.annotation))
        for cls in vars(commands).values()
        if isinstance(cls, type) and issubclass(cls, commands.CommandModel)
        for name, field in cls.model_fields.items()
    ]
    assert len(fields) > 80
    assert [f for f in fields if "dict" in f[2] or "Any" in f[2]] == []


def test_every_step_command_is_carried_out_by_a_method_of_its_aggregate_taking_its_fields():
    steps = {c for c in commands.COMMANDS.values() if issubclass(c, commands.StepCommand)}
    assert set(STEPS) == steps
    for command, method in STEPS.items():
        assert getattr(command.aggregate_type, method.__name__) is method
        taken = set(inspect.signature(method).parameters) - {"self", "actor"}
        filled = {command.moment, command.dated_rule} - {None}  # by the application
        given = set(command.model_fields) - {"aggregate_id"} | filled
        if command.by_role:  # the role the application authorised the actor under
            given.add("role")
        assert taken == given, command.__name__


def test_a_refused_step_names_the_commands_allowed_now(app):
    request = app.execute(ReceiveRequest(**REQUEST), PRIVACY)
    with pytest.raises(ProcedureError) as refused:
        app.execute(
            DecideRequest(aggregate_id=request, outcome=Outcome.GRANTED, reasons="ja"), SECRETARY
        )
    # Before verification only the refusal on identity is possible (art. 12(6)).
    assert refused.value.allowed == ["suspend-request", "verify-identity"]
    assert str(refused.value).endswith("(allowed now: suspend-request, verify-identity)")


def test_a_stated_moment_is_not_in_the_future_of_the_clock(app):
    start = app.clock()
    with pytest.raises(ProcedureError, match="received_at lies in the future"):
        app.execute(
            ReceiveRequest(**{**REQUEST, "received_at": start + timedelta(days=1)}), PRIVACY
        )
    # Within the skew (a client's clock a little ahead) it is taken as stated.
    request = app.execute(
        ReceiveRequest(**{**REQUEST, "received_at": app.clock() + timedelta(minutes=59)}), PRIVACY
    )
    assert app.repository.get(request).received_at > start


def breach_decided(app) -> UUID:
    incident = app.execute(
        ReportIncident(municipality="Nijkerk", controller=B_AND_W, summary="mail"), EMPLOYEE
    )
    app.execute(TriageIncident(aggregate_id=incident, impact="midden"), CISO)
    establish = {
        "aggregate_id": incident,
        "natures": ["vertrouwelijkheid"],
        "data_categories": ["naam"],
        "approx_subjects": 1,
        "approx_records": 1,
        "likely_consequences": "schaamte",
    }
    with pytest.raises(ProcedureError, match="aware_at lies in the future"):
        app.execute(EstablishBreach(**establish, aware_at=NOW + timedelta(days=400)), CISO)
    app.execute(EstablishBreach(**establish, aware_at=NOW + timedelta(hours=2)), CISO)
    app.execute(
        DecideNotification(
            aggregate_id=incident,
            notify_ap=True,
            ap_reasons="gevoelig",
            inform_subjects=False,
            subjects_reasons="laag risico",
            without_fg_advice=URGENT,
        ),
        SECRETARY,
    )
    return incident


def test_an_ap_notification_is_not_submitted_before_awareness(app):
    incident = breach_decided(app)
    submit = {"aggregate_id": incident, "meldingsnummer": "M-1", "preliminary": True}
    with pytest.raises(ProcedureError, match="after awareness"):
        # Before awareness, so that it could never be late: refused.
        app.execute(SubmitAPNotification(**submit, form=AP_FORM, submitted_at=NOW), PRIVACY)
    app.execute(
        SubmitAPNotification(**submit, form=AP_FORM, submitted_at=NOW + timedelta(hours=3)),
        PRIVACY,
    )
    (submitted,) = [e for e in app.events.get(incident) if type(e).__name__.startswith("APNot")]
    assert submitted.late is False  # judged when recorded, and stored
    assert submitted.form["approx_subjects"] == 1
    assert submitted.form["measures"].value == AP_FORM["measures"]  # sealed under the record key
    assert submitted.form["measures"].subject == app.repository.get(incident).key


def test_a_process_owner_decides_requests_only_for_their_own_controller(app):
    request = app.execute(
        ReceiveRequest(
            municipality="Nijkerk",
            controller="heffingsambtenaar",
            right="art. 15 inzage",
            channel="balie",
            requester_name="K. Bakker",
            requester_contact="06-12345678",
            received_at=NOW,
        ),
        PRIVACY,
    )
    app.execute(VerifyIdentity(aggregate_id=request, method="paspoort aan de balie"), PRIVACY)
    decide = DecideRequest(
        aggregate_id=request, outcome=Outcome.GRANTED, reasons="inzage in de WOZ-gegevens"
    )
    # Another controller's record is, to a grant for one controller, not there at all.
    with pytest.raises(UnknownRecord):
        app.execute(decide, person("pe@nijkerk.nl", Role.PROCESS_OWNER, controller="burgemeester"))
    app.execute(
        decide,
        person("pe-belastingen@nijkerk.nl", Role.PROCESS_OWNER, controller="heffingsambtenaar"),
    )
    stored = app.repository.get(request)
    assert stored.outcome is Outcome.GRANTED
    assert stored.requester.value == "K. Bakker"


def test_records_read_back_from_the_store_hold_the_same_values(app):
    """Enums come back from stored JSON as strings; the aggregates normalise them."""
    incident = app.execute(
        ReportIncident(municipality="Nijkerk", controller=B_AND_W, summary="x"), EMPLOYEE
    )
    app.execute(TriageIncident(aggregate_id=incident, impact="hoog"), CISO)
    app.execute(
        EstablishBreach(
            aggregate_id=incident,
            aware_at=NOW,
            natures=["integriteit"],
            data_categories=["adres"],
            approx_subjects=3,
            approx_records=3,
            likely_consequences="post naar verkeerd adres",
        ),
        CISO,
    )
    stored = app.repository.get(incident)
    assert stored.impact is Impact.HIGH
    assert stored.natures == [Nature.INTEGRITY]
    assert stored.natures[0] is Nature.INTEGRITY
