"""Personal data about a data subject, and what remains of it after erasure.

Names, contact details, BSN and free text about a person are held in the domain as
``PersonalData``; they are stored only as ciphertext under that subject's own key (see
``adapters/persistence/personal_data.py``). Destroying the key erases every copy at once,
while the ledger, which hashes the ciphertext, still verifies (AVG art. 17; DESIGN.md,
"Erasure and retention").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event


@dataclass(frozen=True)
class PersonalData:
    """``subject``: the key it is sealed under, a data subject's or a record's (an incident,
    an FG advice), destroyed on erasure or at the end of the retention period. ``sealed``:
    the stored ciphertext it was opened from, which read models keep instead of the value."""

    subject: UUID
    value: str
    sealed: str | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        # Keep personal data out of logs and tracebacks.
        return f"PersonalData(subject={self.subject}, value=<{len(self.value)} characters>)"


@dataclass(frozen=True)
class Erased:
    """Personal data whose key was destroyed: the fact remains, the content is gone. ``sealed``:
    the stored ciphertext, which no key opens any more; a read model rebuilt after the erasure
    keeps it as the live one did, so the two stay the same."""

    subject: UUID
    sealed: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return "[gewist]"


# A free text in an event: sealed, erased, or plain where recorded before texts were sealed.
Sealed = PersonalData | Erased | str


def record_key(text: Sealed, record: UUID) -> UUID:
    """The key a record's texts are sealed under: that of its first text (the record's own id
    for a record whose first text was recorded unsealed)."""
    return record if isinstance(text, str) else text.subject


class ErasureGround(StrEnum):
    ERASURE_REQUEST = "art. 17 AVG: toegewezen verzoek om wissing"
    RETENTION_ENDED = "Archiefwet: bewaartermijn verstreken (Selectielijst)"


ERASURES = UUID("5b1f0f3e-4a44-5d2c-9a0e-6f2d6c1b7e21")  # namespace of erasure ids


class PersonalDataErasure(Aggregate):
    """The ledger's record that a subject's personal data was erased. Holds no personal data."""

    @staticmethod
    def id_for(subject: UUID) -> UUID:
        return uuid5(ERASURES, str(subject))

    @staticmethod
    def create_id(subject: UUID, **_: object) -> UUID:
        return PersonalDataErasure.id_for(subject)

    class Erased(Aggregate.Created):
        subject: UUID
        municipality: str
        ground: ErasureGround
        reference: str
        erased_at: datetime
        actor: str

    @event(Erased)
    def __init__(
        self,
        *,
        subject: UUID,
        municipality: str,
        ground: ErasureGround,
        reference: str,
        erased_at: datetime,
        actor: str,
    ) -> None:
        self.subject = subject
        self.municipality = municipality
        self.erased_at = erased_at
        self.ground = ErasureGround(ground)  # stored events give back plain strings
        self.reference = reference
        self.actor = actor
