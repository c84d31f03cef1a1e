"""Commands: what a user asks for, validated before anything happens (pydantic).

A command that creates a record names its municipality and controller; a command on an
existing record names the record, and the record's own municipality and controller are used
for authorisation. A step command declares its aggregate and the name of the moment the
application's clock fills in; its fields are the arguments of the aggregate method that
``domain.handlers`` carries it out with. A command's name (``command_name``) is its route in
the API and its name in the procedure's hints of what is allowed now.

Every field is typed and bounded (``domain.values``): no free-form dictionaries, no untyped values.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.authorization import Command
from domain.fg_advice import FGAdvice
from domain.incidents import APForm, Authority, Impact, Incident, Nature
from domain.personal_data import ErasureGround
from domain.processing import ProcessingActivity, RegisterChanges, RegisterEntry
from domain.reporting import Recipient, ReportKind
from domain.requests import ExtensionReason, Outcome, RefusalGround, Right, RightsRequest
from domain.values import (
    EARLIEST,
    LATEST,
    Count,
    Moment,
    OptionalText,
    ShortText,
    Text,
    Texts,
)


class CommandModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    permission: ClassVar[Command]
    # Moments that say from when something applies, not when it happened: a register version
    # may be decided before the date it takes effect.
    planned: ClassVar[frozenset[str]] = frozenset()

    def stated_moments(self) -> dict[str, datetime]:
        """The moments the user says happened, which the application bounds by its clock."""
        return {
            name: value
            for name in type(self).model_fields
            if name not in self.planned and isinstance(value := getattr(self, name), datetime)
        }


class CreateCommand(CommandModel):
    municipality: ShortText
    controller: ShortText


class StepCommand(CommandModel):
    aggregate_id: UUID
    aggregate_type: ClassVar[type[Aggregate]]
    moment: ClassVar[str | None] = None

    def arguments(self) -> dict[str, object]:
        return {
            name: getattr(self, name) for name in type(self).model_fields if name != "aggregate_id"
        }


# --- register of processing activities ---------------------------------------------------------


class RegisterProcessingActivity(CreateCommand):
    permission = Command.REGISTER_PROCESSING_ACTIVITY
    planned = frozenset({"valid_from"})
    entry: RegisterEntry
    valid_from: Moment


class AmendProcessingActivity(StepCommand):
    permission = Command.AMEND_PROCESSING_ACTIVITY
    planned = frozenset({"valid_from"})
    aggregate_type = ProcessingActivity
    changes: RegisterChanges
    valid_from: Moment


class RecordDPIA(StepCommand):
    permission = Command.AMEND_PROCESSING_ACTIVITY
    aggregate_type = ProcessingActivity
    moment = "recorded_at"
    outcome: Text
    residual_risk: Text
    fg_advice: UUID | None = None


class RetireProcessingActivity(StepCommand):
    permission = Command.RETIRE_PROCESSING_ACTIVITY
    planned = frozenset({"valid_from"})
    aggregate_type = ProcessingActivity
    reason: Text
    valid_from: Moment


# --- incidents and breaches --------------------------------------------------------------------


class ReportIncident(CreateCommand):
    permission = Command.REPORT_INCIDENT
    summary: Text


class TriageIncident(StepCommand):
    permission = Command.TRIAGE_INCIDENT
    aggregate_type = Incident
    moment = "triaged_at"
    impact: Impact
    significant: bool = False


class ClassifyNotABreach(StepCommand):
    permission = Command.CLASSIFY_NOT_A_BREACH
    aggregate_type = Incident
    moment = "classified_at"
    reasons: Text


class EstablishBreach(StepCommand):
    permission = Command.ESTABLISH_BREACH
    aggregate_type = Incident
    moment = "established_at"
    aware_at: Moment
    natures: list[Nature] = Field(min_length=1, max_length=3)
    data_categories: Texts
    approx_subjects: Count
    approx_records: Count
    likely_consequences: Text


class ReportToAuthority(StepCommand):
    permission = Command.REPORT_TO_AUTHORITY
    aggregate_type = Incident
    authority: Authority
    reference: ShortText
    reported_at: Moment


class RecordMeasure(StepCommand):
    permission = Command.RECORD_MEASURE
    aggregate_type = Incident
    measure: Text
    taken_at: Moment


class DecideNotification(StepCommand):
    permission = Command.DECIDE_NOTIFICATION
    aggregate_type = Incident
    moment = "decided_at"
    notify_ap: bool
    ap_reasons: Text
    inform_subjects: bool
    subjects_reasons: Text
    fg_advice: UUID | None = None
    fg_advice_followed: bool | None = None
    departure_reasons: OptionalText = ""


class SubmitAPNotification(StepCommand):
    permission = Command.SUBMIT_AP_NOTIFICATION
    aggregate_type = Incident
    meldingsnummer: ShortText
    preliminary: bool
    form: APForm
    late_reason: OptionalText = ""
    submitted_at: Moment


class SupplementAPNotification(StepCommand):
    permission = Command.SUPPLEMENT_AP_NOTIFICATION
    aggregate_type = Incident
    meldingsnummer: ShortText
    form: APForm
    final: bool
    supplemented_at: Moment


class WithdrawAPNotification(StepCommand):
    permission = Command.WITHDRAW_AP_NOTIFICATION
    aggregate_type = Incident
    meldingsnummer: ShortText
    reason: Text
    withdrawn_at: Moment


class ReclassifyNotABreach(StepCommand):
    permission = Command.RECLASSIFY_NOT_A_BREACH
    aggregate_type = Incident
    moment = "reclassified_at"
    reasons: Text


class InformSubjects(StepCommand):
    permission = Command.INFORM_SUBJECTS
    aggregate_type = Incident
    channel: ShortText
    informed_at: Moment


class CloseIncident(StepCommand):
    permission = Command.CLOSE_INCIDENT
    aggregate_type = Incident
    moment = "closed_at"


class EvaluateIncident(StepCommand):
    permission = Command.EVALUATE_INCIDENT
    aggregate_type = Incident
    moment = "evaluated_at"
    findings: Text


# --- FG advice ---------------------------------------------------------------------------------


class RequestFGAdvice(CommandModel):
    permission = Command.REQUEST_FG_ADVICE
    municipality: ShortText
    about: UUID
    question: Text


class GiveFGAdvice(StepCommand):
    permission = Command.GIVE_FG_ADVICE
    aggregate_type = FGAdvice
    moment = "given_at"
    advice: Text
    recommendation: Text


class AnswerFGAdvice(StepCommand):
    permission = Command.ANSWER_FG_ADVICE
    aggregate_type = FGAdvice
    moment = "answered_at"
    followed: bool
    reasons: OptionalText = ""


class EscalateFGAdvice(StepCommand):
    permission = Command.ESCALATE_FG_ADVICE
    aggregate_type = FGAdvice
    moment = "escalated_at"
    to: ShortText
    reasons: Text


# --- rights requests ---------------------------------------------------------------------------


class ReceiveRequest(CreateCommand):
    permission = Command.RECEIVE_REQUEST
    right: Right
    channel: ShortText
    requester_name: ShortText
    requester_contact: ShortText
    received_at: Moment


class VerifyIdentity(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    moment = "verified_at"
    method: Text


class SuspendRequest(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    moment = "suspended_at"
    missing: Text


class ResumeRequest(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    moment = "resumed_at"


class ExtendRequest(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    months: int = Field(ge=1, le=2)
    reason: ExtensionReason
    explanation: Text
    requester_told_at: Moment


class DecideRequest(StepCommand):
    permission = Command.DECIDE_REQUEST
    aggregate_type = RightsRequest
    moment = "decided_at"
    outcome: Outcome
    grounds: list[RefusalGround] = Field(default=[], max_length=len(RefusalGround))
    reasons: Text


class SendDecision(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    channel: ShortText
    sent_at: Moment


class LodgeObjection(StepCommand):
    permission = Command.LODGE_OBJECTION
    aggregate_type = RightsRequest
    grounds: Text
    lodged_at: Moment


class DecideOnObjection(StepCommand):
    permission = Command.DECIDE_ON_OBJECTION
    aggregate_type = RightsRequest
    moment = "decided_at"
    well_founded: bool
    reasons: Text


class CloseRequest(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    moment = "closed_at"


class WithdrawRequest(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    moment = "withdrawn_at"


class ErasePersonalData(CommandModel):
    permission = Command.ERASE_PERSONAL_DATA
    municipality: ShortText
    subject: UUID
    ground: ErasureGround
    reference: ShortText


# --- retention and destruction -----------------------------------------------------------------


class RunRetention(CommandModel):
    """Destroy what is due today in one municipality (the application judges what is)."""

    permission = Command.RUN_RETENTION
    municipality: ShortText


class PlaceLegalHold(CommandModel):
    """Stop the destruction of one record; the municipality is the record's own."""

    permission = Command.PLACE_LEGAL_HOLD
    record: UUID
    reasons: Text


