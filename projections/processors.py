"""The processors the register names, with their agreements (AVG art. 28): one row per
processor. Part of the processing register's read model (``projections.register``), whose
transaction writes it, so that an entry and the processors it names are always read together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, NotRequired, TypedDict

from eventsourcing.dispatch import singledispatchmethod

from domain.processors import Processor
from projections.base import Cursor, NoHandler, Record, RecordProjection, documents, utc_text

PROCESSORS_TABLE = "register_processors"


class Transfer(TypedDict):
    by: str  # "" for the processor itself, else the sub-processor's name
    country: str
    safeguard: str | None


class AgreementDoc(TypedDict):
    reference: str
    concluded_on: str
    expires_on: str | None
    location: dict[str, str | None]
    sub_processors: list[dict[str, Any]]
    outside_eea: list[Transfer]  # as judged when the agreement was recorded
    renews: str | None
    recorded_at: str
    actor: str


class Ending(TypedDict):
    reference: str
    ended_on: str
    reason: str
    recorded_at: str


class ProcessorRecord(Record):
    municipality: str
    controller: str
    name: str
    registered_at: str
    agreement: AgreementDoc | None  # the agreement in force
    earlier: list[AgreementDoc]  # renewed or ended
    endings: list[Ending]
    registered_by: NotRequired[str]


class ProcessorRegister(RecordProjection[ProcessorRecord]):
    name = "processor_register"
    aggregate = Processor
    table = PROCESSORS_TABLE
    column_types: ClassVar[dict[str, str]] = {
        "municipality": "TEXT NOT NULL",
        "controller": "TEXT NOT NULL",
        "agreement": "TEXT",  # the reference of the agreement in force; NULL: none
        "expires_on": "TEXT",
        "unsafeguarded": "INTEGER NOT NULL",  # processing outside the EEA without a safeguard
    }
    indexes = ("municipality, expires_on",)

    def columns(self, r: ProcessorRecord) -> dict[str, Any]:
        agreement = r["agreement"]
        return {
            "municipality": r["municipality"],
            "controller": r["controller"],
            "agreement": agreement and agreement["reference"],
            "expires_on": agreement and agreement["expires_on"],
            "unsafeguarded": int(
                agreement is not None
                and any(t["safeguard"] is None for t in agreement["outside_eea"])
            ),
        }

    @singledispatchmethod
    def apply_event(self, e: Processor.Event, r: ProcessorRecord) -> None:
        raise NoHandler(self, e)

    @apply_event.register
    def _(self, e: Processor.Registered, r: ProcessorRecord) -> None:
        r["municipality"] = e.municipality
        r["controller"] = e.controller
        r["name"] = e.name
        r["registered_at"] = utc_text(e.registered_at)
        r["registered_by"] = e.actor
        r["agreement"] = None
        r["earlier"] = []
        r["endings"] = []

    @apply_event.register
    def _(self, e: Processor.AgreementConcluded, r: ProcessorRecord) -> None:
        if r["agreement"] is not None:
            r["earlier"].append(r["agreement"])
        r["agreement"] = {
            "reference": e.agreement["reference"],
            "concluded_on": e.agreement["concluded_on"],
            "expires_on": e.agreement["expires_on"],
            "location": dict(e.agreement["location"]),
            "sub_processors": list(e.agreement["sub_processors"]),
            "outside_eea": [
                Transfer(by=t["by"], country=t["country"], safeguard=t["safeguard"])
                for t in e.outside_eea
            ],
            "renews": e.renews,
            "recorded_at": utc_text(e.recorded_at),
            "actor": e.actor,
        }

    @apply_event.register
    def _(self, e: Processor.AgreementEnded, r: ProcessorRecord) -> None:
        if r["agreement"] is not None:
            r["earlier"].append(r["agreement"])
        r["agreement"] = None
        r["endings"].append(
            {
                "reference": e.reference,
                "ended_on": e.ended_on.isoformat(),
                "reason": e.reason,
                "recorded_at": utc_text(e.recorded_at),
            }
        )


def processor_records(cursor: Cursor, ids: Sequence[str]) -> list[ProcessorRecord]:
    if not ids:
        return []
    cursor.execute(
        f"SELECT doc FROM {PROCESSORS_TABLE} WHERE record IN ({', '.join('?' * len(ids))})",
        tuple(ids),
    )
    return documents(cursor, ProcessorRecord)


def processor_register(cursor: Cursor, municipality: str) -> list[ProcessorRecord]:
    """Every processor of the municipality, by name."""
    cursor.execute(
        f"SELECT doc FROM {PROCESSORS_TABLE} WHERE municipality = ? ORDER BY record",
        (municipality,),
    )
    return sorted(documents(cursor, ProcessorRecord), key=lambda r: r["name"])
