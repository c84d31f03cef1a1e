"""FG advice (AVG art. 38-39): its own record, so that both the FG's independence and the
controller's answer to the advice can be proven.

Its texts may describe people: they are sealed under the advice's own record key, shredded
with it at the end of its retention period. Public verbs judge; ``@event`` methods only apply.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import TypedDict, cast
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event
from pydantic import BaseModel, ConfigDict

from domain.errors import ProcedureError
from domain.personal_data import PersonalData, Sealed, record_key
from domain.values import Text


class FGAdvice(Aggregate):
    @classmethod
    def request(
        cls, *, municipality: str, about: UUID, question: str, requested_at: datetime, actor: str
    ) -> FGAdvice:
        return cls(
            municipality=municipality,
            about=about,
            question=PersonalData(uuid4(), question),
            requested_at=requested_at,
            actor=actor,
        )

    class Requested(Aggregate.Created):
        municipality: str
        about: UUID
        question: Sealed
        requested_at: datetime
        actor: str

    @event(Requested)
    def __init__(
        self,
        *,
        municipality: str,
        about: UUID,
        actor: str,
        question: Sealed = "",
        requested_at: datetime | None = None,
    ) -> None:
        # Advice the FG volunteered (``Volunteered``) has no question and no request moment.
        self.municipality = municipality
        self.about = about
        self.question = question
        self.key = record_key(question, self.id)
        self.requested_at = requested_at
        self.volunteered = False
        self.given = False
        self.followed: bool | None = None
        self.escalated = False

    def _sealed(self, text: str) -> PersonalData:
        return PersonalData(self.key, text)

    def give(self, *, advice: str, recommendation: str, given_at: datetime, actor: str) -> None:
        if self.given:
            raise ProcedureError("the FG already gave this advice", ["answer", "escalate"])
        if not advice.strip():
            raise ProcedureError("advice without content")
        self._given(
            advice=self._sealed(advice),
            recommendation=self._sealed(recommendation),
            given_at=given_at,
            actor=actor,
        )

    class Given(Aggregate.Event):
        advice: Sealed
        recommendation: Sealed
        given_at: datetime
        actor: str

    @event(Given)
    def _given(
        self, *, advice: Sealed, recommendation: Sealed, given_at: datetime, actor: str
    ) -> None:
        self.given = True
        self.given_at = given_at

    def answer(self, *, followed: bool, reasons: str, answered_at: datetime, actor: str) -> None:
        """The controller's answer; departing from the advice needs reasons."""
        if not self.given:
            raise ProcedureError("there is no advice to answer yet", ["give"])
        if self.followed is not None:
            raise ProcedureError("the advice was already answered", ["escalate"])
        if not followed and not reasons.strip():
            raise ProcedureError("not following the FG's advice requires reasons")
        self._answered(
            followed=followed,
            reasons=self._sealed(reasons) if reasons else "",
            answered_at=answered_at,
            actor=actor,
        )

    class Answered(Aggregate.Event):
        followed: bool
        reasons: Sealed
        answered_at: datetime
        actor: str

    @event(Answered)
    def _answered(
        self, *, followed: bool, reasons: Sealed, answered_at: datetime, actor: str
    ) -> None:
        self.followed = followed
        self.answered_at = answered_at

    def escalate(self, *, to: str, reasons: str, escalated_at: datetime, actor: str) -> None:
        if not self.given:
            raise ProcedureError("the FG escalates advice it gave", ["give"])
        self._escalated(
            to=to, reasons=self._sealed(reasons), escalated_at=escalated_at, actor=actor
        )

    class Escalated(Aggregate.Event):
        to: str
        reasons: Sealed
        escalated_at: datetime
        actor: str

    @event(Escalated)
    def _escalated(self, *, to: str, reasons: Sealed, escalated_at: datetime, actor: str) -> None:
        self.escalated = True
        self.escalated_to = to

    # --- advice on the FG's own initiative (art. 39(1)) ----------------------------------------

    @classmethod
    def volunteer(
        cls,
        *,
        municipality: str,
        about: UUID,
        advice: str,
        recommendation: str,
        given_at: datetime,
        actor: str,
    ) -> FGAdvice:
        """Advice nobody asked for: recorded as given at once, to be answered like any other."""
        if not advice.strip():
            raise ProcedureError("advice without content")
        key = uuid4()
        return cls._create(
            cls.Volunteered,
            municipality=municipality,
            about=about,
            advice=PersonalData(key, advice),
            recommendation=PersonalData(key, recommendation),
            given_at=given_at,
            actor=actor,
        )

    class Volunteered(Aggregate.Created):
        """Created given: ``__init__`` takes what it shares with a request, ``apply`` the rest."""

        municipality: str
        about: UUID
        advice: Sealed
        recommendation: Sealed
        given_at: datetime
        actor: str

        def apply(self, aggregate: Aggregate) -> None:
            advice = cast(FGAdvice, aggregate)
            advice.key = record_key(self.advice, advice.id)
            advice.volunteered = True
            advice.given = True
            advice.given_at = self.given_at


class NoAdviceReason(StrEnum):
    """Why a decision the seeds put after the FG's advice was taken without it."""

    URGENCY = "spoed"  # the deadline (the AP's 72 hours) left no time to ask


class WithoutFGAdvice(BaseModel):
    """Said in a decision taken without FG advice: why none was asked, with reasons."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    reason: NoAdviceReason
    explanation: Text


class SealedWithoutFGAdvice(TypedDict):
    """``WithoutFGAdvice`` as an event holds it: its explanation sealed under the record key."""

    reason: str
    explanation: Sealed


def sealed_without_fg_advice(
    without: WithoutFGAdvice | None, seal: Callable[[str], PersonalData]
) -> SealedWithoutFGAdvice | None:
    """How a decision's record keeps why no FG advice was asked (``seal``: its record key)."""
    if without is None:
        return None
    return SealedWithoutFGAdvice(reason=without.reason.value, explanation=seal(without.explanation))
