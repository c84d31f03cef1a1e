"""Retention and destruction (Archiefwet 1995; Selectielijst gemeenten en intergemeentelijke
organen 2020; AVG art. 5(1)(e) and 17(3)(b)/(d)).

Every record type keeps its file for the period of one Selectielijst category, counted from the
event that closes the file (``RECORD_TYPES``: the trigger and the key its personal data is
sealed under). The categories themselves are data (``RetentionSchedule``, read by the adapters
from ``adapters/data/selectielijst.toml``). A retention run judges, at the command, which
records are due, and destroys each by destroying the key its texts are sealed under: the
destruction is a ledger event (``RecordDestruction``) that holds no personal data, so the
ledger still verifies. A legal hold (``LegalHold``) stops destruction until it is lifted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.deadlines import AMSTERDAM
from domain.dpia import DPIA
from domain.errors import ProcedureError
from domain.fg_advice import FGAdvice
from domain.incidents import Incident
from domain.personal_data import PersonalData, Sealed
from domain.processing import ProcessingActivity
from domain.processors import Processor
from domain.requests import RightsRequest


class NothingDue(ProcedureError):
    """A retention run found nothing due: nothing is recorded."""


MAX_PER_RUN = 500  # records one run destroys; what remains is due at the next run


class RecordType(StrEnum):
    INCIDENT = "incident"
    RIGHTS_REQUEST = "verzoek van betrokkene"
    FG_ADVICE = "advies van de FG"
    PROCESSING_ACTIVITY = "verwerkingsactiviteit"
    DPIA = "DPIA"
    PROCESSOR = "verwerker"


@dataclass(frozen=True)
class RecordKind:
    """How a record type's retention is found in its record: the aggregate, the events that
    start the period (by class, with the moment they state), and the attribute that names
    the key its texts are sealed under (None: it holds no personal data of its own)."""

    aggregate: type[Aggregate]
    created: tuple[type[Aggregate.Event], ...]  # each event a record of the type starts with
    triggers: Mapping[type, str]
    key: str | None
    # Events after which the file is open again, until a trigger closes it anew.
    reopening: tuple[type, ...] = ()


# One row per record type; a new record type adds its row here and in the Selectielijst table.
RECORD_TYPES: Mapping[RecordType, RecordKind] = {
    RecordType.INCIDENT: RecordKind(
        Incident, (Incident.Reported,), {Incident.Closed: "closed_at"}, "key"
    ),
    RecordType.RIGHTS_REQUEST: RecordKind(
        RightsRequest,
        (RightsRequest.Received,),
        {RightsRequest.Closed: "closed_at", RightsRequest.Withdrawn: "withdrawn_at"},
        "subject",
    ),
    RecordType.FG_ADVICE: RecordKind(
        # Asked for, or given unasked (art. 39(1)).
        FGAdvice,
        (FGAdvice.Requested, FGAdvice.Volunteered),
        {FGAdvice.Answered: "answered_at"},
        "key",
    ),
    RecordType.PROCESSING_ACTIVITY: RecordKind(
        ProcessingActivity,
        (ProcessingActivity.Registered,),
        {ProcessingActivity.Retired: "valid_from"},
        None,
    ),
    RecordType.DPIA: RecordKind(DPIA, (DPIA.Signalled,), {DPIA.Decided: "decided_at"}, "key"),
    # A processor and its agreements describe an organisation: no key of their own.
    RecordType.PROCESSOR: RecordKind(
        Processor,
        (Processor.Registered,),
        {Processor.AgreementEnded: "recorded_at"},
        None,
        reopening=(Processor.AgreementConcluded,),
    ),
}


def record_type_of(record: Aggregate) -> RecordType:
    for record_type, kind in RECORD_TYPES.items():
        if isinstance(record, kind.aggregate):
            return record_type
    raise ProcedureError(f"a {type(record).__name__} has no retention period")


@dataclass(frozen=True)
class RetentionRule:
    """One row of the Selectielijst table: the category (a result number of the Selectielijst),
    whether that number was checked against the Selectielijst itself, the period in years and
    what starts it."""

    record_type: RecordType
    category: str
    verified: bool
    description: str
    years: int
    trigger: str
    source: str


@dataclass(frozen=True)
class RetentionSchedule:
    """The table, with the digest of its text: each destruction names the version it followed."""

    rules: Mapping[RecordType, RetentionRule]
    version: str

    def rule(self, record_type: RecordType) -> RetentionRule:
        found = self.rules.get(record_type)
        if found is None:
            raise ProcedureError(f"the Selectielijst table has no category for {record_type}")
        return found


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February in a common year: 1 March."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def due_on(rule: RetentionRule, trigger_at: datetime) -> date:
    """The first day (in Amsterdam) the record may be destroyed: the period in calendar years
    from the day of the event that closed the file."""
    return add_years(trigger_at.astimezone(AMSTERDAM).date(), rule.years)


def trigger_moment(record_type: RecordType, event: object) -> datetime | None:
    """The moment ``event`` closed a record of ``record_type``'s file; None if it did not."""
    field = RECORD_TYPES[record_type].triggers.get(type(event))
    moment: datetime | None = None if field is None else getattr(event, field)
    return moment


