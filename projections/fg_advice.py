"""FG advice and what was done with it (AVG art. 38-39): one row per advice."""

from __future__ import annotations

from typing import Any, ClassVar, NotRequired, TypedDict

from eventsourcing.dispatch import singledispatchmethod

from domain.fg_advice import FGAdvice
from projections.base import NoHandler, Record, RecordProjection, SealedText, utc_text


class Advice(TypedDict):
    advice: SealedText
    recommendation: SealedText
    given_at: str
    actor: str


class Answer(TypedDict):
    followed: bool
    reasons: SealedText
    answered_at: str
    actor: str


class Escalation(TypedDict):
    to: str
    reasons: SealedText
    at: str


class AdviceRecord(Record):
    """One request for FG advice as the register keeps it; each part once its event is."""

    municipality: str
    about: str
    question: SealedText
    requested_at: str
    requested_by: str
    advice: NotRequired[Advice]
    answer: NotRequired[Answer]
    escalation: NotRequired[Escalation]
    volunteered: NotRequired[bool]  # given unasked (art. 39(1)): requested_* is its giving


class FGAdviceRegister(RecordProjection[AdviceRecord]):
    name = "fg_advice_register"
    aggregate = FGAdvice
    table = "fg_advice"
    version = 2
    column_types: ClassVar[dict[str, str]] = {
        "municipality": "TEXT NOT NULL",
        "about": "TEXT NOT NULL",
        "requested_at": "TEXT NOT NULL",
        "given_at": "TEXT",
        "followed": "INTEGER",  # NULL while unanswered
        "answered_at": "TEXT",
    }
    indexes = ("municipality, requested_at", "followed, given_at", "about")

    def columns(self, r: AdviceRecord) -> dict[str, Any]:
        advice, answer = r.get("advice"), r.get("answer")
        return {
            "municipality": r["municipality"],
            "about": r["about"],
            "requested_at": r["requested_at"],
            "given_at": advice and advice["given_at"],
            "followed": None if answer is None else int(answer["followed"]),
            "answered_at": answer and answer["answered_at"],
        }

    @singledispatchmethod
    def apply_event(self, e: FGAdvice.Event, r: AdviceRecord) -> None:
        raise NoHandler(self, e)

    @apply_event.register
    def _(self, e: FGAdvice.Requested, r: AdviceRecord) -> None:
        r["municipality"] = e.municipality
        r["about"] = str(e.about)
        r["question"] = e.question
        r["requested_at"] = utc_text(e.requested_at)
        r["requested_by"] = e.actor

    @apply_event.register
    def _(self, e: FGAdvice.Given, r: AdviceRecord) -> None:
        r["advice"] = {
            "advice": e.advice,
            "recommendation": e.recommendation,
            "given_at": utc_text(e.given_at),
            "actor": e.actor,
        }

    @apply_event.register
    def _(self, e: FGAdvice.Answered, r: AdviceRecord) -> None:
        r["answer"] = {
            "followed": e.followed,
            "reasons": e.reasons,
            "answered_at": utc_text(e.answered_at),
            "actor": e.actor,
        }

    @apply_event.register
    def _(self, e: FGAdvice.Escalated, r: AdviceRecord) -> None:
        r["escalation"] = {"to": e.to, "reasons": e.reasons, "at": utc_text(e.escalated_at)}

    @apply_event.register
    def _(self, e: FGAdvice.Volunteered, r: AdviceRecord) -> None:
        given = utc_text(e.given_at)
        r["municipality"] = e.municipality
        r["about"] = str(e.about)
        r["question"] = ""
        r["requested_at"] = given
        r["requested_by"] = e.actor
        r["volunteered"] = True
        r["advice"] = {
            "advice": e.advice,
            "recommendation": e.recommendation,
            "given_at": given,
            "actor": e.actor,
        }
