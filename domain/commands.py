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
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from pydantic import BaseModel, ConfigDict, Field

from domain.authorization import Command
from domain.fg_advice import FGAdvice
from domain.incidents import APForm, Authority, Impact, Incident, Nature
from domain.personal_data import ErasureGround
from domain.processing import ProcessingActivity, RegisterChanges, RegisterEntry
from domain.requests import (
    Deliberation,
    ExtensionReason,
    HearingWaiver,
    NotificationExemption,
    Outcome,
    RefusalGround,
    Right,
    RightsRequest,
    SuspensionReason,
)
from domain.values import Count, Moment, OptionalText, ShortText, Text, Texts


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
    # Whether the step starts a term under Dutch law, computed with the deployment's decree
    # days (the application passes its ``TermCalendar`` as ``term_calendar``).
    awb_term: ClassVar[bool] = False
    # Whether the step records the role the actor gives it under (the mandate of a decision).
    by_role: ClassVar[bool] = False

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
    reason: SuspensionReason = SuspensionReason.MISSING_INFORMATION


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
    by_role = True
    outcome: Outcome
    grounds: list[RefusalGround] = Field(default=[], max_length=len(RefusalGround))
    reasons: Text


class SendDecision(StepCommand):
    permission = Command.SEND_DECISION
    aggregate_type = RightsRequest
    awb_term = True
    channel: ShortText
    sent_at: Moment


class LodgeObjection(StepCommand):
    permission = Command.LODGE_OBJECTION
    aggregate_type = RightsRequest
    awb_term = True
    grounds: Text
    lodged_at: Moment
    advisory_committee: bool = False  # a bezwaarcommissie advises: twelve weeks (Awb 7:10)


class DecideOnObjection(StepCommand):
    permission = Command.DECIDE_ON_OBJECTION
    aggregate_type = RightsRequest
    moment = "decided_at"
    well_founded: bool
    reasons: Text
    deliberation: Deliberation = Deliberation.ALONE


class CloseRequest(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    moment = "closed_at"


class WithdrawRequest(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    moment = "withdrawn_at"


# --- rights requests as bijlage 5 runs them, objections under the Awb (issue 14) -------------


class AcknowledgeRequest(StepCommand):
    permission = Command.ACKNOWLEDGE_REQUEST
    aggregate_type = RightsRequest
    moment = "acknowledged_at"
    channel: ShortText


class NotifyRecipients(StepCommand):
    permission = Command.NOTIFY_RECIPIENTS
    aggregate_type = RightsRequest
    moment = "notified_at"
    recipients: list[ShortText] = Field(default=[], max_length=50)
    exemption: NotificationExemption | None = None
    explanation: OptionalText = ""


class ExcuseLateness(StepCommand):
    permission = Command.DECIDE_ON_OBJECTION
    aggregate_type = RightsRequest
    moment = "excused_at"
    reasons: Text


class DeclareInadmissible(StepCommand):
    permission = Command.DECIDE_ON_OBJECTION
    aggregate_type = RightsRequest
    moment = "decided_at"
    reasons: Text


class HearObjector(StepCommand):
    permission = Command.HANDLE_OBJECTION
    aggregate_type = RightsRequest
    moment = "heard_at"
    by_committee: bool = False
    report: Text


class WaiveHearing(StepCommand):
    permission = Command.HANDLE_OBJECTION
    aggregate_type = RightsRequest
    moment = "waived_at"
    ground: HearingWaiver


class ExtendObjectionTerm(StepCommand):
    permission = Command.HANDLE_OBJECTION
    aggregate_type = RightsRequest
    moment = "extended_at"
    awb_term = True
    reasons: Text


class RecordNoticeOfDefault(StepCommand):
    permission = Command.RECORD_NOTICE_OF_DEFAULT
    aggregate_type = RightsRequest
    awb_term = True
    notice_received_at: Moment


class ErasePersonalData(CommandModel):
    permission = Command.ERASE_PERSONAL_DATA
    municipality: ShortText
    subject: UUID
    ground: ErasureGround
    reference: ShortText


def command_name(command: type[CommandModel]) -> str:
    """``TriageIncident``: ``triage-incident``; ``RecordDPIA``: ``record-dpia``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", command.__name__).lower()


# Every concrete command, by its name, in the order above.
COMMANDS: dict[str, type[CommandModel]] = {
    command_name(cls): cls
    for cls in list(globals().values())
    if isinstance(cls, type)
    and issubclass(cls, CommandModel)
    and cls not in (CommandModel, CreateCommand, StepCommand)
}