@dataclass(frozen=True)
class Due:
    """A record judged due for destruction: under which rule, since when."""

    record: UUID
    record_type: RecordType
    municipality: str
    controller: str | None
    rule: RetentionRule
    trigger: str
    trigger_at: datetime
    due_on: date
    keys: tuple[UUID, ...]


def judge(
    record: Aggregate, events: Sequence[object], rule: RetentionRule, today: date
) -> Due | None:
    """Whether ``record`` is due on ``today`` (a date in Amsterdam): the period counts from
    the last event that closed the file, in calendar years (Selectielijst: whole years)."""
    kind = RECORD_TYPES[rule.record_type]
    closing = [
        (e, moment) for e in events if (moment := trigger_moment(rule.record_type, e)) is not None
    ]
    if not closing:
        return None
    last, trigger_at = closing[-1]
    if any(isinstance(e, kind.reopening) for e in events[list(events).index(last) + 1 :]):
        return None
    first_day = due_on(rule, trigger_at)
    if first_day > today:
        return None
    keys = () if kind.key is None else (getattr(record, kind.key),)
    return Due(
        record=record.id,
        record_type=rule.record_type,
        municipality=getattr(record, "municipality"),  # noqa: B009
        controller=getattr(record, "controller", None),
        rule=rule,
        trigger=type(last).__name__,
        trigger_at=trigger_at,
        due_on=first_day,
        keys=keys,
    )


HOLDS = UUID("0d6c1c4e-7b1a-5f0e-8c43-3f5a9e2d7b10")  # namespace of legal-hold ids
DESTRUCTIONS = UUID("9a3e4b52-1c6d-5e8f-a0b7-2d4c6e8f0a13")  # namespace of destruction ids