class LiftLegalHold(CommandModel):
    """Release a record from its legal hold: its retention period applies again."""

    permission = Command.LIFT_LEGAL_HOLD
    record: UUID
    reasons: Text


# --- reporting duties ------------------------------------------------------------------------


# A calendar day within the years every read model computes with (as ``Moment``).
Day = Annotated[date, Field(ge=EARLIEST.date(), le=LATEST.date())]


class ReportSentCommand(CreateCommand):
    """A report sent: the checkpoint it was built under and the digest of it as sent; the
    application regenerates it there and refuses a digest that differs."""

    kind: ClassVar[ReportKind]
    period_from: Day
    period_to: Day
    recipients: list[Recipient] = Field(min_length=1, max_length=len(Recipient))
    sent_at: Moment
    checkpoint_size: int = Field(ge=1, le=2**62)
    report_digest: Annotated[str, StringConstraints(pattern="^[0-9a-f]{64}$")]


class RecordFGAnnualReport(ReportSentCommand):
    """The FG's annual report, sent to raad, college and burgemeester."""

    permission = Command.RECORD_FG_ANNUAL_REPORT
    kind = ReportKind.FG_ANNUAL_REPORT


class RecordBreachRegisterEvaluation(ReportSentCommand):
    """The annual evaluation of the register of security incidents, sent."""

    permission = Command.RECORD_BREACH_REGISTER_EVALUATION
    kind = ReportKind.BREACH_REGISTER_EVALUATION


class RecordCISOQuarterlyReport(ReportSentCommand):
    """The CISO's quarterly report, sent."""

    permission = Command.RECORD_CISO_QUARTERLY_REPORT
    kind = ReportKind.CISO_QUARTERLY_REPORT


def command_name(command: type[CommandModel]) -> str:
    """``TriageIncident``: ``triage-incident``; ``RecordDPIA``: ``record-dpia``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", command.__name__).lower()


# Every concrete command, by its name, in the order above.
COMMANDS: dict[str, type[CommandModel]] = {
    command_name(cls): cls
    for cls in list(globals().values())
    if isinstance(cls, type)
    and issubclass(cls, CommandModel)
    and cls not in (CommandModel, CreateCommand, StepCommand, ReportSentCommand)
}
