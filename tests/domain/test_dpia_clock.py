"""The AP's clock on a prior consultation (AVG art. 36(2)): eight weeks from receipt, six more
when the AP announces them within one month, counted on Dutch working days."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import uuid4

import pytest

from domain.deadlines import (
    AMSTERDAM,
    extension_announcement_deadline,
    prior_consultation_deadline,
)
from domain.dpia import DPIA, APAnswer, Decision, FGOpinion, Risk, RiskLevel, TeamRole, Trigger
from domain.errors import ProcedureError

ACTOR = "pb@leusden.nl"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=AMSTERDAM)


def test_eight_weeks_end_on_the_same_weekday():
    assert prior_consultation_deadline(at(date(2026, 4, 1))) == date(2026, 5, 27)
    assert prior_consultation_deadline(at(date(2026, 4, 1)), extended=True) == date(2026, 7, 8)


def test_eight_weeks_ending_on_whit_monday_end_the_next_working_day():
    received = at(date(2026, 3, 30))  # a Monday; eight weeks later is tweede Pinksterdag
    assert prior_consultation_deadline(received) == date(2026, 5, 26)
    # The six weeks are added to the eight, not to the day the holiday moved them to.
    assert prior_consultation_deadline(received, extended=True) == date(2026, 7, 6)


def test_the_amsterdam_day_of_receipt_counts_not_the_utc_one():
    late_evening = datetime(2026, 3, 31, 0, 30, tzinfo=AMSTERDAM)  # 30 March 22:30 UTC
    assert prior_consultation_deadline(late_evening) == date(2026, 5, 26)


def test_the_extension_is_announced_within_one_month_of_receipt():
    assert extension_announcement_deadline(at(date(2026, 4, 1))) == date(2026, 5, 1)
    # One month after 31 January is 28 February, a Saturday: the next working day.
    assert extension_announcement_deadline(at(date(2026, 1, 31))) == date(2026, 3, 2)


RECEIVED = at(date(2026, 4, 1))  # deadline 27 May, extended 8 July; announce by 1 May


def consulted() -> DPIA:
    dpia = DPIA.signal(
        municipality="Leusden",
        controller="college van burgemeester en wethouders",
        activity=uuid4(),
        register_version="urn:uuid:00000000-0000-0000-0000-000000000000",
        register_requires=True,
        trigger=Trigger.NEW_TECHNOLOGY,
        description="Slimme camera's",
        signalled_at=RECEIVED - timedelta(days=30),
        actor=ACTOR,
    )
    dpia.take_fg_advice(fg_advice=uuid4(), advised_at=RECEIVED - timedelta(days=29), actor=ACTOR)
    dpia.assign(assignee="P. Beheer", assigned_at=RECEIVED - timedelta(days=28), actor=ACTOR)
    dpia.pre_scan(
        ap_list=[],
        art35_cases=[],
        edpb_criteria=[],
        notes="",
        scanned_at=RECEIVED - timedelta(days=27),
        actor=ACTOR,
    )
    dpia.assess(
        team=[TeamRole.PRIVACY_OFFICER],
        systematic_description="camera's met kentekenherkenning",
        legitimate_interests="",
        necessity_and_proportionality="noodzakelijk voor handhaving",
        risks=[Risk(description="volgen", likelihood=RiskLevel.HIGH, impact=RiskLevel.HIGH)],
        residual_risk=RiskLevel.HIGH,
        conclusion="hoog restrisico",
        assessed_at=RECEIVED - timedelta(days=2),
        actor=ACTOR,
    )
    dpia.consult_ap(ap_reference="AP-2026-1", submitted_at=RECEIVED, actor=ACTOR)
    return dpia


def test_the_consultation_stores_its_clock():
    dpia = consulted()
    assert dpia.consultation_deadline == date(2026, 5, 27)
    assert dpia.extension_announced_by == date(2026, 5, 1)


def test_an_extension_announced_on_the_last_day_of_the_month_counts():
    dpia = consulted()
    dpia.extend_ap_consultation(
        reasons="complex", announced_at=at(date(2026, 5, 1), 16), actor=ACTOR
    )
    assert dpia.consultation_deadline == date(2026, 7, 8)


def test_an_extension_announced_after_the_month_is_refused():
    with pytest.raises(ProcedureError, match="within one month of receipt"):
        consulted().extend_ap_consultation(
            reasons="complex", announced_at=at(date(2026, 5, 4)), actor=ACTOR
        )


def test_the_ap_extends_once():
    dpia = consulted()
    dpia.extend_ap_consultation(reasons="complex", announced_at=at(date(2026, 4, 20)), actor=ACTOR)
    with pytest.raises(ProcedureError, match="once"):
        dpia.extend_ap_consultation(
            reasons="nog eens", announced_at=at(date(2026, 4, 21)), actor=ACTOR
        )


@pytest.mark.parametrize(
    ("received", "late"),
    [(at(date(2026, 5, 27), 23), False), (at(date(2026, 5, 28), 0), True)],
    ids=["on-the-last-day", "the-day-after"],
)
def test_an_answer_after_the_last_day_is_late(received, late):
    dpia = consulted()
    dpia.record_ap_answer(
        answer=APAnswer.WRITTEN_ADVICE, summary="advies", received_at=received, actor=ACTOR
    )
    assert dpia.pending_events[-1].late is late


def fg_assessed() -> DPIA:
    dpia = consulted()
    dpia.fg_assess(
        opinion=FGOpinion.SUFFICIENT,
        measures_checked=True,
        remarks="in orde",
        assessed_at=RECEIVED + timedelta(days=1),
        actor="fg@blnp.nl",
    )
    return dpia


def decide(dpia: DPIA, on: date) -> None:
    dpia.decide(
        decision=Decision.PROCEED,
        reasons="maatregelen genomen",
        fg_advice=uuid4(),
        without_fg_advice=None,
        reassess_on=date(2027, 6, 1),
        decided_at=at(on),
        actor="gs@leusden.nl",
    )


def test_proceeding_while_the_ap_may_still_answer_is_refused():
    with pytest.raises(ProcedureError, match="may answer until 2026-05-27"):
        decide(fg_assessed(), date(2026, 5, 27))


def test_proceeding_after_the_ap_s_period_passed_unanswered_says_so():
    dpia = fg_assessed()
    decide(dpia, date(2026, 5, 28))
    assert dpia.pending_events[-1].ap_period_passed is True


def test_the_extension_moves_the_day_from_which_the_controller_may_proceed():
    dpia = fg_assessed()
    dpia.extend_ap_consultation(reasons="complex", announced_at=at(date(2026, 4, 20)), actor=ACTOR)
    with pytest.raises(ProcedureError, match="may answer until 2026-07-08"):
        decide(dpia, date(2026, 5, 28))
    decide(dpia, date(2026, 7, 9))


def test_a_ban_stops_the_processing():
    dpia = fg_assessed()
    dpia.record_ap_answer(
        answer=APAnswer.BAN, summary="verbod", received_at=at(date(2026, 5, 1)), actor=ACTOR
    )
    with pytest.raises(ProcedureError, match="banned"):
        decide(dpia, date(2026, 5, 2))
