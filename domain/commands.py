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
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Annotated, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.authorization import Command
from domain.dpia import (
    DPIA,
    MAX_RISKS,
    APAnswer,
    APListItem,
    Art35Case,
    Decision,
    EDPBCriterion,
    FGOpinion,
    Risk,
    RiskLevel,
    TeamRole,
    Trigger,
)
from domain.fg_advice import FGAdvice, WithoutFGAdvice
from domain.incidents import (
    APForm,
    APFormChanges,
    Impact,
    Incident,
    IRTMember,
    Nature,
    Recipient,
    SubjectsNotInformedGround,
)
from domain.personal_data import ErasureGround
from domain.processing import ProcessingActivity, RegisterChanges, RegisterEntry
from domain.processors import Agreement, Processor
from domain.reporting import ReportKind, ReportRecipient
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
from domain.values import Count, Day, Moment, OptionalText, Sha256, ShortText, Text, Texts


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
    # A rule whose content is the deployment's configuration (a date a law takes effect, the
    # decree days of the Atw): the name of the argument the application fills with it, for the
    # method to judge by (``Bewijslast._dated_rules``).
    dated_rule: ClassVar[str | None] = None
    # Reference fields that must name a record of one kind, of the same controller.
    references: ClassVar[Mapping[str, type[Aggregate]]] = MappingProxyType({})
    # Whether the step records the role the actor gives it under (the mandate of a decision).
    by_role: ClassVar[bool] = False

    def arguments(self) -> dict[str, object]:
        return {
            name: getattr(self, name) for name in type(self).model_fields if name != "aggregate_id"
        }


class AfterFGAdvice(StepCommand):
    """A decision the seeds put after the FG's advice: it names the advice the FG gave about
    this record (``fg_advice``; the application checks that it is given and about this
    record, as it does for every command's ``fg_advice``), or says why none was asked."""

    fg_advice: UUID | None = None
    without_fg_advice: WithoutFGAdvice | None = None

    @model_validator(mode="after")
    def _advised_or_why_not(self) -> AfterFGAdvice:
        if (self.fg_advice is None) == (self.without_fg_advice is None):
            raise ValueError(
                "name the FG's advice (fg_advice) or say why none was asked (without_fg_advice)"
            )
        return self


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


class RecordMeasure(StepCommand):
    permission = Command.RECORD_MEASURE
    aggregate_type = Incident
    measure: Text
    taken_at: Moment


class DecideNotification(AfterFGAdvice):
    permission = Command.DECIDE_NOTIFICATION
    aggregate_type = Incident
    moment = "decided_at"
    notify_ap: bool
    ap_reasons: Text
    inform_subjects: bool
    subjects_reasons: Text
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
    meldingsnummer: ShortText  # the AP's number of the notification supplemented
    changes: APFormChanges
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


class InformFG(StepCommand):
    """The local CISO informs the FG of a (suspected) breach: seed 002 bijlage 3 step 3, and
    §2.1.1.4 (the CISO "informeert de FG wanneer zich een datalek of beveiligingsincident
    voordoet")."""

    permission = Command.INFORM_FG
    aggregate_type = Incident
    informed_at: Moment


class EvaluateIncident(StepCommand):
    permission = Command.EVALUATE_INCIDENT
    aggregate_type = Incident
    moment = "evaluated_at"
    findings: Text


# --- the incident response team (seed 002 bijlage 3, steps 10-38) ----------------------------


class ConveneIRT(StepCommand):
    permission = Command.CONVENE_IRT
    aggregate_type = Incident
    moment = "convened_at"
    members: list[IRTMember] = Field(min_length=1, max_length=len(IRTMember))
    notes: OptionalText = ""


class AssessIncident(StepCommand):
    permission = Command.ASSESS_INCIDENT
    aggregate_type = Incident
    moment = "assessed_at"
    likely_breach: bool
    ap_pre_notification: bool
    investigation: Text


class AssessCriminalActivity(StepCommand):
    permission = Command.ASSESS_INCIDENT
    aggregate_type = Incident
    moment = "assessed_at"
    criminal: bool
    reasons: Text


class ConsultMayor(StepCommand):
    permission = Command.FILE_AANGIFTE
    aggregate_type = Incident
    file_aangifte: bool
    reasons: Text
    consulted_at: Moment


