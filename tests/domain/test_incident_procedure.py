"""The incident procedure of seed 002 (bijlage 3), step by step, as the municipality runs it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from adapters.config import database_env
from adapters.persistence.personal_data import ErasedAsSubject, PersonalDataAsCiphertext
from adapters.persistence.subject_keys import MasterKey, open_key_store
from domain.application import Bewijslast
from domain.deadlines import AMSTERDAM, EarlyWarningRule
from domain.errors import ProcedureError
from domain.fg_advice import FGAdvice
from domain.incidents import APFormChanges, Impact, Incident, Nature, Recipient, Stage
from tests.forms import ap_form

CISO, FG, SECRETARY, PRIVACY = (
    "ciso@nijkerk.nl",
    "fg@blnp.nl",
    "secretaris@nijkerk.nl",
    "pb@nijkerk.nl",
)
MONDAY_9 = datetime(2026, 3, 23, 9, 0, tzinfo=AMSTERDAM)


def hours(n: float) -> datetime:
    return MONDAY_9 + timedelta(hours=n)


@pytest.fixture
def app(tmp_path):
    decisions: list[int] = []
    url = f"sqlite:///{tmp_path / 'b.db'}"
    keys = open_key_store(url, MasterKey.generate())
    application = Bewijslast(
        env=database_env(url), transcodings=[PersonalDataAsCiphertext(keys), ErasedAsSubject()]
    )
    application.on_decision = lambda size: decisions.append(size)
    application.decisions = decisions
    return application


def lost_usb_stick() -> Incident:
    incident = Incident.report(
        municipality="Nijkerk",
        controller="college van burgemeester en wethouders",
        summary="USB-stick met een export uit de BRP (met BSN's) verloren in de trein",
        reported_at=hours(0),
        actor="medewerker@nijkerk.nl",
    )
    incident.triage(impact=Impact.HIGH, significant=False, triaged_at=hours(1), actor=CISO)
    incident.establish_breach(
        aware_at=hours(2),
        natures=[Nature.CONFIDENTIALITY],
        data_categories=["naam", "adres", "BSN"],
        approx_subjects=1200,
        approx_records=1200,
        likely_consequences="identiteitsfraude",
        established_at=hours(2),
        actor=CISO,
    )
    return incident


def fg_advises(incident: Incident) -> FGAdvice:
    advice = FGAdvice.request(
        municipality="Nijkerk",
        about=incident.id,
        question="Melden?",
        requested_at=hours(3),
        actor=PRIVACY,
    )
    advice.give(
        advice="Melden bij de AP en betrokkenen informeren",
        recommendation="melden",
        given_at=hours(5),
        actor=FG,
    )
    return advice


def decide(incident: Incident, advice: FGAdvice, *, follow: bool = True, reasons: str = "") -> None:
    incident.decide_notification(
        notify_ap=follow,
        ap_reasons="BSN's van 1.200 inwoners: risico op identiteitsfraude",
        inform_subjects=follow,
        subjects_reasons="hoog risico voor de betrokkenen",
        fg_advice=advice.id,
        fg_advice_followed=follow,
        departure_reasons=reasons,
        decided_at=hours(8),
        actor=SECRETARY,
    )


def test_a_lost_usb_stick_with_bsns_is_handled_from_report_to_evaluation(app):
    incident = lost_usb_stick()
    advice = fg_advises(incident)
    app.save(incident, advice)
    assert incident.ap_deadline == hours(2 + 72)

    decide(incident, advice)
    advice.answer(followed=True, reasons="", answered_at=hours(8), actor=SECRETARY)
    app.save(incident, advice)
    incident.submit_ap_notification(
        meldingsnummer="M-2026-0042",
        preliminary=True,
        form=ap_form(),
        late_reason="",
        submitted_at=hours(30),
        actor=PRIVACY,
    )
    app.save(incident)
    incident.supplement_ap_notification(
        meldingsnummer="M-2026-0042",
        # Art. 33(4): what changed since the notification, by part, with the new values.
        changes=APFormChanges(approx_subjects=1187, approx_records=1187, phased=""),
        final=True,
        supplemented_at=hours(100),
        actor=PRIVACY,
    )
    incident.inform_subjects(channel="brief", informed_at=hours(50), actor=PRIVACY)
    incident.record_measure(measure="USB-poorten dichtgezet", taken_at=hours(60), actor=CISO)
    incident.close(closed_at=hours(24 * 10), actor=CISO)
    incident.evaluate(
        findings="versleutelde media verplicht", evaluated_at=hours(24 * 30), actor=CISO
    )
    app.save(incident)

    stored = app.repository.get(incident.id)
    assert stored.stage is Stage.CLOSED
    assert stored.evaluated
    # A checkpoint was signed right after the decision, the notification and the supplement.
    assert len(app.decisions) == 3


def test_an_incident_that_turns_out_not_to_be_a_breach_is_reclassified_not_edited(app):
    incident = lost_usb_stick()
    advice = fg_advises(incident)
    decide(incident, advice)
    incident.submit_ap_notification(
        meldingsnummer="M-1",
        preliminary=True,
        form=ap_form(),
        late_reason="",
        submitted_at=hours(20),
        actor=PRIVACY,
    )
    with pytest.raises(ProcedureError, match="withdraw the AP notifications"):
        incident.reclassify_not_a_breach(
            reasons="stick teruggevonden", reclassified_at=hours(30), actor=CISO
        )
    incident.withdraw_ap_notification(
        meldingsnummer="M-1",
        reason="stick versleuteld teruggevonden",
        withdrawn_at=hours(30),
        actor=PRIVACY,
    )
    incident.reclassify_not_a_breach(
        reasons="stick teruggevonden, versleuteld", reclassified_at=hours(31), actor=CISO
    )
    incident.close(closed_at=hours(40), actor=CISO)
    app.save(incident, advice)
    history = [type(e).__name__ for e in app.events.get(incident.id)]
    assert history[-4:] == [
        "APNotificationSubmitted",
        "APNotificationWithdrawn",
        "ReclassifiedNotABreach",
        "Closed",
    ]


def test_a_notification_after_72_hours_without_a_reason_is_refused(app):
    incident = lost_usb_stick()
    decide(incident, fg_advises(incident))
    late = hours(2 + 72) + timedelta(minutes=1)
    with pytest.raises(ProcedureError, match="after 72 hours needs the reason"):
        incident.submit_ap_notification(
            meldingsnummer="M-9",
            preliminary=False,
            form=ap_form(),
            late_reason="",
            submitted_at=late,
            actor=PRIVACY,
        )
    assert incident.ap_notifications == {}
    incident.submit_ap_notification(
        meldingsnummer="M-9",
        preliminary=False,
        form=ap_form(),
        late_reason="melding pas na het weekend ontdekt",
        submitted_at=late,
        actor=PRIVACY,
    )
    assert "M-9" in incident.ap_notifications


def test_a_decision_that_departs_from_fg_advice_without_reasons_is_refused(app):
    incident = lost_usb_stick()
    advice = fg_advises(incident)
    with pytest.raises(ProcedureError, match="departing from the FG's advice requires reasons"):
        decide(incident, advice, follow=False)
    assert incident.decision is None
    decide(incident, advice, follow=False, reasons="gegevens waren versleuteld (art. 34(3)(a))")
    assert incident.decision["fg_advice_followed"] is False


def test_the_fg_advice_cannot_be_set_aside_without_reasons():
    advice = FGAdvice.request(
        municipality="Putten",
        about=lost_usb_stick().id,
        question="?",
        requested_at=hours(0),
        actor=PRIVACY,
    )
    with pytest.raises(ProcedureError, match="no advice to answer"):
        advice.answer(followed=False, reasons="", answered_at=hours(1), actor=SECRETARY)
    advice.give(advice="melden", recommendation="melden", given_at=hours(1), actor=FG)
    with pytest.raises(ProcedureError, match="requires reasons"):
        advice.answer(followed=False, reasons=" ", answered_at=hours(2), actor=SECRETARY)
    advice.escalate(
        to="college van B&W", reasons="advies genegeerd", escalated_at=hours(3), actor=FG
    )
    assert advice.escalated


def test_impossible_steps_say_what_is_wrong_and_what_is_allowed():
    incident = Incident.report(
        municipality="Leusden",
        controller="burgemeester",
        summary="phishing",
        reported_at=hours(0),
        actor="medewerker@leusden.nl",
    )
    with pytest.raises(ProcedureError) as refused:
        incident.close(closed_at=hours(1), actor=CISO)
    assert "cannot close an incident in stage 'gemeld'" in str(refused.value)
    assert refused.value.allowed == ["triage"]
    incident.triage(impact=Impact.LOW, significant=False, triaged_at=hours(1), actor=CISO)
    with pytest.raises(
        ProcedureError, match="allowed now: classify_not_a_breach, convene_irt, establish_breach"
    ):
        incident.triage(impact=Impact.HIGH, significant=False, triaged_at=hours(2), actor=CISO)


def test_a_breach_is_closed_only_when_the_decision_was_carried_out():
    incident = lost_usb_stick()
    decide(incident, fg_advises(incident))
    with pytest.raises(ProcedureError, match="the AP was to be notified"):
        incident.close(closed_at=hours(50), actor=CISO)


CBW_IN_FORCE = EarlyWarningRule(MONDAY_9.date())  # a configured date, for the test


def test_a_significant_incident_runs_the_24_hour_early_warning_from_its_own_awareness(app):
    """The CISO finds the incident significant (Cyberbeveiligingswet): the early warning's 24
    hours run from that awareness, not from the breach's, which runs the AP's 72 hours."""
    incident = Incident.report(
        municipality="Putten",
        controller="college van B&W",
        summary="ransomware op de fileserver",
        reported_at=hours(0),
        actor="medewerker@putten.nl",
    )
    incident.triage(impact=Impact.HIGH, significant=True, triaged_at=hours(1), actor=CISO)
    assert incident.early_warning_deadline is None  # no awareness of significance recorded yet
    incident.find_significant_incident(
        aware_at=hours(1), early_warning_rule=CBW_IN_FORCE, found_at=hours(2), actor=CISO
    )
    assert incident.early_warning_deadline == hours(1 + 24)
    incident.establish_breach(
        aware_at=hours(3),
        natures=[Nature.AVAILABILITY],
        data_categories=["zaakdossiers"],
        approx_subjects=5000,
        approx_records=20000,
        likely_consequences="diensten onbereikbaar",
        established_at=hours(3),
        actor=CISO,
    )
    assert incident.early_warning_deadline == hours(1 + 24)
    assert incident.ap_deadline == hours(3 + 72)
    incident.send_early_warning(reference="NCSC-2026-113", sent_at=hours(10), actor=CISO)
    incident.inform_party(
        recipient=Recipient.IBD,
        party="",
        reference="IBD-2026-113",
        informed_at=hours(12),
        actor=CISO,
    )
    assert incident.external_reports == [Recipient.IBD.value]
    app.save(incident)
    loaded = app.repository.get(incident.id)
    assert loaded.early_warning_deadline == hours(1 + 24)
    assert loaded.early_warning_sent


def test_the_early_warning_is_owed_only_once_the_cyberbeveiligingswet_is_in_force(app):
    incident = Incident.report(
        municipality="Putten",
        controller="college van B&W",
        summary="DDoS op de website",
        reported_at=hours(0),
        actor="medewerker@putten.nl",
    )
    incident.triage(impact=Impact.HIGH, significant=True, triaged_at=hours(1), actor=CISO)
    not_yet = EarlyWarningRule(MONDAY_9.date() + timedelta(days=1))
    incident.find_significant_incident(
        aware_at=hours(1), early_warning_rule=not_yet, found_at=hours(2), actor=CISO
    )
    assert incident.early_warning_deadline is None
    event = incident.collect_events()[-1]
    assert not event.early_warning_applies
    assert event.rule == "cbw-early-warning/1 (in force from 2026-03-24)"
    with pytest.raises(ProcedureError, match="no early warning is owed"):
        incident.send_early_warning(reference="NCSC-1", sent_at=hours(3), actor=CISO)
    unconfigured = Incident.report(
        municipality="Putten",
        controller="college van B&W",
        summary="phishing",
        reported_at=hours(0),
        actor="medewerker@putten.nl",
    )
    unconfigured.triage(impact=Impact.LOW, significant=True, triaged_at=hours(1), actor=CISO)
    unconfigured.find_significant_incident(
        aware_at=hours(1), early_warning_rule=EarlyWarningRule(), found_at=hours(2), actor=CISO
    )
    assert unconfigured.collect_events()[-1].rule.endswith("(no in-force date configured)")


def test_an_early_warning_after_24_hours_is_recorded_late(app):
    incident = Incident.report(
        municipality="Putten",
        controller="college van B&W",
        summary="ransomware",
        reported_at=hours(0),
        actor="medewerker@putten.nl",
    )
    incident.triage(impact=Impact.HIGH, significant=True, triaged_at=hours(1), actor=CISO)
    incident.find_significant_incident(
        aware_at=hours(1), early_warning_rule=CBW_IN_FORCE, found_at=hours(1), actor=CISO
    )
    incident.send_early_warning(reference="NCSC-2", sent_at=hours(26), actor=CISO)
    assert incident.collect_events()[-1].late
