"""FG advice and what was done with it (AVG art. 38-39): one row per advice."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.fg_advice import FGAdvice
from projections.base import RecordProjection, utc_text


class FGAdviceRegister(RecordProjection):
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

    def columns(self, r: dict[str, Any]) -> dict[str, Any]:
        answer = r.get("answer") or {}
        followed = answer.get("followed")
        return {
            "municipality": r["municipality"],
            "about": r["about"],
            "requested_at": r["requested_at"],
            "given_at": (r.get("advice") or {}).get("given_at"),
            "followed": None if followed is None else int(followed),
            "answered_at": answer.get("answered_at"),
        }

    def on_Requested(self, r: dict[str, Any], e: Any) -> None:
        r.update(
            municipality=e.municipality,
            about=str(e.about),
            question=e.question,
            requested_at=utc_text(e.requested_at),
            requested_by=e.actor,
        )

    def on_Given(self, r: dict[str, Any], e: Any) -> None:
        r["advice"] = {
            "advice": e.advice,
            "recommendation": e.recommendation,
            "given_at": utc_text(e.given_at),
            "actor": e.actor,
        }

    def on_Answered(self, r: dict[str, Any], e: Any) -> None:
        r["answer"] = {
            "followed": e.followed,
            "reasons": e.reasons,
            "answered_at": utc_text(e.answered_at),
            "actor": e.actor,
        }

    def on_Escalated(self, r: dict[str, Any], e: Any) -> None:
        r["escalation"] = {"to": e.to, "reasons": e.reasons, "at": utc_text(e.escalated_at)}