class FileAangifte(StepCommand):
    permission = Command.FILE_AANGIFTE
    aggregate_type = Incident
    reference: ShortText
    filed_at: Moment


class RecordEvidence(StepCommand):
    permission = Command.RECORD_EVIDENCE
    aggregate_type = Incident
    description: Text
    custodian: ShortText
    kept_at: ShortText
    sha256: Sha256 = ""
    collected_at: Moment


class HandOverEvidence(StepCommand):
    permission = Command.RECORD_EVIDENCE
    aggregate_type = Incident
    item: int = Field(ge=1, le=100_000)
    custodian: ShortText
    kept_at: ShortText
    reason: Text
    receipt_signed: bool
    handed_over_at: Moment


class InformParty(StepCommand):
    permission = Command.INFORM_PARTY
    aggregate_type = Incident
    recipient: Recipient
    party: OptionalText = ""
    reference: ShortText
    informed_at: Moment


class InformGovernment(StepCommand):
    permission = Command.INFORM_GOVERNMENT
    aggregate_type = Incident
    recipient: Recipient
    party: OptionalText = ""
    reference: ShortText
    informed_at: Moment


class RecordTimeAndCosts(StepCommand):
    permission = Command.RECORD_TIME_AND_COSTS
    aggregate_type = Incident
    moment = "recorded_at"
    hours: int = Field(ge=0, le=1_000_000)
    costs_eur: int = Field(ge=0, le=1_000_000_000)
    description: OptionalText = ""


class RecordSubjectsNotInformed(StepCommand):
    permission = Command.RECORD_SUBJECTS_NOT_INFORMED
    aggregate_type = Incident
    moment = "recorded_at"
    ground: SubjectsNotInformedGround
    reasons: Text
    public_communication: OptionalText = ""
    communicated_at: Moment | None = None


class CollectAddresses(StepCommand):
    permission = Command.HANDLE_ADDRESSES
    aggregate_type = Incident
    approx_subjects: Count
    kept_at: ShortText
    collected_at: Moment


class DestroyAddresses(StepCommand):
    permission = Command.HANDLE_ADDRESSES
    aggregate_type = Incident
    method: ShortText
    destroyed_at: Moment


# --- FG advice ---------------------------------------------------------------------------------


class VolunteerFGAdvice(CommandModel):
    """Advice the FG gives on its own initiative (art. 39(1)) about a record of its municipality."""

    permission = Command.GIVE_FG_ADVICE
    municipality: ShortText
    about: UUID
    advice: Text
    recommendation: Text


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
    dated_rule = "term_calendar"  # the bezwaar term it starts counts the decree days
    channel: ShortText
    sent_at: Moment


class LodgeObjection(StepCommand):
    permission = Command.LODGE_OBJECTION
    aggregate_type = RightsRequest
    dated_rule = "term_calendar"  # an Awb term: the decree days count
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
    dated_rule = "term_calendar"  # an Awb term: the decree days count
    reasons: Text


class RecordNoticeOfDefault(StepCommand):
    permission = Command.RECORD_NOTICE_OF_DEFAULT
    aggregate_type = RightsRequest
    dated_rule = "term_calendar"  # an Awb term: the decree days count
    notice_received_at: Moment


class ErasePersonalData(CommandModel):
    permission = Command.ERASE_PERSONAL_DATA
    municipality: ShortText
    subject: UUID
    ground: ErasureGround
    reference: ShortText


# --- processors (art. 28) and the Cyberbeveiligingswet's early warning -------------------------


class RegisterProcessor(CreateCommand):
    permission = Command.REGISTER_PROCESSOR
    name: ShortText


class ConcludeAgreement(StepCommand):
    permission = Command.MANAGE_PROCESSOR_AGREEMENT
    aggregate_type = Processor
    moment = "recorded_at"
    agreement: Agreement


class RenewAgreement(StepCommand):
    permission = Command.MANAGE_PROCESSOR_AGREEMENT
    aggregate_type = Processor
    moment = "recorded_at"
    agreement: Agreement


class EndAgreement(StepCommand):
    permission = Command.MANAGE_PROCESSOR_AGREEMENT
    aggregate_type = Processor
    moment = "recorded_at"
    ended_on: Day
    reason: Text


class RecordProcessorNotice(StepCommand):
    permission = Command.RECORD_PROCESSOR_NOTICE
    aggregate_type = Incident
    moment = "recorded_at"
    references = MappingProxyType({"processor": Processor})
    processor: UUID
    informed_at: Moment


