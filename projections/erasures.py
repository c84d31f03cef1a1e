"""Erasures carried out (AVG art. 17; Archiefwet): the fact, the ground, who, when."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.personal_data import PersonalDataErasure
from projections.base import RecordProjection, utc_text


class ErasureRegister(RecordProjection):
    name = "erasure_register"
    aggregate = PersonalDataErasure
    table = "erasures"
    version = 2
    column_types: ClassVar[dict[str, str]] = {
        "municipality": "TEXT NOT NULL",
        "subject": "TEXT NOT NULL",
        "erased_at": "TEXT NOT NULL",
    }
    indexes = ("municipality, erased_at", "subject")

    def columns(self, r: dict[str, Any]) -> dict[str, Any]:
        return {
            "municipality": r["municipality"],
            "subject": r["subject"],
            "erased_at": r["erased_at"],
        }

    def on_Erased(self, r: dict[str, Any], e: Any) -> None:
        r.update(
            subject=str(e.subject),
            municipality=e.municipality,
            ground=str(e.ground),
            reference=e.reference,
            actor=e.actor,
            erased_at=utc_text(e.erased_at),
        )
