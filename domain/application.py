"""The application service: the one way decisions get into the ledger."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Recording, Transcoding

from domain.authorization import Actor, authorise
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
from domain.errors import NotConfigured, ProcedureError
from domain.fg_advice import FGAdvice
from domain.incidents import Incident
from domain.organisation import ORGANISATION_ID, DeclareOrganisation, Organisation
from domain.personal_data import ErasureGround, PersonalData, PersonalDataErasure
from domain.processing import ProcessingActivity
from domain.requests import RightsRequest

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Bewijslast(Application[UUID]):
    """Records events; after any event that marks a decision, a checkpoint is signed.

    A domain event class opts in with ``checkpoint_after = True``. What needs keys the domain
    never sees is injected by the adapters: the checkpoint hook, the transcodings that encrypt
    personal data per subject, and the shredder that destroys a subject's key.
    """

    name = "Bewijslast"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        on_decision: Callable[[], object] | None = None,
        transcodings: Sequence[Transcoding] = (),
        shred: Callable[[UUID], None] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.extra_transcodings = list(transcodings)
        super().__init__(env)
        self.on_decision = on_decision
        self.shred = shred
        self.clock = clock

    def execute(self, command: CommandModel, actor: Actor) -> UUID:
        """Carry out a validated command for ``actor``, if the role table allows it there.

        Nothing is recorded when the actor may not, or when the procedure refuses the step.
        """
        if isinstance(command, StepCommand):
            return self._step(command, actor)
        if isinstance(command, ErasePersonalData | RequestFGAdvice):
            self.check_owner(command.municipality)
        if isinstance(command, ErasePersonalData):
            authorise(actor, command.permission, command.municipality, None)
            return self.erase_personal_data(
                command.subject,
                municipality=command.municipality,
                ground=command.ground,
                reference=command.reference,
                actor=actor.id,
            )
        if isinstance(command, RequestFGAdvice):
            authorise(actor, command.permission, command.municipality, None)
            return self._saved(
                FGAdvice(
                    municipality=command.municipality,
                    about=command.about,
                    question=command.question,
                    requested_at=self.clock(),
                    actor=actor.id,
                )
            )
        if isinstance(command, CreateCommand):
            return self._create(command, actor)
        raise TypeError(f"no handler for {type(command).__name__}")

    def _create(self, command: CreateCommand, actor: Actor) -> UUID:
        municipality, controller = command.municipality, command.controller
        self.check_owner(municipality, controller)
        authorise(actor, command.permission, municipality, controller)
        now = self.clock()
        if isinstance(command, ReportIncident):
            return self._saved(
                Incident(
                    municipality=municipality,
                    controller=controller,
                    summary=command.summary,
                    reported_at=now,
                    actor=actor.id,
                )
            )
        if isinstance(command, RegisterProcessingActivity):
            return self._saved(
                ProcessingActivity(
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
                RightsRequest(
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

    def _step(self, command: StepCommand, actor: Actor) -> UUID:
        aggregate: Aggregate = self.repository.get(command.aggregate_id)
        if not isinstance(aggregate, command.aggregate_type):
            raise ProcedureError(
                f"{command.aggregate_id} is not a {command.aggregate_type.__name__}"
            )
        # Every record belongs to one municipality and, most, to one controller.
        municipality: str = getattr(aggregate, "municipality")  # noqa: B009
        authorise(actor, command.permission, municipality, getattr(aggregate, "controller", None))
        arguments = command.arguments()
        if command.moment is not None:
            arguments[command.moment] = self.clock()
        getattr(aggregate, command.verb)(**arguments, actor=actor.id)
        return self._saved(aggregate)

    # --- the organisation ------------------------------------------------------------------------

    def organisation(self) -> Organisation | None:
        """The declared organisation; None while nothing was declared."""
        try:
            found: Organisation = self.repository.get(ORGANISATION_ID)
        except AggregateNotFoundError:
            return None
        return found

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

    def _saved(self, aggregate: Aggregate) -> UUID:
        self.save(aggregate)
        return aggregate.id

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
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
    ) -> UUID:
        """Record the erasure in the ledger, then destroy the subject's key.

        In that order: if destroying fails, the ledger says what must be done and the call
        can be repeated; the other order could erase without a trace.
        """
        if self.shred is None:
            raise NotConfigured("no key store is configured: personal data cannot be erased")
        erasure = PersonalDataErasure(
            subject=subject,
            municipality=municipality,
            ground=ground,
            reference=reference,
            erased_at=self.clock(),
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
