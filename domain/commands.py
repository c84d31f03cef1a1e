"""Commands: what a user asks for, validated before anything happens (pydantic).

A command that creates a record names its municipality and controller; a command on an
existing record names the record, and the record's own municipality and controller are used
for authorisation. A step command declares the aggregate verb it invokes and the name of the
moment the application's clock fills in; its fields are that verb's arguments.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.authorization import Command
from domain.fg_advice import FGAdvice
from domain.incidents import Authority, Impact, Incident, Nature
from domain.personal_data import ErasureGround
from domain.processing import ProcessingActivity, RegisterEntry, typed_changes
from domain.requests import ExtensionReason, Outcome, RefusalGround, Right, RightsRequest
from domain.values import Count, Moment, OptionalText, Text


class CommandModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    permission: ClassVar[Command]


class CreateCommand(CommandModel):
    municipality: Text
    controller: Text


class StepCommand(CommandModel):
    aggregate_id: UUID
    aggregate_type: ClassVar[type[Aggregate]]
    verb: ClassVar[str]
    moment: ClassVar[str | None] = None

    def arguments(self) -> dict[str, Any]:
        return {
            name: getattr(self, name) for name in type(self).model_fields if name != "aggregate_id"
        }


# --- register of processing activities ---------------------------------------------------------


class RegisterProcessingActivity(CreateCommand):
    permission = Command.REGISTER_PROCESSING_ACTIVITY
    entry: RegisterEntry
    valid_from: Moment


class AmendProcessingActivity(StepCommand):
    permission = Command.AMEND_PROCESSING_ACTIVITY
    aggregate_type = ProcessingActivity
    verb = "amend"
    changes: Annotated[dict[str, Any], AfterValidator(typed_changes)] = Field(min_length=1)
    valid_from: Moment


class RecordDPIA(StepCommand):
    permission = Command.AMEND_PROCESSING_ACTIVITY
    aggregate_type = ProcessingActivity
    verb, moment = "record_dpia", "recorded_at"
    outcome: Text
    residual_risk: Text
    fg_advice: UUID | None = None


class RetireProcessingActivity(StepCommand):
    permission = Command.RETIRE_PROCESSING_ACTIVITY
    aggregate_type = ProcessingActivity
    verb = "retire"
    reason: Text
    valid_from: Moment


# --- incidents and breaches --------------------------------------------------------------------


class ReportIncident(CreateCommand):
    permission = Command.REPORT_INCIDENT
    summary: Text


class TriageIncident(StepCommand):
    permission = Command.TRIAGE_INCIDENT
    aggregate_type = Incident
    verb, moment = "triage", "triaged_at"
    impact: Impact
    significant: bool = False


class ClassifyNotABreach(StepCommand):
    permission = Command.CLASSIFY_NOT_A_BREACH
    aggregate_type = Incident
    verb, moment = "classify_not_a_breach", "classified_at"
    reasons: Text


class EstablishBreach(StepCommand):
    permission = Command.ESTABLISH_BREACH
    aggregate_type = Incident
    verb = "establish_breach"
    aware_at: Moment
    natures: list[Nature] = Field(min_length=1)
    data_categories: list[Text]
    approx_subjects: Count
    approx_records: Count
    likely_consequences: Text


class ReportToAuthority(StepCommand):
    permission = Command.REPORT_TO_AUTHORITY
    aggregate_type = Incident
    verb = "report_to_authority"
    authority: Authority
    reference: Text
    reported_at: Moment


class RecordMeasure(StepCommand):
    permission = Command.RECORD_MEASURE
    aggregate_type = Incident
    verb = "record_measure"
    measure: Text
    taken_at: Moment


class DecideNotification(StepCommand):
    permission = Command.DECIDE_NOTIFICATION
    aggregate_type = Incident
    verb, moment = "decide_notification", "decided_at"
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
    verb = "submit_ap_notification"
    meldingsnummer: Text
    preliminary: bool
    form: dict[str, Any]
    late_reason: OptionalText = ""
    submitted_at: Moment


class SupplementAPNotification(StepCommand):
    permission = Command.SUPPLEMENT_AP_NOTIFICATION
    aggregate_type = Incident
    verb = "supplement_ap_notification"
    meldingsnummer: Text
    form: dict[str, Any]
    final: bool
    supplemented_at: Moment


class WithdrawAPNotification(StepCommand):
    permission = Command.WITHDRAW_AP_NOTIFICATION
    aggregate_type = Incident
    verb = "withdraw_ap_notification"
    meldingsnummer: Text
    reason: Text
    withdrawn_at: Moment


class ReclassifyNotABreach(StepCommand):
    permission = Command.RECLASSIFY_NOT_A_BREACH
    aggregate_type = Incident
    verb, moment = "reclassify_not_a_breach", "reclassified_at"
    reasons: Text


class InformSubjects(StepCommand):
    permission = Command.INFORM_SUBJECTS
    aggregate_type = Incident
    verb = "inform_subjects"
    channel: Text
    informed_at: Moment


class CloseIncident(StepCommand):
    permission = Command.CLOSE_INCIDENT
    aggregate_type = Incident
    verb, moment = "close", "closed_at"


class EvaluateIncident(StepCommand):
    permission = Command.EVALUATE_INCIDENT
    aggregate_type = Incident
    verb, moment = "evaluate", "evaluated_at"
    findings: Text


# --- FG advice ---------------------------------------------------------------------------------


class RequestFGAdvice(CommandModel):
    permission = Command.REQUEST_FG_ADVICE
    municipality: Text
    about: UUID
    question: Text


class GiveFGAdvice(StepCommand):
    permission = Command.GIVE_FG_ADVICE
    aggregate_type = FGAdvice
    verb, moment = "give", "given_at"
    advice: Text
    recommendation: Text


class AnswerFGAdvice(StepCommand):
    permission = Command.ANSWER_FG_ADVICE
    aggregate_type = FGAdvice
    verb, moment = "answer", "answered_at"
    followed: bool
    reasons: OptionalText = ""


class EscalateFGAdvice(StepCommand):
    permission = Command.ESCALATE_FG_ADVICE
    aggregate_type = FGAdvice
    verb, moment = "escalate", "escalated_at"
    to: Text
    reasons: Text


# --- rights requests ---------------------------------------------------------------------------


class ReceiveRequest(CreateCommand):
    permission = Command.RECEIVE_REQUEST
    right: Right
    channel: Text
    requester_name: Text
    requester_contact: Text
    received_at: Moment


class VerifyIdentity(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    verb, moment = "verify_identity", "verified_at"
    method: Text


class SuspendRequest(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    verb, moment = "suspend", "suspended_at"
    missing: Text


class ResumeRequest(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    verb, moment = "resume", "resumed_at"


class ExtendRequest(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    verb = "extend"
    months: int = Field(ge=1, le=2)
    reason: ExtensionReason
    explanation: Text
    requester_told_at: Moment


class DecideRequest(StepCommand):
    permission = Command.DECIDE_REQUEST
    aggregate_type = RightsRequest
    verb, moment = "decide", "decided_at"
    outcome: Outcome
    grounds: list[RefusalGround] = []
    reasons: Text


class SendDecision(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    verb = "send"
    channel: Text
    sent_at: Moment


class LodgeObjection(StepCommand):
    permission = Command.LODGE_OBJECTION
    aggregate_type = RightsRequest
    verb = "lodge_objection"
    grounds: Text
    lodged_at: Moment


class DecideOnObjection(StepCommand):
    permission = Command.DECIDE_ON_OBJECTION
    aggregate_type = RightsRequest
    verb, moment = "decide_on_objection", "decided_at"
    well_founded: bool
    reasons: Text


class CloseRequest(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    verb, moment = "close", "closed_at"


class WithdrawRequest(StepCommand):
    permission = Command.HANDLE_REQUEST
    aggregate_type = RightsRequest
    verb, moment = "withdraw", "withdrawn_at"


class ErasePersonalData(CommandModel):
    permission = Command.ERASE_PERSONAL_DATA
    municipality: Text
    subject: UUID
    ground: ErasureGround
    reference: Text
