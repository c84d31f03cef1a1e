"""Rights requests as seed 002 bijlage 5 handles them, with the art. 12(3) clock."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest

from adapters.config import database_env
from adapters.persistence.personal_data import ErasedAsSubject, PersonalDataAsCiphertext
from adapters.persistence.subject_keys import MasterKey, open_key_store
from domain.application import Bewijslast
from domain.authorization import Role
from domain.deadlines import AMSTERDAM, EquatedDay, TermCalendar
from domain.errors import ProcedureError
from domain.personal_data import PersonalData
from domain.requests import (
    Deliberation,
    ExtensionReason,
    Outcome,
    RefusalGround,
    RequestStage,
    Right,
    RightsRequest,
    SuspensionReason,
)

PRIVACY, OWNER = "pb@putten.nl", "proceseigenaar.burgerzaken@putten.nl"
SECRETARY = "gemeentesecretaris@putten.nl"
NO_DECREE_DAYS = TermCalendar()
FRIDAY_15_MAY_2026 = TermCalendar(
    (EquatedDay(date(2026, 5, 15), "Besluit gelijkstelling (test)", "test"),)
)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=AMSTERDAM)


def request_for(right: Right, received: datetime) -> RightsRequest:
    subject = uuid.uuid4()
    request = RightsRequest.receive(
        municipality="Putten",
        controller="college van burgemeester en wethouders",
        right=right,
        channel="webformulier",
        requester=PersonalData(subject, "A. de Vries"),
        contact=PersonalData(subject, "a.devries@example.nl"),
        received_at=received,
        actor=PRIVACY,
    )
    request.verify_identity(method="DigiD", verified_at=received, actor=PRIVACY)
    return request


def test_an_access_request_extended_for_volume_decided_then_objected_to(tmp_path):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    keys = open_key_store(url, MasterKey.generate())
    signed: list[int] = []
    app = Bewijslast(
        env=database_env(url),
        on_decision=lambda size: signed.append(1),
        transcodings=[PersonalDataAsCiphertext(keys), ErasedAsSubject()],
    )

    request = request_for(Right.ACCESS, at(1, 31))
    assert request.deadline() == date(2026, 3, 2)
    request.extend(
        months=2,
        reason=ExtensionReason.NUMBER_OF_REQUESTS,
        explanation="140 verzoeken na een publicatie",
        requester_told_at=at(2, 20),
        actor=PRIVACY,
    )
    assert request.deadline() == date(2026, 4, 30)
    request.decide(
        outcome=Outcome.PARTLY_GRANTED,
        grounds=[RefusalGround.RESTRICTION_BY_LAW],
        reasons="gegevens van derden afgeschermd",
        decided_at=at(4, 14),
        role=Role.PROCESS_OWNER,
        actor=OWNER,
    )
    assert not request.decided_late
    request.send(
        channel="Berichtenbox", sent_at=at(4, 15), term_calendar=NO_DECREE_DAYS, actor=PRIVACY
    )
    assert request.objection_deadline() == date(2026, 5, 27)
    request.lodge_objection(
        grounds="te veel afgeschermd",
        lodged_at=at(5, 20),
        advisory_committee=True,
        term_calendar=NO_DECREE_DAYS,
        actor=PRIVACY,
    )
    request.hear_objector(
        by_committee=True, report="hoorzitting", heard_at=at(6, 10), actor=SECRETARY
    )
    request.decide_on_objection(
        well_founded=False,
        reasons="advies bezwaarcommissie",
        deliberation=Deliberation.ON_COMMITTEE_ADVICE,
        decided_at=at(7, 1),
        actor=SECRETARY,
    )
    app.save(request)

    stored = app.repository.get(request.id)
    assert stored.stage is RequestStage.CLOSED
    assert stored.requester.value == "A. de Vries"
    assert signed == [1]  # a checkpoint right after the request decision


def test_an_erasure_request_refused_on_archiefwet_grounds():
    request = request_for(Right.ERASURE, at(3, 2))
    request.decide(
        outcome=Outcome.REFUSED,
        grounds=[RefusalGround.ARCHIEFWET],
        reasons="dossier valt onder bewaartermijn van 20 jaar",
        decided_at=at(3, 20),
        role=Role.PROCESS_OWNER,
        actor=OWNER,
    )
    assert request.outcome is Outcome.REFUSED


def test_a_refusal_without_legal_grounds_is_refused():
    request = request_for(Right.ERASURE, at(3, 2))
    with pytest.raises(ProcedureError, match="needs the legal grounds"):
        request.decide(
            outcome=Outcome.REFUSED,
            grounds=[],
            reasons="nee",
            decided_at=at(3, 20),
            role=Role.PROCESS_OWNER,
            actor=OWNER,
        )


def test_an_extension_told_after_the_first_month_is_refused():
    request = request_for(Right.ACCESS, at(1, 31))
    with pytest.raises(ProcedureError, match=r"within the first month \(by 2026-03-02\)"):
        request.extend(
            months=1,
            reason=ExtensionReason.COMPLEXITY,
            explanation="complex",
            requester_told_at=at(3, 3),
            actor=PRIVACY,
        )
    with pytest.raises(ProcedureError, match="1 to 2 months"):
        request.extend(
            months=3,
            reason=ExtensionReason.COMPLEXITY,
            explanation="complex",
            requester_told_at=at(2, 3),
            actor=PRIVACY,
        )


def test_suspension_for_missing_information_moves_the_deadline():
    request = request_for(Right.RECTIFICATION, at(3, 2))
    request.suspend(
        missing="welke gegevens onjuist zijn",
        reason=SuspensionReason.MISSING_INFORMATION,
        suspended_at=at(3, 5),
        actor=PRIVACY,
    )
    with pytest.raises(ProcedureError, match="allowed now: resume, withdraw"):
        request.decide(
            outcome=Outcome.GRANTED,
            grounds=[],
            reasons="x",
            decided_at=at(3, 6),
            role=Role.PROCESS_OWNER,
            actor=OWNER,
        )
    request.resume(resumed_at=at(3, 15), actor=PRIVACY)
    # 2 April + 10 days is Sunday 12 April 2026.
    assert request.deadline() == date(2026, 4, 13)


def test_an_objection_after_six_weeks_is_recorded_late_and_a_late_decision_is_marked():
    request = request_for(Right.ACCESS, at(1, 5))
    request.decide(
        outcome=Outcome.GRANTED,
        grounds=[],
        reasons="inzage verstrekt",
        decided_at=at(2, 9),
        role=Role.PROCESS_OWNER,
        actor=OWNER,
    )
    assert request.decided_late  # the deadline was 5 February
    request.send(channel="post", sent_at=at(2, 9), term_calendar=NO_DECREE_DAYS, actor=PRIVACY)
    assert request.sent_late  # judged at sending, by the same deadline
    assert request.objection_deadline() == date(2026, 3, 23)
    request.lodge_objection(
        grounds="x",
        lodged_at=at(3, 24),
        advisory_committee=False,
        term_calendar=NO_DECREE_DAYS,
        actor=PRIVACY,
    )
    assert request.objection_late  # recorded, to be judged under Awb 6:11


def decided(received: datetime) -> RightsRequest:
    request = request_for(Right.ACCESS, received)
    request.decide(
        outcome=Outcome.GRANTED,
        grounds=[],
        reasons="toegewezen",
        decided_at=received,
        role=Role.PROCESS_OWNER,
        actor=OWNER,
    )
    return request


def test_a_bezwaar_term_ending_on_a_decree_day_ends_on_the_next_working_day():
    """Awb 6:7 with Atw art. 1 and 3(3): sent on 3 April 2026, six weeks end on Friday 15 May
    2026, a day the decree equates with a public holiday; a bezwaar on Monday 18 May is on
    time, and the rules it was judged by name the table."""
    request = decided(at(3, 20))
    request.send(channel="post", sent_at=at(4, 3), term_calendar=FRIDAY_15_MAY_2026, actor=PRIVACY)
    assert request.objection_deadline() == date(2026, 5, 18)
    sent = request.collect_events()[-1]
    assert getattr(sent, "rules") == FRIDAY_15_MAY_2026.rules()  # noqa: B009
    assert FRIDAY_15_MAY_2026.version in FRIDAY_15_MAY_2026.rules()
    request.lodge_objection(
        grounds="bezwaar",
        lodged_at=at(5, 18, 16),
        advisory_committee=False,
        term_calendar=FRIDAY_15_MAY_2026,
        actor=PRIVACY,
    )
    assert not request.objection_late

    without_the_decree = decided(at(3, 20))
    without_the_decree.send(
        channel="post", sent_at=at(4, 3), term_calendar=NO_DECREE_DAYS, actor=PRIVACY
    )
    assert without_the_decree.objection_deadline() == date(2026, 5, 15)
    without_the_decree.lodge_objection(
        grounds="x",
        lodged_at=at(5, 18),
        advisory_committee=False,
        term_calendar=NO_DECREE_DAYS,
        actor=PRIVACY,
    )
    assert without_the_decree.objection_late


def test_the_gdpr_month_does_not_count_decree_days():
    """Regulation 1182/71 governs the art. 12(3) month, not the Atw: a request received on
    15 April 2026 is due on Friday 15 May 2026, decree day or not."""
    assert request_for(Right.ACCESS, at(4, 15)).deadline() == date(2026, 5, 15)


def test_a_withdrawn_request_takes_no_further_steps():
    request = request_for(Right.PORTABILITY, at(6, 1))
    request.withdraw(withdrawn_at=at(6, 3), actor=PRIVACY)
    with pytest.raises(ProcedureError, match="ingetrokken"):
        request.decide(
            outcome=Outcome.GRANTED,
            grounds=[],
            reasons="x",
            decided_at=at(6, 4),
            role=Role.PROCESS_OWNER,
            actor=OWNER,
        )
