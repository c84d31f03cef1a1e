"""Which aggregate method carries out which step command: the table the application dispatches
by, keyed by the command's type (as cosmicpython's ``service_layer/handlers.py``).

The aggregates speak of their own methods (a refusal says ``triage`` is allowed now); users
speak in commands (``triage-incident``): ``STEP_NAMES`` translates the one into the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from eventsourcing.domain import Aggregate

from domain.commands import (
    AcknowledgeRequest,
    AmendProcessingActivity,
    AnswerFGAdvice,
    AssessCriminalActivity,
    AssessDPIA,
    AssessDPIAAsFG,
    AssessIncident,
    AssignDPIA,
    ClassifyNotABreach,
    CloseIncident,
    CloseRequest,
    CollectAddresses,
    CompleteDPIAMeasure,
    ConcludeAgreement,
    ConsultAP,
    ConsultMayor,
    ConveneIRT,
    DecideNotification,
    DecideOnDPIA,
    DecideOnObjection,
    DecideRequest,
    DeclareInadmissible,
    DestroyAddresses,
    EndAgreement,
    EscalateFGAdvice,
    EstablishBreach,
    EvaluateIncident,
    ExcuseLateness,
    ExtendAPConsultation,
    ExtendObjectionTerm,
    ExtendRequest,
    FileAangifte,
    FindSignificantIncident,
    GiveFGAdvice,
    HandOverEvidence,
    HearObjector,
    InformFG,
    InformGovernment,
    InformParty,
    InformSubjects,
    LodgeObjection,
    NotifyRecipients,
    PreScanDPIA,
    ReclassifyNotABreach,
    RecordAPAnswer,
    RecordEvidence,
    RecordMeasure,
    RecordNoticeOfDefault,
    RecordProcessorNotice,
    RecordSubjectsNotInformed,
    RecordTimeAndCosts,
    RenewAgreement,
    ResumeRequest,
    RetireProcessingActivity,
    SendDecision,
    SendEarlyWarning,
    StepCommand,
    SubmitAPNotification,
    SupplementAPNotification,
    SuspendRequest,
    TakeFGAdviceOnDPIA,
    TriageIncident,
    VerifyIdentity,
    WaiveHearing,
    WithdrawAPNotification,
    WithdrawRequest,
    command_name,
)
from domain.dpia import DPIA
from domain.fg_advice import FGAdvice
from domain.incidents import Incident
from domain.processing import ProcessingActivity
from domain.processors import Processor
from domain.requests import RightsRequest

# Called with the aggregate, the command's arguments and the actor; each judges and records.
Step = Callable[..., None]

STEPS: Mapping[type[StepCommand], Step] = {
    AmendProcessingActivity: ProcessingActivity.amend,
    RetireProcessingActivity: ProcessingActivity.retire,
    TriageIncident: Incident.triage,
    ClassifyNotABreach: Incident.classify_not_a_breach,
    EstablishBreach: Incident.establish_breach,
    RecordMeasure: Incident.record_measure,
    DecideNotification: Incident.decide_notification,
    SubmitAPNotification: Incident.submit_ap_notification,
    SupplementAPNotification: Incident.supplement_ap_notification,
    WithdrawAPNotification: Incident.withdraw_ap_notification,
    ReclassifyNotABreach: Incident.reclassify_not_a_breach,
    InformSubjects: Incident.inform_subjects,
    CloseIncident: Incident.close,
    EvaluateIncident: Incident.evaluate,
    GiveFGAdvice: FGAdvice.give,
    AnswerFGAdvice: FGAdvice.answer,
    EscalateFGAdvice: FGAdvice.escalate,
    VerifyIdentity: RightsRequest.verify_identity,
    SuspendRequest: RightsRequest.suspend,
    ResumeRequest: RightsRequest.resume,
    ExtendRequest: RightsRequest.extend,
    DecideRequest: RightsRequest.decide,
    SendDecision: RightsRequest.send,
    LodgeObjection: RightsRequest.lodge_objection,
    DecideOnObjection: RightsRequest.decide_on_objection,
    CloseRequest: RightsRequest.close,
    WithdrawRequest: RightsRequest.withdraw,
    # processors (art. 28), art. 33(2) and the Cyberbeveiligingswet's early warning
    ConcludeAgreement: Processor.conclude_agreement,
    RenewAgreement: Processor.renew_agreement,
    EndAgreement: Processor.end_agreement,
    RecordProcessorNotice: Incident.record_processor_notice,
    FindSignificantIncident: Incident.find_significant_incident,
    SendEarlyWarning: Incident.send_early_warning,
    InformFG: Incident.inform_fg,
    # the incident response team (seed 002 bijlage 3)
    ConveneIRT: Incident.convene_irt,
    AssessIncident: Incident.assess_incident,
    AssessCriminalActivity: Incident.assess_criminal_activity,
    ConsultMayor: Incident.consult_mayor,
    FileAangifte: Incident.file_aangifte,
    RecordEvidence: Incident.record_evidence,
    HandOverEvidence: Incident.hand_over_evidence,
    InformParty: Incident.inform_party,
    InformGovernment: Incident.inform_government,
    RecordTimeAndCosts: Incident.record_time_and_costs,
    RecordSubjectsNotInformed: Incident.record_subjects_not_informed,
    CollectAddresses: Incident.collect_addresses,
    DestroyAddresses: Incident.destroy_addresses,
    # The DPIA procedure (seed 002 bijlage 4).
    TakeFGAdviceOnDPIA: DPIA.take_fg_advice,
    AssignDPIA: DPIA.assign,
    PreScanDPIA: DPIA.pre_scan,
    AssessDPIA: DPIA.assess,
    CompleteDPIAMeasure: DPIA.complete_measure,
    ConsultAP: DPIA.consult_ap,
    ExtendAPConsultation: DPIA.extend_ap_consultation,
    RecordAPAnswer: DPIA.record_ap_answer,
    AssessDPIAAsFG: DPIA.fg_assess,
    DecideOnDPIA: DPIA.decide,
    # rights requests as bijlage 5 runs them, objections under the Awb (issue 14)
    AcknowledgeRequest: RightsRequest.acknowledge,
    NotifyRecipients: RightsRequest.notify_recipients,
    ExcuseLateness: RightsRequest.excuse_lateness,
    DeclareInadmissible: RightsRequest.declare_inadmissible,
    HearObjector: RightsRequest.hear_objector,
    WaiveHearing: RightsRequest.waive_hearing,
    ExtendObjectionTerm: RightsRequest.extend_objection_term,
    RecordNoticeOfDefault: RightsRequest.record_notice_of_default,
}

# Per aggregate: the name of the command that carries out each of its methods.
STEP_NAMES: Mapping[type[Aggregate], Mapping[str, str]] = {
    aggregate: {
        method.__name__: command_name(command)
        for command, method in STEPS.items()
        if command.aggregate_type is aggregate
    }
    for aggregate in {command.aggregate_type for command in STEPS}
}
