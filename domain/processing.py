"""The register of processing activities (AVG art. 30(1); seed 004 section 5.2).

Every change is a new *version* with its own identifier and ``valid_from``, never an edit in
place: a log line's ``dpl.core.processing_activity_id`` (Logboek Dataverwerkingen) must point
to exactly the version that applied. An entry is checked when it is recorded, and each event
carries the whole entry as checked, so a later rule never re-judges a stored version.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.errors import ProcedureError
from domain.processors import EEA, Country, TransferSafeguard
from domain.values import MAX_ITEMS, OptionalText, ShortText, Text, Texts


class LegalBasis(StrEnum):
    CONSENT = "art. 6(1)(a) toestemming"
    CONTRACT = "art. 6(1)(b) overeenkomst"
    LEGAL_OBLIGATION = "art. 6(1)(c) wettelijke verplichting"
    VITAL_INTERESTS = "art. 6(1)(d) vitaal belang"
    PUBLIC_TASK = "art. 6(1)(e) publieke taak"
    LEGITIMATE_INTERESTS = "art. 6(1)(f) gerechtvaardigd belang"


class SpecialCategoryGround(StrEnum):
    """The exceptions of art. 9(2) under which special categories may be processed."""

    EXPLICIT_CONSENT = "art. 9(2)(a) uitdrukkelijke toestemming"
    EMPLOYMENT_AND_SOCIAL_SECURITY = "art. 9(2)(b) arbeidsrecht, sociale zekerheid"
    VITAL_INTERESTS = "art. 9(2)(c) vitaal belang"
    NOT_FOR_PROFIT_BODY = "art. 9(2)(d) stichting of vereniging zonder winstoogmerk"
    MADE_PUBLIC = "art. 9(2)(e) kennelijk openbaar gemaakt"
    LEGAL_CLAIMS = "art. 9(2)(f) rechtsvordering"
    SUBSTANTIAL_PUBLIC_INTEREST = "art. 9(2)(g) zwaarwegend algemeen belang"
    HEALTH_AND_SOCIAL_CARE = "art. 9(2)(h) gezondheidszorg, sociale diensten"
    PUBLIC_HEALTH = "art. 9(2)(i) volksgezondheid"
    ARCHIVING_RESEARCH_STATISTICS = "art. 9(2)(j) archivering, onderzoek, statistiek"


class CriminalDataGround(StrEnum):
    """Art. 10: criminal data only under official authority or as a law authorises it."""

    OFFICIAL_AUTHORITY = "art. 10 onder toezicht van de overheid"
    AUTHORISED_BY_LAW = "art. 10 bij wet toegestaan (UAVG art. 32-33)"


class Transfer(BaseModel):
    """A transfer to a third country (art. 30(1)(e)), with the chapter V safeguard it rests on."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    recipient: ShortText
    country: Country
    safeguard: TransferSafeguard

    @model_validator(mode="after")
    def _third_country(self) -> Transfer:
        if self.country in EEA:
            raise ValueError(f"{self.country} lies in the EEA: that is no third-country transfer")
        return self


class RegisterEntry(BaseModel):
    """One version's content: art. 30(1) a-g and the municipal additions of seed 004 (BSN,
    Selectielijst, process owner, DPIA)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Text
    purposes: Texts = Field(min_length=1)
    legal_basis: LegalBasis
    legal_basis_law: Text
    joint_controllers: Texts = []
    data_subject_categories: Texts = Field(min_length=1)
    personal_data_categories: Texts = Field(min_length=1)
    special_categories: Texts = []
    criminal_data: bool = False
    bsn_used: bool = False
    bsn_legal_basis: OptionalText = ""
    recipients: Texts = []
    # Texts recorded before transfers were typed; new entries name them in ``transfers``.
    third_country_transfers: Texts = []
    transfers: list[Transfer] = Field(default=[], max_length=MAX_ITEMS)
    special_category_grounds: list[SpecialCategoryGround] = Field(
        default=[], max_length=len(SpecialCategoryGround)
    )
    criminal_data_ground: CriminalDataGround | None = None
    retention: Text
    selectielijst_reference: OptionalText = ""
    security_measures: Texts = Field(min_length=1)
    # Art. 30(1)(g) "a general description": field 7 of the published register. The measures
    # themselves stay internal, a map for attackers.
    security_description: OptionalText = ""
    processors: Texts = []
    # The processor records (domain.processors) of this controller: their agreements and
    # locations. ``processors`` above are names only, as entries recorded before held them.
    processor_ids: list[UUID] = Field(default=[], max_length=MAX_ITEMS)
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
        if bool(self.special_categories) != bool(self.special_category_grounds):
            raise ValueError(
                "special categories and their art. 9(2) grounds go together: name both or neither"
            )
        if self.criminal_data != (self.criminal_data_ground is not None):
            raise ValueError(
                "criminal data and its art. 10 ground go together: name both or neither"
            )
        if self.third_country_transfers:
            raise ValueError(
                "name third-country transfers in 'transfers', each with its recipient, country "
                "and chapter V safeguard"
            )
        return self


class RegisterChanges(BaseModel):
    """An amendment: the fields that change, each typed as in ``RegisterEntry``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Text | None = None
    purposes: Texts | None = None
    legal_basis: LegalBasis | None = None
    legal_basis_law: Text | None = None
    joint_controllers: Texts | None = None
    data_subject_categories: Texts | None = None
    personal_data_categories: Texts | None = None
    special_categories: Texts | None = None
    criminal_data: bool | None = None
    bsn_used: bool | None = None
    bsn_legal_basis: OptionalText | None = None
    recipients: Texts | None = None
    third_country_transfers: Texts | None = None
    transfers: list[Transfer] | None = Field(default=None, max_length=MAX_ITEMS)
    special_category_grounds: list[SpecialCategoryGround] | None = Field(
        default=None, max_length=len(SpecialCategoryGround)
    )
    criminal_data_ground: CriminalDataGround | None = None
    retention: Text | None = None
    selectielijst_reference: OptionalText | None = None
    security_measures: Texts | None = None
    security_description: OptionalText | None = None
    processors: Texts | None = None
    processor_ids: list[UUID] | None = Field(default=None, max_length=MAX_ITEMS)
    process_owner: Text | None = None
    dpia_required: bool | None = None
    dpia_reason: OptionalText | None = None

    @model_validator(mode="after")
    def _something(self) -> RegisterChanges:
        if not self.model_fields_set:
            raise ValueError("an amendment changes at least one field")
        return self

    def stated(self) -> dict[str, Any]:
        """The changed fields, in the form the register stores."""
        return self.model_dump(mode="json", include=self.model_fields_set)


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


