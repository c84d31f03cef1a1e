"""Erasures carried out (AVG art. 17; Archiefwet): the fact, the ground, who, when."""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.dispatch import singledispatchmethod

from domain.personal_data import PersonalDataErasure
from projections.base import NoHandler, Record, RecordProjection, utc_text


class ErasureRecord(Record):
    subject: str
    municipality: str
    ground: str
    reference: str
    actor: str
    erased_at: str


class ErasureRegister(RecordProjection[ErasureRecord]):
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

    def columns(self, r: ErasureRecord) -> dict[str, Any]:
        return {
            "municipality": r["municipality"],
            "subject": r["subject"],
            "erased_at": r["erased_at"],
        }

    @singledispatchmethod
    def apply_event(self, e: PersonalDataErasure.Event, r: ErasureRecord) -> None:
        raise NoHandler(self, e)

    @apply_event.register
    def _(self, e: PersonalDataErasure.Erased, r: ErasureRecord) -> None:
        r["subject"] = str(e.subject)
        r["municipality"] = e.municipality
        r["ground"] = str(e.ground)
        r["reference"] = e.reference
        r["actor"] = e.actor
        r["erased_at"] = utc_text(e.erased_at)
