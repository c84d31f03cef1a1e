"""Processors and their agreements (AVG art. 28; seed 002 §7.2; seed 004, verwerkersovereenkomsten).

A processor is a record of its own, of one municipality and controller (the bestuursorgaan that
engages it), so that register entries of that controller can point to it by id. Its agreement
(verwerkersovereenkomst) is concluded, renewed and ended as steps, never edited: each step
carries the agreement as checked, and where each location lies (inside the EEA or not) as
judged when it was recorded, so a later change to the EEA table never re-judges a stored one.

Seed 002 §7.4: special categories are in principle hosted inside the EEA (EU, Norway, Iceland,
Liechtenstein); outside it, a transfer needs a safeguard of AVG chapter V. Both are facts the
FG's oversight reads from here.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from eventsourcing.domain import Aggregate, event
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.errors import ProcedureError
from domain.values import Day, ShortText

# The European Economic Area: the 27 EU member states and Iceland, Liechtenstein and Norway
# (ISO 3166-1 alpha-2; Greece as GR).
EEA = frozenset(
    {
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
        *("IS", "LI", "NO"),
    }
)
MAX_SUB_PROCESSORS = 50

Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]  # ISO 3166-1 alpha-2


class TransferSafeguard(StrEnum):
    """The grounds of AVG chapter V for processing outside the EEA."""

    ADEQUACY = "art. 45 adequaatheidsbesluit"
    SCC = "art. 46(2)(c) standaardcontractbepalingen"
    BCR = "art. 47 bindende bedrijfsvoorschriften"
    DEROGATION = "art. 49 afwijking"


class Location(BaseModel):
    """Where data is processed: a country, and outside the EEA the safeguard relied on (none
    stated is recorded as such, and the FG's oversight lists it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    country: Country
    safeguard: TransferSafeguard | None = None

    @model_validator(mode="after")
    def _safeguard_outside_only(self) -> Location:
        if self.country in EEA and self.safeguard is not None:
            raise ValueError("a transfer safeguard applies only outside the EEA")
        return self


class SubProcessor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: ShortText
    location: Location


class Agreement(BaseModel):
    """A verwerkersovereenkomst (art. 28(3)): its reference, when it was concluded and until
    when it runs, where the processor processes, and its sub-processors (art. 28(2), (4))."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    reference: ShortText
    concluded_on: Day
    expires_on: Day | None = None  # None: for an indefinite period
    location: Location
    sub_processors: list[SubProcessor] = Field(default=[], max_length=MAX_SUB_PROCESSORS)

    @model_validator(mode="after")
    def _runs_forward(self) -> Agreement:
        if self.expires_on is not None and self.expires_on <= self.concluded_on:
            raise ValueError("an agreement expires after it was concluded")
        return self

    def outside_eea(self) -> list[dict[str, Any]]:
        """Every location of the agreement outside the EEA: whose, where, with what safeguard."""
        return [
            {"by": by, "country": where.country, "safeguard": where.safeguard}
            for by, where in [
                ("", self.location),
                *((s.name, s.location) for s in self.sub_processors),
            ]
            if where.country not in EEA
        ]


class Processor(Aggregate):
    @classmethod
    def register(
        cls, *, municipality: str, controller: str, name: str, registered_at: datetime, actor: str
    ) -> Processor:
        return cls(
            municipality=municipality,
            controller=controller,
            name=name,
            registered_at=registered_at,
            actor=actor,
        )

    class Registered(Aggregate.Created):
        municipality: str
        controller: str
        name: str
        registered_at: datetime
        actor: str

    @event(Registered)
    def __init__(
        self, *, municipality: str, controller: str, name: str, registered_at: datetime, actor: str
    ) -> None:
        self.municipality = municipality
        self.controller = controller
        self.name = name
        self.agreement: str | None = None  # the reference of the agreement in force

    def conclude_agreement(
        self, *, agreement: Agreement, recorded_at: datetime, actor: str
    ) -> None:
        if self.agreement is not None:
            raise ProcedureError(
                f"agreement {self.agreement} is in force: renew or end it",
                ["renew_agreement", "end_agreement"],
            )
        self._concluded(agreement, renews=None, recorded_at=recorded_at, actor=actor)

    def renew_agreement(self, *, agreement: Agreement, recorded_at: datetime, actor: str) -> None:
        """A new agreement in the place of the one in force (a new term, new sub-processors)."""
        if self.agreement is None:
            raise ProcedureError("no agreement is in force to renew", ["conclude_agreement"])
        if agreement.reference == self.agreement:
            raise ProcedureError("a renewal is a new agreement, with its own reference")
        self._concluded(agreement, renews=self.agreement, recorded_at=recorded_at, actor=actor)

    def _concluded(
        self, agreement: Agreement, *, renews: str | None, recorded_at: datetime, actor: str
    ) -> None:
        self._agreement_concluded(
            agreement=agreement.model_dump(mode="json"),
            outside_eea=agreement.outside_eea(),
            renews=renews,
            recorded_at=recorded_at,
            actor=actor,
        )

    class AgreementConcluded(Aggregate.Event):
        agreement: dict[str, Any]  # the ``Agreement`` as checked
        outside_eea: list[dict[str, Any]]  # judged by the EEA table of that moment
        renews: str | None  # the reference of the agreement it replaces
        recorded_at: datetime
        actor: str

    @event(AgreementConcluded)
    def _agreement_concluded(
        self,
        *,
        agreement: dict[str, Any],
        outside_eea: list[dict[str, Any]],
        renews: str | None,
        recorded_at: datetime,
        actor: str,
    ) -> None:
        self.agreement = agreement["reference"]

    def end_agreement(
        self, *, ended_on: date, reason: str, recorded_at: datetime, actor: str
    ) -> None:
        if self.agreement is None:
            raise ProcedureError("no agreement is in force to end", ["conclude_agreement"])
        if not reason.strip():
            raise ProcedureError("ending an agreement needs a reason")
        self._agreement_ended(
            reference=self.agreement,
            ended_on=ended_on,
            reason=reason,
            recorded_at=recorded_at,
            actor=actor,
        )

    class AgreementEnded(Aggregate.Event):
        reference: str
        ended_on: date
        reason: str
        recorded_at: datetime
        actor: str

    @event(AgreementEnded)
    def _agreement_ended(
        self, *, reference: str, ended_on: date, reason: str, recorded_at: datetime, actor: str
    ) -> None:
        self.agreement = None
