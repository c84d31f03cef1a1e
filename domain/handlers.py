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
    ClassifyNotABreach,
    CloseIncident,
    CloseRequest,
    DecideNotification,
    DecideOnObjection,
    DecideRequest,
    DeclareInadmissible,
    EscalateFGAdvice,
    EstablishBreach,
    EvaluateIncident,
    ExcuseLateness,
    ExtendObjectionTerm,
    ExtendRequest,
    GiveFGAdvice,
    HearObjector,
    InformSubjects,
    LodgeObjection,
    NotifyRecipients,
    ReclassifyNotABreach,
    RecordDPIA,
    RecordMeasure,
    RecordNoticeOfDefault,
    ReportToAuthority,
    ResumeRequest,
    RetireProcessingActivity,
    SendDecision,
    StepCommand,
    SubmitAPNotification,
    SupplementAPNotification,
    SuspendRequest,
    TriageIncident,
    VerifyIdentity,
    WaiveHearing,
    WithdrawAPNotification,
    WithdrawRequest,
    command_name,
)
from domain.fg_advice import FGAdvice
from domain.incidents import Incident
from domain.processing import ProcessingActivity
from domain.requests import RightsRequest

# Called with the aggregate, the command's arguments and the actor; each judges and records.
Step = Callable[..., None]

STEPS: Mapping[type[StepCommand], Step] = {
    AmendProcessingActivity: ProcessingActivity.amend,
    RecordDPIA: ProcessingActivity.record_dpia,
    RetireProcessingActivity: ProcessingActivity.retire,
    TriageIncident: Incident.triage,
    ClassifyNotABreach: Incident.classify_not_a_breach,
    EstablishBreach: Incident.establish_breach,
    ReportToAuthority: Incident.report_to_authority,
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
