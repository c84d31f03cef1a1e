"""The organisation of a deployment: its municipalities, their controllers (bestuursorganen)
and the FG (AVG art. 37(7): name and contact). Declared once, by the deployment's operator
(configuration file or command), and recorded, so that every record's owner is one the
ledger itself says exists, and a misspelt municipality is refused instead of starting an
empty register of its own.

One aggregate per ledger, with a fixed id. Its command methods judge (what is new, what is
known); its events only apply what was judged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from domain.errors import ProcedureError
from domain.personal_data import Erased, PersonalData
from domain.values import plain_text

ORGANISATION_ID = UUID("6f2b2a52-6a1e-4a8e-9d0c-6f7267616e69")

# A name, not a text: short, one line.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\n\r]*$"),
    AfterValidator(plain_text),
]


class _Declaration(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeclaredMunicipality(_Declaration):
    name: Name
    controllers: list[Name] = Field(min_length=1, max_length=50)
    # Where its controllers (its bestuursorganen) are reached: art. 30(1)(a) puts it in the
    # register. An office's address, not a person's, so it is recorded as it is.
    contact: Name | None = None


class DeclaredFG(_Declaration):
    """The FG of one or more municipalities (seed 002: four share one)."""

    name: Name
    contact: Name
    municipalities: list[Name] = Field(min_length=1, max_length=100)


class DeclareOrganisation(_Declaration):
    """The whole organisation, as a configuration file declares it; only what is new is
    recorded, so declaring the same file again records nothing."""

    municipalities: list[DeclaredMunicipality] = Field(max_length=100)
    fg: DeclaredFG | None = None


class UnknownOwner(ProcedureError):
    """A municipality or controller that the organisation does not declare."""

    def __init__(self, problem: str, known: Iterable[str]) -> None:
        super().__init__(problem, known)
        self.args = (f"{problem}; declared: {', '.join(self.allowed) or 'none'}",)

    def __str__(self) -> str:
        return str(self.args[0])


class Organisation(Aggregate):
    @staticmethod
    def create_id(**_: Any) -> UUID:
        return ORGANISATION_ID

    @event("Founded")
    def __init__(self, *, actor: str) -> None:
        self.controllers: dict[str, list[str]] = {}
        self.fg_name: PersonalData | Erased | None = None
        self.fg_contact: PersonalData | Erased | None = None
        self.fg_municipalities: list[str] = []
        self.contacts: dict[str, str] = {}

    # --- commands: judge, then record what is new --------------------------------------------

    def declare(self, declaration: DeclareOrganisation, *, actor: str) -> int:
        """Record the municipalities and controllers not yet known, then the FG if it
        changed; how many events that took."""
        before = len(self.pending_events)
        for town in declaration.municipalities:
            known = self.controllers.get(town.name)
            if known is None:
                self._municipality_declared(
                    municipality=town.name, controllers=_unique(town.controllers), actor=actor
                )
            else:
                for controller in _unique(town.controllers):
                    if controller not in known:
                        self._controller_declared(
                            municipality=town.name, controller=controller, actor=actor
                        )
            if town.contact is not None and town.contact != self.contacts.get(town.name):
                self._contact_declared(municipality=town.name, contact=town.contact, actor=actor)
        if declaration.fg is not None:
            self.appoint_fg(declaration.fg, actor=actor)
        return len(self.pending_events) - before

    def appoint_fg(self, fg: DeclaredFG, *, actor: str) -> None:
        for municipality in fg.municipalities:
            self.check(municipality)
        towns = _unique(fg.municipalities)
        same = (
            isinstance(self.fg_name, PersonalData)
            and isinstance(self.fg_contact, PersonalData)
            and (self.fg_name.value, self.fg_contact.value) == (fg.name, fg.contact)
            and self.fg_municipalities == towns
        )
        if same:
            return
        # The FG is a person: name and contact are sealed under a key of their own.
        subject = uuid4()
        self._fg_appointed(
            name=PersonalData(subject, fg.name),
            contact=PersonalData(subject, fg.contact),
            municipalities=towns,
            actor=actor,
        )

    # --- what is known -----------------------------------------------------------------------

    def check(self, municipality: str, controller: str | None = None) -> None:
        """Refuses a municipality, or a controller of it, that was not declared."""
        known = self.controllers.get(municipality)
        if known is None:
            raise UnknownOwner(f"no municipality {municipality!r} is declared", self.controllers)
        if controller is not None and controller not in known:
            raise UnknownOwner(f"{municipality} declares no controller {controller!r}", known)

    def register_contacts(self, municipality: str) -> RegisterContacts:
        """Art. 30(1)(a) for a municipality's register: its controllers' contact details and
        its FG's name and contact, as declared (empty where not declared, or erased)."""
        serves = municipality in self.fg_municipalities
        return RegisterContacts(
            controller=self.contacts.get(municipality, ""),
            fg_name=_text(self.fg_name) if serves else "",
            fg_contact=_text(self.fg_contact) if serves else "",
        )

    # --- events: apply only ------------------------------------------------------------------

    @event("MunicipalityDeclared")
    def _municipality_declared(
        self, *, municipality: str, controllers: list[str], actor: str
    ) -> None:
        self.controllers[municipality] = list(controllers)

    @event("ControllerDeclared")
    def _controller_declared(self, *, municipality: str, controller: str, actor: str) -> None:
        self.controllers[municipality].append(controller)

    @event("ContactDeclared")
    def _contact_declared(self, *, municipality: str, contact: str, actor: str) -> None:
        self.contacts[municipality] = contact

    @event("FGAppointed")
    def _fg_appointed(
        self,
        *,
        name: PersonalData | Erased,
        contact: PersonalData | Erased,
        municipalities: list[str],
        actor: str,
    ) -> None:
        self.fg_name, self.fg_contact = name, contact
        self.fg_municipalities = list(municipalities)


@dataclass(frozen=True)
class RegisterContacts:
    controller: str
    fg_name: str
    fg_contact: str


def _text(value: PersonalData | Erased | None) -> str:
    return value.value if isinstance(value, PersonalData) else ""


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
