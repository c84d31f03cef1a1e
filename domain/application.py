"""The application service: the one way decisions get into the ledger."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Recording, Transcoding

from domain.authorization import Actor, authorise, sees
from domain.commands import (
    CommandModel,
    CreateCommand,
    ErasePersonalData,
    ReceiveRequest,
    RegisterProcessingActivity,
    ReportIncident,
    RequestFGAdvice,
    StepCommand,
)
from domain.errors import NotConfigured, ProcedureError, UnknownRecord
from domain.fg_advice import FGAdvice
from domain.incidents import Incident
from domain.personal_data import ErasureGround, PersonalData, PersonalDataErasure
from domain.processing import ProcessingActivity
from domain.requests import RightsRequest

Clock = Callable[[], datetime]
# The municipality and controller of the request that introduced a data subject (None: none did).
SubjectOwner = Callable[[UUID], tuple[str, str] | None]

# How far a stated moment may lie ahead of the application's clock (the user's clock may run
# a little ahead): setting STATED_MOMENT_SKEW_SECONDS.
DEFAULT_SKEW = timedelta(minutes=5)


def utc_now() -> datetime:
    return datetime.now(UTC)


class DateAsISO(Transcoding):
    """Deadlines are calendar dates, stored in the events that computed them."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class Bewijslast(Application[UUID]):
    """Records events; after any event that marks a decision, a checkpoint is signed.

    A domain event class opts in with ``checkpoint_after = True``. What needs keys the domain
    never sees is injected by the adapters: the checkpoint hook, the transcodings that encrypt
    personal data per subject, the shredder that destroys a subject's key, and where a data
    subject belongs (a read model's answer).
    """

    name = "Bewijslast"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        on_decision: Callable[[], object] | None = None,
        transcodings: Sequence[Transcoding] = (),
        shred: Callable[[UUID], None] | None = None,
        subject_owner: SubjectOwner | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.extra_transcodings = list(transcodings)
        super().__init__(env)
        self.on_decision = on_decision
        self.shred = shred
        self.subject_owner = subject_owner
        self.clock = clock
        skew = self.env.get("STATED_MOMENT_SKEW_SECONDS")
        self.skew = DEFAULT_SKEW if skew is None else timedelta(seconds=float(skew))

    def _bounded(self, command: CommandModel) -> datetime:
        """The clock's moment; no moment the command states may lie beyond it (and the skew)."""
        now = self.clock()
        for name, moment in command.stated_moments().items():
            if moment > now + self.skew:
                raise ProcedureError(f"{name} lies in the future ({moment.isoformat()})")
        return now

    def execute(self, command: CommandModel, actor: Actor) -> UUID:
        """Carry out a validated command for ``actor``, if the role table allows it there.

        Nothing is recorded when the actor may not, or when the procedure refuses the step.
        """
        now = self._bounded(command)
        if isinstance(command, StepCommand):
            return self._step(command, actor, now)
        if isinstance(command, ErasePersonalData):
            return self._erase(command, actor, now)
        if isinstance(command, RequestFGAdvice):
            authorise(actor, command.permission, command.municipality, None)
            self._referenced(command.about, command.municipality, actor)
            return self._saved(
                FGAdvice.request(
                    municipality=command.municipality,
                    about=command.about,
                    question=command.question,
                    requested_at=now,
                    actor=actor.id,
                )
            )
        if isinstance(command, CreateCommand):
            return self._create(command, actor, now)
        raise TypeError(f"no handler for {type(command).__name__}")

    def _create(self, command: CreateCommand, actor: Actor, now: datetime) -> UUID:
        municipality, controller = command.municipality, command.controller
        authorise(actor, command.permission, municipality, controller)
        if isinstance(command, ReportIncident):
            return self._saved(
                Incident.report(
                    municipality=municipality,
                    controller=controller,
                    summary=command.summary,
                    reported_at=now,
                    actor=actor.id,
                )
            )
        if isinstance(command, RegisterProcessingActivity):
            return self._saved(
                ProcessingActivity.register(
                    municipality=municipality,
                    controller=controller,
                    entry=command.entry.model_dump(mode="json"),
                    valid_from=command.valid_from,
                    actor=actor.id,
                )
            )
        if isinstance(command, ReceiveRequest):
            # A new data subject: the key under which its personal data is encrypted.
            subject = uuid4()
            return self._saved(
                RightsRequest.receive(
                    municipality=municipality,
                    controller=controller,
                    right=command.right,
                    channel=command.channel,
                    requester=PersonalData(subject, command.requester_name),
                    contact=PersonalData(subject, command.requester_contact),
                    received_at=command.received_at,
                    actor=actor.id,
                )
            )
        raise TypeError(f"no handler for {type(command).__name__}")

    def _step(self, command: StepCommand, actor: Actor, now: datetime) -> UUID:
        aggregate = self._visible(command.aggregate_id, actor)
        if not isinstance(aggregate, command.aggregate_type):
            raise ProcedureError(
                f"{command.aggregate_id} is not a {command.aggregate_type.__name__}"
            )
        municipality: str = getattr(aggregate, "municipality")  # noqa: B009
        authorise(actor, command.permission, municipality, getattr(aggregate, "controller", None))
        arguments = command.arguments()
        for value in arguments.values():
            if isinstance(value, UUID):  # a reference to another record (FG advice)
                self._referenced(value, municipality, actor)
        if command.moment is not None:
            arguments[command.moment] = now
        getattr(aggregate, command.verb)(**arguments, actor=actor.id)
        return self._saved(aggregate)

    def _visible(self, record: UUID, actor: Actor) -> Aggregate:
        """The record, if the actor holds a grant where it belongs: every record belongs to
        one municipality and, most, to one controller."""
        try:
            aggregate: Aggregate = self.repository.get(record)
        except AggregateNotFoundError:
            raise UnknownRecord(f"record {record}") from None
        municipality = getattr(aggregate, "municipality", None)
        if municipality is None or not sees(
            actor, municipality, getattr(aggregate, "controller", None)
        ):
            raise UnknownRecord(f"record {record}")
        return aggregate

    def _referenced(self, record: UUID, municipality: str, actor: Actor) -> None:
        """A record named in a command is one of the same municipality: one municipality's
        decisions never point into another's."""
        if getattr(self._visible(record, actor), "municipality", None) != municipality:
            raise UnknownRecord(f"record {record}")

    def _erase(self, command: ErasePersonalData, actor: Actor, now: datetime) -> UUID:
        """The subject's own municipality and controller decide, not the command's words."""
        if self.shred is None or self.subject_owner is None:
            raise NotConfigured("no key store is configured: personal data cannot be erased")
        owner = self.subject_owner(command.subject)
        if owner is None or owner[0] != command.municipality or not sees(actor, *owner):
            raise UnknownRecord(f"data subject {command.subject}")
        authorise(actor, command.permission, *owner)
        return self.erase_personal_data(
            command.subject,
            municipality=command.municipality,
            ground=command.ground,
            reference=command.reference,
            actor=actor.id,
            at=now,
        )

    def _saved(self, aggregate: Aggregate) -> UUID:
        self.save(aggregate)
        return aggregate.id

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        for transcoding in self.extra_transcodings:
            transcoder.register(transcoding)

    def erase_personal_data(
        self,
        subject: UUID,
        *,
        municipality: str,
        ground: ErasureGround,
        reference: str,
        actor: str,
        at: datetime | None = None,
    ) -> UUID:
        """Record the erasure in the ledger, then destroy the subject's key.

        In that order: if destroying fails, the ledger says what must be done and the call
        can be repeated; the other order could erase without a trace.
        """
        if self.shred is None:
            raise NotConfigured("no key store is configured: personal data cannot be erased")
        # One erasure per subject: its id follows from the subject, so a second (even one
        # racing this) is refused by the event store as well as here.
        try:
            self.repository.get(PersonalDataErasure.id_for(subject))
        except AggregateNotFoundError:
            pass
        else:
            raise ProcedureError(f"the personal data of subject {subject} was already erased")
        erasure = PersonalDataErasure(
            subject=subject,
            municipality=municipality,
            ground=ground,
            reference=reference,
            erased_at=self.clock() if at is None else at,
            actor=actor,
        )
        self.save(erasure)
        self.shred(subject)
        return erasure.id

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        recordings = super().save(*objs, **kwargs)
        decided = any(getattr(r.domain_event, "checkpoint_after", False) for r in recordings)
        if decided and self.on_decision is not None:
            self.on_decision()
        return recordings
