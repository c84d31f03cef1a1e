"""Rights requests as bijlage 5 of seed 002 runs them (acknowledgement, the clock stopped to ask
for proof of identity, refusal when identity is not established, the decision in mandate, sent
by the department and judged on time when sent, art. 19 AVG), and the objection under the Awb
(6:11, 7:2-7:3, 7:10, 10:3(3), 4:17)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest

from domain.authorization import Role
from domain.deadlines import AMSTERDAM, EquatedDay, TermCalendar, penalty_owed
from domain.errors import ProcedureError
from domain.personal_data import PersonalData
from domain.requests import (
    Deliberation,
    ExtensionReason,
    HearingWaiver,
    Mandate,
    NotificationExemption,
    Outcome,
    RefusalGround,
    RequestStage,
    Right,
    RightsRequest,
    SuspensionReason,
)

PRIVACY = "privacybeheerder@putten.nl"
DEPARTMENT = "proceseigenaar.burgerzaken@putten.nl"
SECRETARY = "gemeentesecretaris@putten.nl"
NO_DECREE_DAYS = TermCalendar()
DECREE = TermCalendar((EquatedDay(date(2026, 5, 15), "Besluit gelijkstelling (test)", "test"),))


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=AMSTERDAM)


def received(right: Right, moment: datetime) -> RightsRequest:
    subject = uuid.uuid4()
    return RightsRequest.receive(
        municipality="Putten",
        controller="college van burgemeester en wethouders",
        right=right,
        channel="post",
        requester=PersonalData(subject, "A. de Vries"),
        contact=PersonalData(subject, "a.devries@example.nl"),
        received_at=moment,
        actor=PRIVACY,
    )


def verified(right: Right, moment: datetime) -> RightsRequest:
    request = received(right, moment)
    request.verify_identity(method="DigiD", verified_at=moment, actor=PRIVACY)
    return request


def grant(request: RightsRequest, when: datetime, by: str = DEPARTMENT) -> None:
    role = Role.SECRETARY if by == SECRETARY else Role.PROCESS_OWNER
    request.decide(
        outcome=Outcome.GRANTED,
        grounds=[],
        reasons="toegewezen",
        decided_at=when,
        role=role,
        actor=by,
    )


def send(request: RightsRequest, when: datetime, calendar: TermCalendar = NO_DECREE_DAYS) -> None:
    request.send(channel="post", sent_at=when, term_calendar=calendar, actor=DEPARTMENT)


def object_to(
    request: RightsRequest,
    when: datetime,
    committee: bool = False,
    calendar: TermCalendar = NO_DECREE_DAYS,
) -> None:
    request.lodge_objection(
        grounds="bezwaar",
        lodged_at=when,
        advisory_committee=committee,
        term_calendar=calendar,
        actor=PRIVACY,
    )


def events_of(request: RightsRequest) -> list[str]:
    return [type(e).__name__ for e in request.collect_events()]


# --- bijlage 5: receipt, identity, suspension ---------------------------------------------------


def test_the_department_acknowledges_receipt_once():
    request = received(Right.ACCESS, at(3, 2))
    request.acknowledge(channel="e-mail", acknowledged_at=at(3, 3), actor=DEPARTMENT)
    with pytest.raises(ProcedureError, match="already acknowledged"):
        request.acknowledge(channel="post", acknowledged_at=at(3, 4), actor=DEPARTMENT)
    assert "ReceiptAcknowledged" in events_of(request)


def test_an_acknowledgement_cannot_lie_before_receipt():
    request = received(Right.ACCESS, at(3, 2))
    with pytest.raises(ProcedureError, match="before the request was received"):
        request.acknowledge(channel="e-mail", acknowledged_at=at(3, 1), actor=DEPARTMENT)


def test_proof_of_identity_is_asked_before_verification_and_the_clock_stops():
    """Art. 12(6): received Monday 2 March 2026, the requester asked for proof of identity on
    3 March, which came on 13 March: ten days on top of 2 April, Sunday 12 April, so Monday
    13 April."""
    request = received(Right.ACCESS, at(3, 2))
    request.suspend(
        missing="kopie identiteitsbewijs",
        reason=SuspensionReason.IDENTITY_PROOF,
        suspended_at=at(3, 3),
        actor=DEPARTMENT,
    )
    assert request.stage is RequestStage.SUSPENDED
    request.resume(resumed_at=at(3, 13), actor=DEPARTMENT)
    assert request.stage is RequestStage.RECEIVED  # back where it stopped: not yet verified
    assert request.deadline() == date(2026, 4, 13)
    request.verify_identity(
        method="identiteitsbewijs aan de balie", verified_at=at(3, 13), actor=PRIVACY
    )
    assert request.stage is RequestStage.IN_PROGRESS


def test_proof_of_identity_is_not_asked_once_the_identity_is_verified():
    request = verified(Right.ACCESS, at(3, 2))
    with pytest.raises(ProcedureError, match="already verified"):
        request.suspend(
            missing="paspoort",
            reason=SuspensionReason.IDENTITY_PROOF,
            suspended_at=at(3, 3),
            actor=DEPARTMENT,
        )


def test_a_request_whose_identity_is_not_established_is_refused_without_a_false_verification():
    request = received(Right.ACCESS, at(3, 2))
    refuse = dict(
        outcome=Outcome.REFUSED,
        grounds=[RefusalGround.IDENTITY_NOT_ESTABLISHED],
        reasons="geen bewijs van identiteit ontvangen",
        role=Role.PROCESS_OWNER,
        actor=DEPARTMENT,
    )
    with pytest.raises(ProcedureError, match="first asked to prove their identity"):
        request.decide(decided_at=at(3, 3), **refuse)
    request.suspend(
        missing="kopie identiteitsbewijs",
        reason=SuspensionReason.IDENTITY_PROOF,
        suspended_at=at(3, 3),
        actor=DEPARTMENT,
    )
    request.resume(resumed_at=at(3, 20), actor=DEPARTMENT)
    with pytest.raises(ProcedureError, match="only be refused because the identity"):
        grant(request, at(3, 21))
    request.decide(decided_at=at(3, 21), **refuse)
    assert request.outcome is Outcome.REFUSED
    assert "IdentityVerified" not in events_of(request)


def test_a_verified_identity_is_no_ground_for_refusal():
    request = verified(Right.ACCESS, at(3, 2))
    with pytest.raises(ProcedureError, match="identity was verified"):
        request.decide(
            outcome=Outcome.REFUSED,
            grounds=[RefusalGround.IDENTITY_NOT_ESTABLISHED],
            reasons="x",
            decided_at=at(3, 3),
            role=Role.PROCESS_OWNER,
            actor=DEPARTMENT,
        )


def test_an_extension_cannot_be_told_before_the_request_was_received():
    request = verified(Right.ACCESS, at(3, 2))
    with pytest.raises(ProcedureError, match="before the request was received"):
        request.extend(
            months=1,
            reason=ExtensionReason.COMPLEXITY,
            explanation="omvangrijk dossier",
            requester_told_at=at(3, 1),
            actor=DEPARTMENT,
        )


# --- bijlage 5: the decision in mandate, sent by the department, on time when sent ------------


@pytest.mark.parametrize(
    ("role", "mandate"),
    [(Role.PROCESS_OWNER, Mandate.DEPARTMENT), (Role.SECRETARY, Mandate.SECRETARY)],
)
def test_the_decision_records_the_mandate_it_is_taken_under(role, mandate):
    request = verified(Right.ACCESS, at(3, 2))
    request.decide(
        outcome=Outcome.GRANTED,
        grounds=[],
        reasons="inzage",
        decided_at=at(3, 10),
        role=role,
        actor=DEPARTMENT,
    )
    decided = request.collect_events()[-1]
    assert getattr(decided, "mandate") is mandate  # noqa: B009


def test_a_decision_taken_in_time_but_sent_after_the_month_is_late():
    """Art. 12(3) and bijlage 5: "Besluit moet ... binnen 1 maand verzonden worden". Received
    5 January 2026, due Thursday 5 February; decided on the 4th, sent on the 6th."""
    request = verified(Right.ACCESS, at(1, 5))
    grant(request, at(2, 4))
    assert not request.decided_late
    send(request, at(2, 6))
    assert request.sent_late
    sent = request.collect_events()[-1]
    assert (getattr(sent, "late"), getattr(sent, "deadline")) == (True, date(2026, 2, 5))  # noqa: B009


def test_sent_on_the_last_day_is_on_time():
    request = verified(Right.ACCESS, at(1, 5))
    grant(request, at(2, 5, 9))
    send(request, at(2, 5, 23))
    assert not request.sent_late


# --- art. 19 AVG: recipients told of a rectification, erasure or restriction ------------------


def test_recipients_of_a_rectification_are_told():
    request = verified(Right.RECTIFICATION, at(3, 2))
    grant(request, at(3, 10))
    send(request, at(3, 11))
    request.notify_recipients(
        recipients=["Basisregistratie Personen", "Belastingsamenwerking"],
        exemption=None,
        explanation="",
        notified_at=at(3, 12),
        actor=DEPARTMENT,
    )
    with pytest.raises(ProcedureError, match="already notified"):
        request.notify_recipients(
            recipients=["SVB"],
            exemption=None,
            explanation="",
            notified_at=at(3, 13),
            actor=DEPARTMENT,
        )


def test_telling_recipients_may_be_impossible_or_disproportionate_with_the_reason():
    request = verified(Right.ERASURE, at(3, 2))
    grant(request, at(3, 10))
    with pytest.raises(ProcedureError, match="reason telling the recipients"):
        request.notify_recipients(
            recipients=[],
            exemption=NotificationExemption.DISPROPORTIONATE,
            explanation=" ",
            notified_at=at(3, 12),
            actor=DEPARTMENT,
        )
    with pytest.raises(ProcedureError, match="name the recipients told, or why"):
        request.notify_recipients(
            recipients=["SVB"],
            exemption=NotificationExemption.IMPOSSIBLE,
            explanation="onbekend",
            notified_at=at(3, 12),
            actor=DEPARTMENT,
        )
    request.notify_recipients(
        recipients=[],
        exemption=NotificationExemption.DISPROPORTIONATE,
        explanation="verstrekt aan meer dan duizend ontvangers in 2012",
        notified_at=at(3, 12),
        actor=DEPARTMENT,
    )


def test_art_19_is_for_rectification_erasure_and_restriction_granted_only():
    access = verified(Right.ACCESS, at(3, 2))
    grant(access, at(3, 10))
    with pytest.raises(ProcedureError, match="does not apply"):
        access.notify_recipients(
            recipients=["SVB"],
            exemption=None,
            explanation="",
            notified_at=at(3, 12),
            actor=DEPARTMENT,
        )
    refused = verified(Right.RESTRICTION, at(3, 2))
    refused.decide(
        outcome=Outcome.REFUSED,
        grounds=[RefusalGround.RESTRICTION_BY_LAW],
        reasons="wettelijke taak",
        decided_at=at(3, 10),
        role=Role.PROCESS_OWNER,
        actor=DEPARTMENT,
    )
    with pytest.raises(ProcedureError, match="granted"):
        refused.notify_recipients(
            recipients=["SVB"],
            exemption=None,
            explanation="",
            notified_at=at(3, 12),
            actor=DEPARTMENT,
        )


# --- Awb: the objection ---------------------------------------------------------------------


def sent_on_9_january(decided_by: str = DEPARTMENT) -> RightsRequest:
    """Sent Friday 9 January 2026: the objection period ends Friday 20 February."""
    request = verified(Right.ACCESS, at(1, 5))
    grant(request, at(1, 8), by=decided_by)
    send(request, at(1, 9))
    assert request.objection_deadline() == date(2026, 2, 20)
    return request


def test_a_late_objection_is_recorded_then_declared_inadmissible_with_reasons():
    """Awb 6:11: lodged on 2 March, after the period; not excused, so niet-ontvankelijk."""
    request = sent_on_9_january()
    object_to(request, at(3, 2))
    assert request.objection_late
    with pytest.raises(ProcedureError, match=r"6:11.*allowed now: declare_inadmissible, excuse"):
        request.waive_hearing(
            ground=HearingWaiver.OBJECTOR_WAIVED, waived_at=at(3, 3), actor=SECRETARY
        )
    request.declare_inadmissible(
        reasons="te laat; geen verschoonbare reden", decided_at=at(3, 10), actor=SECRETARY
    )
    assert request.stage is RequestStage.CLOSED


def test_excused_lateness_lets_the_objection_be_heard_and_decided():
    request = sent_on_9_january()
    object_to(request, at(3, 2))
    request.excuse_lateness(
        reasons="besluit naar oud adres verzonden", excused_at=at(3, 5), actor=SECRETARY
    )
    with pytest.raises(ProcedureError, match="lodged on time"):
        request.declare_inadmissible(reasons="x", decided_at=at(3, 6), actor=SECRETARY)
    request.hear_objector(by_committee=False, report="gehoord", heard_at=at(3, 20), actor=SECRETARY)
    request.decide_on_objection(
        well_founded=True,
        reasons="alsnog inzage",
        deliberation=Deliberation.ALONE,
        decided_at=at(4, 1),
        actor=SECRETARY,
    )
    assert request.stage is RequestStage.CLOSED


def test_an_objection_on_time_cannot_be_declared_inadmissible_for_lateness():
    request = sent_on_9_january()
    object_to(request, at(2, 20, 23))
    assert not request.objection_late
    with pytest.raises(ProcedureError, match="lodged on time"):
        request.declare_inadmissible(reasons="x", decided_at=at(3, 6), actor=SECRETARY)


def test_the_objector_is_heard_or_the_hearing_waived_on_an_awb_7_3_ground_first():
    request = sent_on_9_january()
    object_to(request, at(2, 1))
    decide = dict(
        well_founded=False, reasons="ongegrond", deliberation=Deliberation.ALONE, actor=SECRETARY
    )
    with pytest.raises(ProcedureError, match="heard, or the hearing waived, first"):
        request.decide_on_objection(decided_at=at(3, 1), **decide)
    request.waive_hearing(
        ground=HearingWaiver.MANIFESTLY_UNFOUNDED, waived_at=at(2, 5), actor=SECRETARY
    )
    with pytest.raises(ProcedureError, match="already heard or the hearing waived"):
        request.hear_objector(by_committee=True, report="x", heard_at=at(2, 6), actor=SECRETARY)
    request.decide_on_objection(decided_at=at(3, 1), **decide)


def test_who_decided_the_request_does_not_decide_the_objection_alone():
    """Awb 10:3(3): the secretary took the primary decision under mandate; alone, the same
    secretary may not decide the objection; on the committee's advice (7:13) or together
    with others the law allows it."""
    request = sent_on_9_january(decided_by=SECRETARY)
    object_to(request, at(2, 1), committee=True)
    request.hear_objector(
        by_committee=True, report="hoorzitting", heard_at=at(3, 2), actor=SECRETARY
    )
    with pytest.raises(ProcedureError, match=r"10:3\(3\)"):
        request.decide_on_objection(
            well_founded=False,
            reasons="ongegrond",
            deliberation=Deliberation.ALONE,
            decided_at=at(4, 1),
            actor=SECRETARY,
        )
    request.decide_on_objection(
        well_founded=False,
        reasons="ongegrond, conform advies",
        deliberation=Deliberation.ON_COMMITTEE_ADVICE,
        decided_at=at(4, 1),
        actor=SECRETARY,
    )
    decided = request.collect_events()[-1]
    assert getattr(decided, "deliberation") is Deliberation.ON_COMMITTEE_ADVICE  # noqa: B009


def test_another_than_who_decided_the_request_may_decide_the_objection_alone():
    request = sent_on_9_january(decided_by=DEPARTMENT)
    object_to(request, at(2, 1))
    request.hear_objector(by_committee=False, report="gehoord", heard_at=at(3, 2), actor=SECRETARY)
    request.decide_on_objection(
        well_founded=False,
        reasons="ongegrond",
        deliberation=Deliberation.ALONE,
        decided_at=at(3, 10),
        actor=SECRETARY,
    )


# --- Awb 7:10: the decision term on objection, with the decree days --------------------------


def test_six_weeks_to_decide_from_the_end_of_the_objection_period():
    request = sent_on_9_january()
    object_to(request, at(2, 1))
    # 20 February + six weeks: Friday 3 April 2026 is Goede Vrijdag, Easter Monday the 6th.
    assert request.objection_decision_deadline() == date(2026, 4, 7)


def test_twelve_weeks_with_a_committee_end_on_a_decree_day_and_move_to_monday():
    """Awb 7:10(1) with the Atw: 20 February + twelve weeks is Friday 15 May 2026, equated with
    a public holiday by the decree; the term ends on Monday 18 May."""
    with_decree = sent_on_9_january()
    object_to(with_decree, at(2, 1), committee=True, calendar=DECREE)
    assert with_decree.objection_decision_deadline() == date(2026, 5, 18)
    lodged = with_decree.collect_events()[-1]
    assert getattr(lodged, "rules") == DECREE.rules()  # noqa: B009

    without = sent_on_9_january()
    object_to(without, at(2, 1), committee=True)
    assert without.objection_decision_deadline() == date(2026, 5, 15)


def test_a_late_objections_term_runs_from_its_receipt():
    request = sent_on_9_january()
    object_to(request, at(3, 2))  # Monday 2 March + six weeks: Monday 13 April
    assert request.objection_decision_deadline() == date(2026, 4, 13)


def test_the_decision_term_is_extended_once_by_six_weeks_before_it_ends():
    request = sent_on_9_january()
    object_to(request, at(2, 1), committee=True, calendar=DECREE)
    with pytest.raises(ProcedureError, match="term ended on 2026-05-18"):
        request.extend_objection_term(
            reasons="advies", extended_at=at(5, 19), term_calendar=DECREE, actor=SECRETARY
        )
    request.extend_objection_term(
        reasons="advies bezwaarcommissie volgt later",
        extended_at=at(5, 18),
        term_calendar=DECREE,
        actor=SECRETARY,
    )
    assert request.objection_decision_deadline() == date(2026, 6, 29)
    with pytest.raises(ProcedureError, match="already extended"):
        request.extend_objection_term(
            reasons="nog eens", extended_at=at(6, 1), term_calendar=DECREE, actor=SECRETARY
        )


# --- Awb 4:17: notice of default and the penalty ---------------------------------------------


def test_the_penalty_rates_of_awb_4_17():
    first = date(2026, 2, 24)
    assert penalty_owed(first, first) == (0, 0)
    assert penalty_owed(first, date(2026, 3, 10)) == (14, 14 * 23)
    assert penalty_owed(first, date(2026, 3, 11)) == (15, 14 * 23 + 35)
    assert penalty_owed(first, date(2026, 12, 31)) == (42, 14 * 23 + 14 * 35 + 14 * 45)


def test_a_notice_of_default_starts_the_penalty_two_weeks_later_and_sending_settles_it():
    """Received 5 January 2026, due 5 February. A notice of default received Monday 9 February:
    two weeks end Monday 23 February, the penalty runs from the 24th. Sent 10 March: fourteen
    days at EUR 23."""
    request = verified(Right.ACCESS, at(1, 5))
    with pytest.raises(ProcedureError, match="only after the term ended on 2026-02-05"):
        request.record_notice_of_default(
            notice_received_at=at(2, 5), term_calendar=NO_DECREE_DAYS, actor=PRIVACY
        )
    request.record_notice_of_default(
        notice_received_at=at(2, 9), term_calendar=NO_DECREE_DAYS, actor=PRIVACY
    )
    notice = request.collect_events()[-1]
    assert getattr(notice, "first_penalty_day") == date(2026, 2, 24)  # noqa: B009
    with pytest.raises(ProcedureError, match="already received"):
        request.record_notice_of_default(
            notice_received_at=at(2, 10), term_calendar=NO_DECREE_DAYS, actor=PRIVACY
        )
    grant(request, at(3, 9))
    send(request, at(3, 10))
    sent = request.collect_events()[-1]
    assert (getattr(sent, "penalty_days"), getattr(sent, "penalty_euros")) == (14, 322)  # noqa: B009


def test_a_notice_of_default_on_the_objection_counts_from_the_7_10_term():
    request = sent_on_9_january()
    object_to(request, at(2, 1))  # decision due 7 April
    with pytest.raises(ProcedureError, match="after the term ended on 2026-04-07"):
        request.record_notice_of_default(
            notice_received_at=at(4, 7), term_calendar=NO_DECREE_DAYS, actor=PRIVACY
        )
    request.record_notice_of_default(
        notice_received_at=at(4, 8), term_calendar=NO_DECREE_DAYS, actor=PRIVACY
    )
    request.waive_hearing(ground=HearingWaiver.FULLY_GRANTED, waived_at=at(6, 1), actor=SECRETARY)
    request.decide_on_objection(
        well_founded=True,
        reasons="gegrond",
        deliberation=Deliberation.ALONE,
        decided_at=at(7, 1),
        actor=SECRETARY,
    )
    decided = request.collect_events()[-1]
    assert getattr(decided, "penalty_euros") == 1442  # noqa: B009  the maximum: 42 days
