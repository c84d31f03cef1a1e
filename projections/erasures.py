"""Erasures carried out (AVG art. 17; Archiefwet): the fact, the ground, who, when.

The erasure record names only the subject key; the municipality is the one whose request
register holds that subject, found when queried.
"""

from __future__ import annotations

from typing import Any, ClassVar

from domain.personal_data import PersonalDataErasure
from projections.base import RecordProjection, utc_text


class ErasureRegister(RecordProjection):
    name = "erasure_register"
    aggregate = PersonalDataErasure
    table = "erasures"
    column_types: ClassVar[dict[str, str]] = {
        "subject": "TEXT NOT NULL",
        "erased_at": "TEXT NOT NULL",
    }
    indexes = ("subject", "erased_at")

    def columns(self, r: dict[str, Any]) -> dict[str, Any]:
        return {"subject": r["subject"], "erased_at": r["erased_at"]}

    def on_Erased(self, r: dict[str, Any], e: Any) -> None:
        r.update(
            subject=str(e.subject),
            ground=str(e.ground),
            reference=e.reference,
            actor=e.actor,
            erased_at=utc_text(e.erased_at),
        )
