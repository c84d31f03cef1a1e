"""The application service: the one way decisions get into the ledger."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
    LiftLegalHold,
    PlaceLegalHold,
    ReceiveRequest,
    RegisterProcessingActivity,
    RegisterProcessor,
    ReportIncident,
    ReportSentCommand,
    RequestFGAdvice,
    RunRetention,
    SignalDPIA,
    StepCommand,
    VolunteerFGAdvice,
)
from domain.deadlines import AMSTERDAM, EarlyWarningRule, TermCalendar
from domain.dpia import DPIA
from domain.errors import IdempotencyKeyReused, NotConfigured, ProcedureError, UnknownRecord
from domain.fg_advice import FGAdvice
from domain.handlers import STEP_NAMES, STEPS
from domain.incidents import Incident
from domain.organisation import (
    ORGANISATION_ID,
    DeclareOrganisation,
    Organisation,
    RegisterContacts,
)
from domain.personal_data import ErasureGround, PersonalData, PersonalDataErasure
from domain.processing import ProcessingActivity
from domain.processors import Processor
from domain.reporting import ReportKind, ReportSent
from domain.requests import RightsRequest
from domain.retention import (
    MAX_PER_RUN,
    Due,
    LegalHold,
    NothingDue,
    RecordDestruction,
    RetentionRun,
    RetentionSchedule,
    judge,
    record_type_of,
)

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)
# The municipality and controller of the request that introduced a data subject (None: none did).
SubjectOwner = Callable[[UUID], tuple[str, str] | None]
# The records of a municipality that may be due for destruction (a read model's answer): the
# application judges each from its own events.
RetentionCandidates = Callable[[str], Sequence[UUID]]
# The digest of a report of a kind, municipality, controller and period, regenerated from the
# ledger as it stood at a signed checkpoint of the size given (None: no such checkpoint).
ReportDigest = Callable[[ReportKind, str, str, date, date, int], str | None]

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


@dataclass(frozen=True)
class FirstAnswer:
    """What a command with an idempotency key answered, as stored with its events."""

    request: bytes
    record: UUID
    index: int


@dataclass(frozen=True)
class Idempotency:
    """Passed to the recorder, which stores it in the events' transaction, under the ledger's
    write lock; if the key is stored already it raises ``Repeated`` and records nothing."""

    key: bytes
    request: bytes
    record: UUID


class Repeated(Exception):
    """The recorder found the idempotency key stored: nothing was recorded this time."""

    def __init__(self, first: FirstAnswer) -> None:
        super().__init__("this idempotency key was recorded before")
        self.first = first


@dataclass(frozen=True)
class Recorded:
    """The answer to a command: its record, the ledger index of its last entry, and the size
    of a checkpoint signed right after it (``None`` when none was, or signing failed: the
    decision is recorded all the same, and the checkpointer signs it later)."""

    id: UUID
    index: int
    signed: int | None = None
    repeated: bool = False


def caller_key(actor: Actor, key: str) -> bytes:
    """Keys are the caller's own: another caller's key finds nothing."""
    return hashlib.sha256(f"{actor.id}\0{key}".encode()).digest()


def request_digest(command: CommandModel) -> bytes:
    return hashlib.sha256(
        f"{type(command).__name__}\0{command.model_dump_json()}".encode()
    ).digest()


class Bewijslast(Application[UUID]):
    """Records events; after any event that marks a decision, a checkpoint is signed.

    A domain event class opts in with ``checkpoint_after = True``. What needs keys the domain
    never sees is injected by the adapters: the checkpoint hook (it returns the size it
    signed), the transcodings that encrypt personal data per subject, the shredder that
    destroys a subject's key, and where a data subject belongs (a read model's answer). Once
    the events are committed the command has succeeded: what fails after that (signing) is
    logged and retried by the checkpointer, never raised.
    """

    name = "Bewijslast"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        on_decision: Callable[[int], int | None] | None = None,
        transcodings: Sequence[Transcoding] = (),
        shred: Callable[[UUID], None] | None = None,
        subject_owner: SubjectOwner | None = None,
        clock: Clock = utc_now,
        term_calendar: TermCalendar | None = None,
        retention: RetentionSchedule | None = None,
        retention_candidates: RetentionCandidates | None = None,
        report_digest: ReportDigest | None = None,
    ) -> None:
        self.extra_transcodings = list(transcodings)
        super().__init__(env)
        self.on_decision = on_decision
        self.shred = shred
        self.subject_owner = subject_owner
        self.clock = clock
        # Without a table (a bare application in a test), no decree days: bootstrap reads it.
        self.term_calendar = term_calendar or TermCalendar()
        self.retention = retention
        self.retention_candidates = retention_candidates
        self.report_digest = report_digest
        skew = self.env.get("STATED_MOMENT_SKEW_SECONDS")
        self.skew = DEFAULT_SKEW if skew is None else timedelta(seconds=float(skew))
        in_force = self.env.get("CYBERBEVEILIGINGSWET_IN_FORCE_FROM")
        self.early_warning_rule = EarlyWarningRule(
            None if not in_force else date.fromisoformat(in_force)
        )
        # Each command by its type: the step commands through the aggregate method ``STEPS``
        # names, the others creating their record.
        self._handlers: dict[type[CommandModel], Callable[..., Aggregate]] = {
            RegisterProcessingActivity: self._register_processing_activity,
            ReportIncident: self._report_incident,
            RequestFGAdvice: self._request_fg_advice,
            VolunteerFGAdvice: self._volunteer_fg_advice,
            ReceiveRequest: self._receive_request,
            ErasePersonalData: self._erase,
            RegisterProcessor: self._register_processor,
            SignalDPIA: self._signal_dpia,
            RunRetention: self._run_retention,
            PlaceLegalHold: self._place_legal_hold,
            LiftLegalHold: self._lift_legal_hold,
            **dict.fromkeys(ReportSentCommand.__subclasses__(), self._record_report_sent),
            **dict.fromkeys(STEPS, self._step),
        }

    def _dated_rules(self) -> dict[str, object]:
        """The rules whose content is the deployment's, by the argument name a step takes."""
        return {"term_calendar": self.term_calendar, "early_warning_rule": self.early_warning_rule}

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
        return self.record(command, actor).id

    def record(
        self, command: CommandModel, actor: Actor, idempotency_key: str | None = None
    ) -> Recorded:
        """``execute``, answering with where the events went; with an idempotency key, a repeat
        of the same request answers as the first did and records nothing, and the same key
        with another request is refused (``IdempotencyKeyReused``)."""
        if idempotency_key is None:
            return self._record_new(command, actor, None)
        key, request = caller_key(actor, idempotency_key), request_digest(command)
        first = self._first_answer(key)
        if first is None:
            try:
                return self._record_new(command, actor, (key, request))
            except Repeated as e:
                first = e.first
        if first.request != request:
            raise IdempotencyKeyReused(
                "this idempotency key was used for another request: use a new key"
            )
        if isinstance(command, ErasePersonalData) and self.shred is not None:
            # The first attempt may have ended between recording and destroying the key.
            self.shred(command.subject)
        if isinstance(command, RunRetention):
            run: Aggregate = self.repository.get(first.record)
            if isinstance(run, RetentionRun):
                self._destroy_keys(run)
        return Recorded(first.record, first.index, repeated=True)

    def _first_answer(self, key: bytes) -> FirstAnswer | None:
        find: Callable[[bytes], FirstAnswer | None] | None = getattr(
            self.recorder, "first_answer", None
        )
        if find is None:
            raise NotConfigured("this event store does not keep idempotency keys")
        return find(key)

    def _record_new(
        self, command: CommandModel, actor: Actor, keyed: tuple[bytes, bytes] | None
    ) -> Recorded:
        aggregate = self._decide(command, actor)
        extra = {} if keyed is None else {"idempotency": Idempotency(*keyed, aggregate.id)}
        with_it = aggregate.destructions if isinstance(aggregate, RetentionRun) else []
        recordings, signed = self._commit(aggregate, *with_it, **extra)
        if isinstance(aggregate, PersonalDataErasure):
            self._destroy_key(aggregate)
        if isinstance(aggregate, RetentionRun):
            self._destroy_keys(aggregate)
        return Recorded(aggregate.id, recordings[-1].notification.id - 1, signed)

    def _decide(self, command: CommandModel, actor: Actor) -> Aggregate:
        """The aggregate with the command's events pending: judged, not yet saved."""
        now = self._bounded(command)
        handler = self._handlers.get(type(command))
        if handler is None:
            raise TypeError(f"no handler for {type(command).__name__}")
        return handler(command, actor, now)

    def _owned(self, command: CreateCommand, actor: Actor) -> None:
        """A new record's owner: declared by the organisation, and within the actor's grants."""
        self.check_owner(command.municipality, command.controller)
        authorise(actor, command.permission, command.municipality, command.controller)

    def _report_incident(self, command: ReportIncident, actor: Actor, now: datetime) -> Incident:
        self._owned(command, actor)
        return Incident.report(
            municipality=command.municipality,
            controller=command.controller,
            summary=command.summary,
            reported_at=now,
            actor=actor.id,
        )

    def _register_processing_activity(
        self, command: RegisterProcessingActivity, actor: Actor, now: datetime
    ) -> ProcessingActivity:
        self._owned(command, actor)
        self._of_kind(command, command, actor)
        return ProcessingActivity.register(
            municipality=command.municipality,
            controller=command.controller,
            entry=command.entry.model_dump(mode="json"),
            valid_from=command.valid_from,
            actor=actor.id,
        )

    def _receive_request(
        self, command: ReceiveRequest, actor: Actor, now: datetime
    ) -> RightsRequest:
        self._owned(command, actor)
        # A new data subject: the key under which its personal data is encrypted.
        subject = uuid4()
        return RightsRequest.receive(
            municipality=command.municipality,
            controller=command.controller,
            right=command.right,
            channel=command.channel,
            requester=PersonalData(subject, command.requester_name),
            contact=PersonalData(subject, command.requester_contact),
            received_at=command.received_at,
            actor=actor.id,
        )

    def _request_fg_advice(self, command: RequestFGAdvice, actor: Actor, now: datetime) -> FGAdvice:
        self._advice_about(command, actor)
        return FGAdvice.request(
            municipality=command.municipality,
            about=command.about,
            question=command.question,
            requested_at=now,
            actor=actor.id,
        )

    def _step(self, command: StepCommand, actor: Actor, now: datetime) -> Aggregate:
        aggregate = self._visible(command.aggregate_id, actor)
        if not isinstance(aggregate, command.aggregate_type):
            raise ProcedureError(
                f"{command.aggregate_id} is not a {command.aggregate_type.__name__}"
            )
        municipality: str = getattr(aggregate, "municipality")  # noqa: B009
        role = authorise(
            actor, command.permission, municipality, getattr(aggregate, "controller", None)
        )
        arguments = command.arguments()
        for value in arguments.values():
            if isinstance(value, UUID):  # a reference to another record (FG advice)
                self._referenced(value, municipality, actor)
        advice = arguments.get("fg_advice")
        if isinstance(advice, UUID):
            self._advised(advice, aggregate, actor)
        if command.moment is not None:
            arguments[command.moment] = now
        self._of_kind(command, aggregate, actor)
        if command.dated_rule is not None:
            arguments[command.dated_rule] = self._dated_rules()[command.dated_rule]
        if command.by_role:
            arguments["role"] = role
        try:
            STEPS[type(command)](aggregate, **arguments, actor=actor.id)
        except ProcedureError as refused:
            # The aggregate names the steps allowed now by its methods; the user knows commands.
            raise refused.named(STEP_NAMES[command.aggregate_type]) from None
        return aggregate

    def _register_processor(
        self, command: RegisterProcessor, actor: Actor, now: datetime
    ) -> Processor:
        self._owned(command, actor)
        return Processor.register(
            municipality=command.municipality,
            controller=command.controller,
            name=command.name,
            registered_at=now,
            actor=actor.id,
        )

    def _of_kind(
        self, command: CommandModel, owner: Aggregate | CreateCommand, actor: Actor
    ) -> None:
        """The records a command names that must be of one kind (a processor) belong to the
        controller of the record they are named in: its agreement is that controller's."""
        named: list[tuple[UUID, type[Aggregate]]] = []
        if isinstance(command, StepCommand):
            named = [(getattr(command, f), kind) for f, kind in command.references.items()]
        entry = getattr(command, "entry", None) or getattr(command, "changes", None)
        named += [(p, Processor) for p in (getattr(entry, "processor_ids", None) or [])]
        for record, kind in named:
            found = self._visible(record, actor)
            if not isinstance(found, kind) or (
                getattr(found, "municipality", None),
                getattr(found, "controller", None),
            ) != (getattr(owner, "municipality", None), getattr(owner, "controller", None)):
                raise UnknownRecord(f"{kind.__name__.lower()} {record}")

    def _signal_dpia(self, command: SignalDPIA, actor: Actor, now: datetime) -> DPIA:
        """Step 1 of bijlage 4: about the activity's register version as it stands now."""
        activity = self._visible(command.activity, actor)
        if not isinstance(activity, ProcessingActivity):
            raise UnknownRecord(f"processing activity {command.activity}")
        authorise(actor, command.permission, activity.municipality, activity.controller)
        if activity.retired:
            raise ProcedureError("a retired processing activity needs no DPIA")
        return DPIA.signal(
            municipality=activity.municipality,
            controller=activity.controller,
            activity=activity.id,
            register_version=activity.version_uri,
            register_requires=bool(activity.entry["dpia_required"]),
            trigger=command.trigger,
            description=command.description,
            signalled_at=now,
            actor=actor.id,
        )

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

    def _advice_about(self, command: RequestFGAdvice | VolunteerFGAdvice, actor: Actor) -> None:
        """FG advice, asked or given unasked, is of one municipality (no controller: the FG
        advises them all) and about a record of that same municipality."""
        self.check_owner(command.municipality)
        authorise(actor, command.permission, command.municipality, None)
        self._referenced(command.about, command.municipality, actor)

    def _volunteer_fg_advice(
        self, command: VolunteerFGAdvice, actor: Actor, now: datetime
    ) -> FGAdvice:
        self._advice_about(command, actor)
        return FGAdvice.volunteer(
            municipality=command.municipality,
            about=command.about,
            advice=command.advice,
            recommendation=command.recommendation,
            given_at=now,
            actor=actor.id,
        )

    def _advised(self, advice: UUID, decided: Aggregate, actor: Actor) -> None:
        """The rule for every command's ``fg_advice`` (art. 38(1), 39(1)): a decision rests on
        advice the FG gave about that very record, never on a request still unanswered nor
        on advice about something else."""
        found = self._visible(advice, actor)
        if not isinstance(found, FGAdvice) or found.about != decided.id:
            raise ProcedureError(f"{advice} is no FG advice about {decided.id}")
        if not found.given:
            raise ProcedureError(f"the FG has not given advice {advice} yet")

    def _erase(
        self, command: ErasePersonalData, actor: Actor, now: datetime
    ) -> PersonalDataErasure:
        """The subject's own municipality and controller decide, not the command's words."""
        self.check_owner(command.municipality)
        if self.shred is None or self.subject_owner is None:
            raise NotConfigured("no key store is configured: personal data cannot be erased")
        owner = self.subject_owner(command.subject)
        if owner is None or owner[0] != command.municipality or not sees(actor, *owner):
            raise UnknownRecord(f"data subject {command.subject}")
        authorise(actor, command.permission, *owner)
        return self._erasure(
            command.subject,
            municipality=command.municipality,
            ground=command.ground,
            reference=command.reference,
            actor=actor.id,
            at=now,
        )

    # --- retention and destruction ------------------------------------------------------------

    def _schedule(self) -> tuple[RetentionSchedule, RetentionCandidates]:
        if self.retention is None or self.retention_candidates is None:
            raise NotConfigured("no Selectielijst table is configured: nothing can be judged due")
        return self.retention, self.retention_candidates

    def _due(self, municipality: str, now: datetime) -> tuple[list[Due], list[Due]]:
        schedule, candidates = self._schedule()
        today = now.astimezone(AMSTERDAM).date()
        due: list[Due] = []
        held: list[Due] = []
        for record_id in candidates(municipality):
            if self._exists(RecordDestruction.id_for(record_id)):
                continue
            record: Aggregate = self.repository.get(record_id)
            if getattr(record, "municipality", None) != municipality:
                continue
            rule = schedule.rule(record_type_of(record))
            events = list(self.repository.event_store.get(record_id))
            found = judge(record, events, rule, today)
            if found is None:
                continue
            hold = self._hold(record_id)
            (held if hold is not None and hold.held else due).append(found)
        return due, held

    def _exists(self, record: UUID) -> bool:
        try:
            self.repository.get(record)
        except AggregateNotFoundError:
            return False
        return True

    def _not_destroyed(self, record: UUID) -> None:
        """A destroyed record's hold can be neither placed nor lifted: its key is gone."""
        if self._exists(RecordDestruction.id_for(record)):
            raise ProcedureError(f"record {record} was destroyed")

    def _hold(self, record: UUID) -> LegalHold | None:
        try:
            hold: LegalHold = self.repository.get(LegalHold.id_for(record))
        except AggregateNotFoundError:
            return None
        return hold

    def _run_retention(self, command: RunRetention, actor: Actor, now: datetime) -> RetentionRun:
        """Judged here and stored: which records are due today, under which rule, and which a
        legal hold keeps; their keys are destroyed once the run is recorded."""
        self.check_owner(command.municipality)
        authorise(actor, command.permission, command.municipality, None)
        if self.shred is None:
            raise NotConfigured("no key store is configured: nothing can be destroyed")
        schedule, _ = self._schedule()
        due, held = self._due(command.municipality, now)
        if not due:
            raise NothingDue("nothing is due for destruction today")
        due = due[:MAX_PER_RUN]
        run = RetentionRun(
            municipality=command.municipality,
            schedule=schedule.version,
            today=now.astimezone(AMSTERDAM).date(),
            destroyed=[d.record for d in due],
            held=[h.record for h in held],
            ran_at=now,
            actor=actor.id,
        )
        run.destructions = [
            RecordDestruction.of(
                d,
                schedule=schedule.version,
                run=run.id,
                destroyed_at=now,
                actor=actor.id,
            )
            for d in due
        ]
        return run

    def _destroy_keys(self, run: RetentionRun) -> None:
        """After the run is recorded: each destroyed record's keys, and its legal hold's (whose
        reasons were sealed under it). Safe to repeat."""
        if self.shred is None:  # checked before the run was recorded
            raise NotConfigured("no key store is configured: nothing can be destroyed")
        for record in run.destroyed:
            destruction: RecordDestruction = self.repository.get(RecordDestruction.id_for(record))
            for key in destruction.keys:
                self.shred(key)
            if self._hold(record) is not None:
                self.shred(LegalHold.id_for(record))

    def _place_legal_hold(self, command: PlaceLegalHold, actor: Actor, now: datetime) -> LegalHold:
        record = self._visible(command.record, actor)
        municipality: str = getattr(record, "municipality")  # noqa: B009
        authorise(actor, command.permission, municipality, getattr(record, "controller", None))
        self._not_destroyed(record.id)
        hold = self._hold(record.id)
        if hold is None:
            return LegalHold.place(
                record=record, reasons=command.reasons, placed_at=now, actor=actor.id
            )
        hold.place_again(reasons=command.reasons, placed_at=now, actor=actor.id)
        return hold

    def _lift_legal_hold(self, command: LiftLegalHold, actor: Actor, now: datetime) -> LegalHold:
        record = self._visible(command.record, actor)
        municipality: str = getattr(record, "municipality")  # noqa: B009
        authorise(actor, command.permission, municipality, getattr(record, "controller", None))
        self._not_destroyed(record.id)
        hold = self._hold(record.id)
        if hold is None:
            raise ProcedureError(f"record {record.id} is not under a legal hold")
        hold.lift(reasons=command.reasons, lifted_at=now, actor=actor.id)
        return hold

    # --- reporting duties ------------------------------------------------------------------------

    def _record_report_sent(
        self, command: ReportSentCommand, actor: Actor, now: datetime
    ) -> ReportSent:
        """The report is regenerated at the checkpoint named: only the digest it has there is
        recorded, so the fact says what was sent."""
        self._owned(command, actor)
        if self.report_digest is None:
            raise NotConfigured("no signed ledger is configured: a report cannot be regenerated")
        args = (command.municipality, command.controller, command.period_from, command.period_to)
        digest = self.report_digest(command.kind, *args, command.checkpoint_size)
        if digest is None:
            raise ProcedureError(f"no signed checkpoint has size {command.checkpoint_size}")
        if digest != command.report_digest:
            raise ProcedureError(
                f"the report regenerated at checkpoint {command.checkpoint_size} has digest "
                f"{digest}, not {command.report_digest}: record the report as it was sent"
            )
        return ReportSent.send(
            municipality=command.municipality,
            controller=command.controller,
            kind=command.kind,
            period_from=command.period_from,
            period_to=command.period_to,
            recipients=command.recipients,
            sent_at=command.sent_at,
            checkpoint_size=command.checkpoint_size,
            report_digest=digest,
            actor=actor.id,
        )

    # --- the organisation ------------------------------------------------------------------------

    def organisation(self) -> Organisation | None:
        """The declared organisation; None while nothing was declared."""
        try:
            found: Organisation = self.repository.get(ORGANISATION_ID)
        except AggregateNotFoundError:
            return None
        return found

    def register_contacts(self, municipality: str) -> RegisterContacts:
        """Art. 30(1)(a)'s contact details for a municipality's register, as declared."""
        organisation = self.organisation()
        if organisation is None:
            return RegisterContacts(controller="", fg_name="", fg_contact="")
        return organisation.register_contacts(municipality)

    def declare_organisation(self, declaration: DeclareOrganisation, *, operator: str) -> int:
        """Record what ``declaration`` adds to the organisation; how many events that took.

        The deployment's operator declares who the municipal roles work for, so this is not a
        command of the role table, and not one of the API.
        """
        organisation = self.organisation() or Organisation(actor=operator)
        added = organisation.declare(declaration, actor=operator)
        if organisation.pending_events:
            self.save(organisation)
        return added

    def check_owner(self, municipality: str, controller: str | None = None) -> None:
        """Refuses an owner the organisation does not declare. A ledger that never declared
        its organisation (recorded before there was one) accepts any, as it always did."""
        organisation = self.organisation()
        if organisation is not None:
            organisation.check(municipality, controller)

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
        erasure = self._erasure(
            subject,
            municipality=municipality,
            ground=ground,
            reference=reference,
            actor=actor,
            at=self.clock() if at is None else at,
        )
        self.save(erasure)
        self._destroy_key(erasure)
        return erasure.id

    def _erasure(
        self,
        subject: UUID,
        *,
        municipality: str,
        ground: ErasureGround,
        reference: str,
        actor: str,
        at: datetime,
    ) -> PersonalDataErasure:
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
        return PersonalDataErasure(
            subject=subject,
            municipality=municipality,
            ground=ground,
            reference=reference,
            erased_at=at,
            actor=actor,
        )

    def _destroy_key(self, erasure: PersonalDataErasure) -> None:
        if self.shred is None:  # checked before the erasure was recorded
            raise NotConfigured("no key store is configured: personal data cannot be erased")
        self.shred(erasure.subject)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        return self._commit(*objs, **kwargs)[0]

    def _commit(self, *objs: Any, **kwargs: Any) -> tuple[list[Recording[UUID]], int | None]:
        """Save; after a decision, sign. The events are committed when ``super().save``
        returns, so a failure to sign is the checkpointer's to retry and report, not the
        command's: it is logged and the size signed is ``None``."""
        recordings = super().save(*objs, **kwargs)
        decided = any(getattr(r.domain_event, "checkpoint_after", False) for r in recordings)
        if not decided or self.on_decision is None:
            return recordings, None
        try:
            # The ledger's size once these are in: the checkpoint must hold that many.
            return recordings, self.on_decision(recordings[-1].notification.id)
        except Exception:
            log.exception("recorded, but no checkpoint signed after it yet")
            return recordings, None
