"""FG advice (AVG art. 38-39): its own record, so that both the FG's independence and the
controller's answer to the advice can be proven."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import ProcedureError


class FGAdvice(Aggregate):
    @event("Requested")
    def __init__(
        self, *, municipality: str, about: UUID, question: str, requested_at: datetime, actor: str
    ) -> None:
        self.municipality = municipality
        self.about = about
        self.question = question
        self.requested_at = requested_at
        self.advice: str | None = None
        self.followed: bool | None = None
        self.escalated = False

    @event("Given")
    def give(self, *, advice: str, recommendation: str, given_at: datetime, actor: str) -> None:
        if self.advice is not None:
            raise ProcedureError("the FG already gave this advice", ["answer", "escalate"])
        if not advice.strip():
            raise ProcedureError("advice without content")
        self.advice = advice
        self.recommendation = recommendation
        self.given_at = given_at

    @event("Answered")
    def answer(self, *, followed: bool, reasons: str, answered_at: datetime, actor: str) -> None:
        """The controller's answer; departing from the advice needs reasons."""
        if self.advice is None:
            raise ProcedureError("there is no advice to answer yet", ["give"])
        if self.followed is not None:
            raise ProcedureError("the advice was already answered", ["escalate"])
        if not followed and not reasons.strip():
            raise ProcedureError("not following the FG's advice requires reasons")
        self.followed = followed
        self.reasons = reasons
        self.answered_at = answered_at

    @event("Escalated")
    def escalate(self, *, to: str, reasons: str, escalated_at: datetime, actor: str) -> None:
        if self.advice is None:
            raise ProcedureError("the FG escalates advice it gave", ["give"])
        self.escalated = True
        self.escalated_to = to
