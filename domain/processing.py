"""The register of processing activities (AVG art. 30(1); seed 004 section 5.2).

Every change is a new *version* with its own identifier and ``valid_from``, never an edit in
place: a log line's ``dpl.core.processing_activity_id`` (Logboek Dataverwerkingen) must point
to exactly the version that applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Annotated, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from domain.errors import ProcedureError
from domain.values import OptionalText, Text


class LegalBasis(StrEnum):
    CONSENT = "art. 6(1)(a) toestemming"
    CONTRACT = "art. 6(1)(b) overeenkomst"
    LEGAL_OBLIGATION = "art. 6(1)(c) wettelijke verplichting"
    VITAL_INTERESTS = "art. 6(1)(d) vitaal belang"
    PUBLIC_TASK = "art. 6(1)(e) publieke taak"
    LEGITIMATE_INTERESTS = "art. 6(1)(f) gerechtvaardigd belang"


class RegisterEntry(BaseModel):
    """One version's content: art. 30(1) a-g and the municipal additions of seed 004 (BSN,
    Selectielijst, process owner, DPIA)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Text
    purposes: list[Text] = Field(min_length=1)
    legal_basis: LegalBasis
    legal_basis_law: Text
    joint_controllers: list[Text] = []
    data_subject_categories: list[Text] = Field(min_length=1)
    personal_data_categories: list[Text] = Field(min_length=1)
    special_categories: list[Text] = []
    criminal_data: bool = False
    bsn_used: bool = False
    bsn_legal_basis: OptionalText = ""
    recipients: list[Text] = []
    third_country_transfers: list[Text] = []
    retention: Text
    selectielijst_reference: OptionalText = ""
    security_measures: list[Text] = Field(min_length=1)
    processors: list[Text] = []
    process_owner: Text
    dpia_required: bool = False
    dpia_reason: OptionalText = ""

    @model_validator(mode="after")
    def _rules(self) -> RegisterEntry:
        if self.bsn_used and not self.bsn_legal_basis:
            raise ValueError("the BSN is used only where a law prescribes it (art. 46 UAVG)")
        if self.special_categories and self.legal_basis is LegalBasis.LEGITIMATE_INTERESTS:
            raise ValueError("special categories need an art. 9(2) ground, not legitimate interest")
        if self.dpia_required and not self.dpia_reason:
            raise ValueError("say why a DPIA is required (art. 35)")
        return self


def check_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A register entry as stored, checked against the rules whoever wrote it."""
    try:
        return RegisterEntry.model_validate(entry).model_dump(mode="json")
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'entry'}: {error['msg']}"
            for error in e.errors()
        )
        raise ProcedureError(f"register entry refused: {problems}") from None


@cache
def _field(name: str) -> TypeAdapter[Any]:
    info = RegisterEntry.model_fields[name]
    annotation: Any = info.annotation
    if info.metadata:  # constraints such as Field(min_length=1)
        annotation = Annotated[(annotation, *info.metadata)]
    return TypeAdapter(annotation)


def typed_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Changes to a register entry in the entry's own types, as JSON holds them: the string
    "false" for ``criminal_data`` becomes ``false``. Types only, not the entry's rules, so
    that what was recorded once reads the same whatever the rules become."""
    typed = {}
    for name, value in changes.items():
        if name not in RegisterEntry.model_fields:
            raise ValueError(f"{name!r} is not a field of a register entry")
        adapter = _field(name)
        typed[name] = adapter.dump_python(adapter.validate_python(value), mode="json")
    return typed


def version_id(activity: UUID, version: int) -> UUID:
    """The identifier of one version of a register entry: stable, and unique to it."""
    return uuid5(activity, str(version))


def version_uri(activity: UUID, version: int) -> str:
    """Usable as ``dpl.core.processing_activity_id`` in Logboek Dataverwerkingen."""
    return f"urn:uuid:{version_id(activity, version)}"


class ProcessingActivity(Aggregate):
    @event("Registered")
    def __init__(
        self,
        *,
        municipality: str,
        controller: str,
        entry: dict[str, Any],
        valid_from: datetime,
        actor: str,
    ) -> None:
        self.municipality = municipality
        self.controller = controller
        self.entry = check_entry(entry)
        self.valid_from = valid_from
        self.retired = False
        self.dpias: list[dict[str, Any]] = []

    @property
    def version_id(self) -> UUID:
        return version_id(self.id, self.version)

    @property
    def version_uri(self) -> str:
        return version_uri(self.id, self.version)

    @event("Amended")
    def amend(self, *, changes: dict[str, Any], valid_from: datetime, actor: str) -> None:
        if self.retired:
            raise ProcedureError("a retired processing activity is not amended")
        entry = check_entry({**self.entry, **changes})
        if valid_from < self.valid_from:
            raise ProcedureError("a new version is valid from after the one it follows")
        self.entry = entry
        self.valid_from = valid_from

    @event("DPIARecorded")
    def record_dpia(
        self,
        *,
        outcome: str,
        residual_risk: str,
        fg_advice: UUID | None,
        recorded_at: datetime,
        actor: str,
    ) -> None:
        if not outcome.strip():
            raise ProcedureError("a DPIA is recorded with its outcome")
        self.valid_from = max(self.valid_from, recorded_at)
        self.dpias.append({"outcome": outcome, "residual_risk": residual_risk})

    @event("Retired")
    def retire(self, *, reason: str, valid_from: datetime, actor: str) -> None:
        if self.retired:
            raise ProcedureError("the processing activity is already retired")
        self.retired = True
        self.valid_from = valid_from