def version_id(activity: UUID, version: int) -> UUID:
    """The identifier of one version of a register entry: stable, and unique to it."""
    return uuid5(activity, str(version))


def version_uri(activity: UUID, version: int) -> str:
    """Usable as ``dpl.core.processing_activity_id`` in Logboek Dataverwerkingen."""
    return f"urn:uuid:{version_id(activity, version)}"


class ProcessingActivity(Aggregate):
    @classmethod
    def register(
        cls,
        *,
        municipality: str,
        controller: str,
        entry: dict[str, Any],
        valid_from: datetime,
        actor: str,
    ) -> ProcessingActivity:
        return cls(
            municipality=municipality,
            controller=controller,
            entry=check_entry(entry),
            valid_from=valid_from,
            actor=actor,
        )

    class Registered(Aggregate.Created):
        municipality: str
        controller: str
        entry: dict[str, Any]
        valid_from: datetime
        actor: str

    @event(Registered)
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
        self.entry = entry
        self.valid_from = valid_from
        self.retired = False
        self.dpias: list[dict[str, Any]] = []

    @property
    def version_id(self) -> UUID:
        return version_id(self.id, self.version)

    @property
    def version_uri(self) -> str:
        return version_uri(self.id, self.version)

    def amend(self, *, changes: RegisterChanges, valid_from: datetime, actor: str) -> None:
        if self.retired:
            raise ProcedureError("a retired processing activity is not amended")
        stated = changes.stated()
        entry = check_entry({**self.entry, **stated})
        if valid_from < self.valid_from:
            raise ProcedureError("a new version is valid from after the one it follows")
        self._amended(changes=stated, entry=entry, valid_from=valid_from, actor=actor)

    class Amended(Aggregate.Event):
        class_version = 2
        changes: dict[str, Any]
        entry: dict[str, Any] | None  # the whole version as checked; None: recorded before
        valid_from: datetime
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["entry"] = None

    @event(Amended)
    def _amended(
        self,
        *,
        changes: dict[str, Any],
        entry: dict[str, Any] | None,
        valid_from: datetime,
        actor: str,
    ) -> None:
        self.entry = {**self.entry, **changes} if entry is None else entry
        self.valid_from = valid_from

    # A DPIA as recorded before the DPIA procedure (domain/dpia.py) replaced it: still read,
    # no longer recorded.
    class DPIARecorded(Aggregate.Event):
        outcome: str
        residual_risk: str
        fg_advice: UUID | None
        recorded_at: datetime
        actor: str

    @event(DPIARecorded)
    def _dpia_recorded(
        self,
        *,
        outcome: str,
        residual_risk: str,
        fg_advice: UUID | None,
        recorded_at: datetime,
        actor: str,
    ) -> None:
        self.valid_from = max(self.valid_from, recorded_at)
        self.dpias.append({"outcome": outcome, "residual_risk": residual_risk})

    def retire(self, *, reason: str, valid_from: datetime, actor: str) -> None:
        if self.retired:
            raise ProcedureError("the processing activity is already retired")
        if valid_from < self.valid_from:
            raise ProcedureError("a retirement is valid from after the version it ends")
        self._retired(reason=reason, valid_from=valid_from, actor=actor)

    class Retired(Aggregate.Event):
        reason: str
        valid_from: datetime
        actor: str

    @event(Retired)
    def _retired(self, *, reason: str, valid_from: datetime, actor: str) -> None:
        self.retired = True
        self.valid_from = valid_from