class LegalHold(Aggregate):
    """A legal hold on one record (a dispute, a claim, an inquiry): while it is held the record
    is not destroyed, whatever its retention period says. The reasons may describe a person, so
    they are sealed under the hold's own key, destroyed with the record."""

    @staticmethod
    def id_for(record: UUID) -> UUID:
        return uuid5(HOLDS, str(record))

    @staticmethod
    def create_id(record: UUID, **_: object) -> UUID:
        return LegalHold.id_for(record)

    @classmethod
    def place(
        cls,
        *,
        record: Aggregate,
        reasons: str,
        placed_at: datetime,
        actor: str,
    ) -> LegalHold:
        return cls(
            record=record.id,
            record_type=record_type_of(record),
            municipality=getattr(record, "municipality"),  # noqa: B009
            controller=getattr(record, "controller", None),
            reasons=PersonalData(LegalHold.id_for(record.id), reasons),
            placed_at=placed_at,
            actor=actor,
        )

    class Placed(Aggregate.Created):
        checkpoint_after = True
        record: UUID
        record_type: RecordType
        municipality: str
        controller: str | None
        reasons: Sealed
        placed_at: datetime
        actor: str

    @event(Placed)
    def __init__(
        self,
        *,
        record: UUID,
        record_type: RecordType,
        municipality: str,
        controller: str | None,
        reasons: Sealed,
        placed_at: datetime,
        actor: str,
    ) -> None:
        self.record = record
        self.record_type = RecordType(record_type)  # stored events give back plain strings
        self.municipality = municipality
        self.controller = controller
        self.held = True

    def place_again(self, *, reasons: str, placed_at: datetime, actor: str) -> None:
        if self.held:
            raise ProcedureError("the record is already under a legal hold", ["lift"])
        self._placed_again(reasons=PersonalData(self.id, reasons), placed_at=placed_at, actor=actor)

    class PlacedAgain(Aggregate.Event):
        checkpoint_after = True
        reasons: Sealed
        placed_at: datetime
        actor: str

    @event(PlacedAgain)
    def _placed_again(self, *, reasons: Sealed, placed_at: datetime, actor: str) -> None:
        self.held = True

    def lift(self, *, reasons: str, lifted_at: datetime, actor: str) -> None:
        if not self.held:
            raise ProcedureError("the record is not under a legal hold", ["place_again"])
        self._lifted(reasons=PersonalData(self.id, reasons), lifted_at=lifted_at, actor=actor)

    class Lifted(Aggregate.Event):
        checkpoint_after = True
        reasons: Sealed
        lifted_at: datetime
        actor: str

    @event(Lifted)
    def _lifted(self, *, reasons: Sealed, lifted_at: datetime, actor: str) -> None:
        self.held = False


class RecordDestruction(Aggregate):
    """The ledger's record that a record was destroyed at the end of its retention period: which
    record, under which Selectielijst category and table version, counted from which event,
    which keys were destroyed, in which run, by whom. Holds no personal data; one per record."""

    @staticmethod
    def id_for(record: UUID) -> UUID:
        return uuid5(DESTRUCTIONS, str(record))

    @staticmethod
    def create_id(record: UUID, **_: object) -> UUID:
        return RecordDestruction.id_for(record)

    @classmethod
    def of(
        cls, due: Due, *, schedule: str, run: UUID, destroyed_at: datetime, actor: str
    ) -> RecordDestruction:
        return cls(
            record=due.record,
            record_type=due.record_type,
            municipality=due.municipality,
            controller=due.controller,
            category=due.rule.category,
            years=due.rule.years,
            schedule=schedule,
            trigger=due.trigger,
            trigger_at=due.trigger_at,
            due_on=due.due_on,
            keys=list(due.keys),
            run=run,
            destroyed_at=destroyed_at,
            actor=actor,
        )

    class Destroyed(Aggregate.Created):
        record: UUID
        record_type: RecordType
        municipality: str
        controller: str | None
        category: str
        years: int
        schedule: str
        trigger: str
        trigger_at: datetime
        due_on: date
        keys: list[UUID]
        run: UUID
        destroyed_at: datetime
        actor: str

    @event(Destroyed)
    def __init__(
        self,
        *,
        record: UUID,
        record_type: RecordType,
        municipality: str,
        controller: str | None,
        category: str,
        years: int,
        schedule: str,
        trigger: str,
        trigger_at: datetime,
        due_on: date,
        keys: list[UUID],
        run: UUID,
        destroyed_at: datetime,
        actor: str,
    ) -> None:
        self.record = record
        self.municipality = municipality
        self.controller = controller
        self.keys = keys
        self.destroyed_at = destroyed_at


class RetentionRun(Aggregate):
    """One retention run: what it destroyed and what a legal hold kept. The decision of the
    run: a checkpoint is signed after it."""

    class Ran(Aggregate.Created):
        checkpoint_after = True
        municipality: str
        schedule: str
        today: date
        destroyed: list[UUID]
        held: list[UUID]
        ran_at: datetime
        actor: str

    @event(Ran)
    def __init__(
        self,
        *,
        municipality: str,
        schedule: str,
        today: date,
        destroyed: list[UUID],
        held: list[UUID],
        ran_at: datetime,
        actor: str,
    ) -> None:
        self.municipality = municipality
        self.destroyed = destroyed
        self.held = held
        self.ran_at = ran_at
        # Saved together with the run, in one transaction; not part of its event.
        self.destructions: list[RecordDestruction] = []