class FindSignificantIncident(StepCommand):
    permission = Command.FIND_SIGNIFICANT_INCIDENT
    aggregate_type = Incident
    moment = "found_at"
    dated_rule = "early_warning_rule"
    aware_at: Moment


class SendEarlyWarning(StepCommand):
    permission = Command.SEND_EARLY_WARNING
    aggregate_type = Incident
    reference: ShortText
    sent_at: Moment


# --- the DPIA procedure (seed 002 bijlage 4) ---------------------------------------------------


class SignalDPIA(CommandModel):
    """Step 1: the register version signalled is the activity's current one, and its
    municipality and controller are the DPIA's."""

    permission = Command.SIGNAL_DPIA
    activity: UUID
    trigger: Trigger
    description: Text


class TakeFGAdviceOnDPIA(StepCommand):
    permission = Command.TAKE_FG_ADVICE_ON_DPIA
    aggregate_type = DPIA
    moment = "advised_at"
    fg_advice: UUID


class AssignDPIA(StepCommand):
    permission = Command.ASSIGN_DPIA
    aggregate_type = DPIA
    moment = "assigned_at"
    assignee: ShortText


class PreScanDPIA(StepCommand):
    permission = Command.CARRY_OUT_DPIA
    aggregate_type = DPIA
    moment = "scanned_at"
    ap_list: list[APListItem] = Field(default=[], max_length=len(APListItem))
    art35_cases: list[Art35Case] = Field(default=[], max_length=len(Art35Case))
    edpb_criteria: list[EDPBCriterion] = Field(default=[], max_length=len(EDPBCriterion))
    notes: OptionalText = ""


class AssessDPIA(StepCommand):
    permission = Command.CARRY_OUT_DPIA
    aggregate_type = DPIA
    moment = "assessed_at"
    team: list[TeamRole] = Field(min_length=1, max_length=len(TeamRole))
    systematic_description: Text
    legitimate_interests: OptionalText = ""
    necessity_and_proportionality: Text
    risks: list[Risk] = Field(min_length=1, max_length=MAX_RISKS)
    residual_risk: RiskLevel
    conclusion: Text


class CompleteDPIAMeasure(StepCommand):
    permission = Command.COMPLETE_DPIA_MEASURE
    aggregate_type = DPIA
    moment = "completed_at"
    measure: ShortText
    evidence: Text


class ConsultAP(StepCommand):
    permission = Command.CONSULT_AP
    aggregate_type = DPIA
    ap_reference: ShortText
    submitted_at: Moment


class ExtendAPConsultation(StepCommand):
    permission = Command.CONSULT_AP
    aggregate_type = DPIA
    reasons: Text
    announced_at: Moment


class RecordAPAnswer(StepCommand):
    permission = Command.CONSULT_AP
    aggregate_type = DPIA
    answer: APAnswer
    summary: Text
    received_at: Moment


class AssessDPIAAsFG(StepCommand):
    permission = Command.ASSESS_DPIA_AS_FG
    aggregate_type = DPIA
    moment = "assessed_at"
    opinion: FGOpinion
    measures_checked: bool
    remarks: Text


class DecideOnDPIA(AfterFGAdvice):
    permission = Command.DECIDE_ON_DPIA
    aggregate_type = DPIA
    moment = "decided_at"
    decision: Decision
    reasons: Text
    reassess_on: Day


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


class ReportSentCommand(CreateCommand):
    """A report sent: the checkpoint it was built under and the digest of it as sent; the
    application regenerates it there and refuses a digest that differs."""

    kind: ClassVar[ReportKind]
    period_from: Day
    period_to: Day
    recipients: list[ReportRecipient] = Field(min_length=1, max_length=len(ReportRecipient))
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
    """``TriageIncident``: ``triage-incident``; ``DecideOnDPIA``: ``decide-on-dpia``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", command.__name__).lower()


# Every concrete command, by its name, in the order above.
COMMANDS: dict[str, type[CommandModel]] = {
    command_name(cls): cls
    for cls in list(globals().values())
    if isinstance(cls, type)
    and issubclass(cls, CommandModel)
    and cls not in (CommandModel, CreateCommand, StepCommand, AfterFGAdvice, ReportSentCommand)
}
