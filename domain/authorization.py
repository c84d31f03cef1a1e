"""Who may do what: one table (DESIGN.md "Who uses it"; seed 002's division of tasks).

An actor holds grants: a role in a municipality, optionally limited to one controller
(bestuursorgaan). One FG may hold grants in several municipalities (seed 002: four
municipalities share one FG). Every command is checked here before anything is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    EMPLOYEE = "medewerker"
    CISO = "CISO"
    PRIVACY_OFFICER = "privacybeheerder"
    FG = "functionaris gegevensbescherming"
    SECRETARY = "gemeentesecretaris"
    PROCESS_OWNER = "proceseigenaar"
    AUDITOR = "auditor"
    SYSTEM = "koppeling"
    # Audits the deployment as a whole (the ledger with every state, of every municipality);
    # granted on DEPLOYMENT only.
    DEPLOYMENT_AUDITOR = "installatie-auditor"


DEPLOYMENT = "*"  # a grant's municipality that stands for the whole deployment


class Command(StrEnum):
    REGISTER_PROCESSING_ACTIVITY = "register_processing_activity"
    AMEND_PROCESSING_ACTIVITY = "amend_processing_activity"
    RETIRE_PROCESSING_ACTIVITY = "retire_processing_activity"
    REPORT_INCIDENT = "report_incident"
    TRIAGE_INCIDENT = "triage_incident"
    CLASSIFY_NOT_A_BREACH = "classify_not_a_breach"
    ESTABLISH_BREACH = "establish_breach"
    RECORD_MEASURE = "record_measure"
    DECIDE_NOTIFICATION = "decide_notification"
    SUBMIT_AP_NOTIFICATION = "submit_ap_notification"
    SUPPLEMENT_AP_NOTIFICATION = "supplement_ap_notification"
    WITHDRAW_AP_NOTIFICATION = "withdraw_ap_notification"
    RECLASSIFY_NOT_A_BREACH = "reclassify_not_a_breach"
    INFORM_SUBJECTS = "inform_subjects"
    CLOSE_INCIDENT = "close_incident"
    EVALUATE_INCIDENT = "evaluate_incident"
    INFORM_FG = "inform_fg"
    REQUEST_FG_ADVICE = "request_fg_advice"
    GIVE_FG_ADVICE = "give_fg_advice"
    ANSWER_FG_ADVICE = "answer_fg_advice"
    ESCALATE_FG_ADVICE = "escalate_fg_advice"
    RECEIVE_REQUEST = "receive_request"
    HANDLE_REQUEST = "handle_request"  # identity, suspension, extension, sending, withdrawal
    DECIDE_REQUEST = "decide_request"
    LODGE_OBJECTION = "lodge_objection"
    DECIDE_ON_OBJECTION = "decide_on_objection"
    ERASE_PERSONAL_DATA = "erase_personal_data"
    # The DPIA procedure (seed 002 bijlage 4).
    SIGNAL_DPIA = "signal_dpia"
    TAKE_FG_ADVICE_ON_DPIA = "take_fg_advice_on_dpia"
    ASSIGN_DPIA = "assign_dpia"
    CARRY_OUT_DPIA = "carry_out_dpia"  # QuickScan and the DPIA itself
    COMPLETE_DPIA_MEASURE = "complete_dpia_measure"
    CONSULT_AP = "consult_ap"  # the request, the AP's extension and its answer
    ASSESS_DPIA_AS_FG = "assess_dpia_as_fg"
    DECIDE_ON_DPIA = "decide_on_dpia"
    # Rights requests as bijlage 5 runs them, and objections under the Awb (issue 14).
    ACKNOWLEDGE_REQUEST = "acknowledge_request"
    SEND_DECISION = "send_decision"
    NOTIFY_RECIPIENTS = "notify_recipients"
    HANDLE_OBJECTION = "handle_objection"  # hearing, its waiver, the 7:10 extension
    RECORD_NOTICE_OF_DEFAULT = "record_notice_of_default"
    READ_REGISTERS = "read_registers"
    VERIFY_LEDGER = "verify_ledger"
    # States of every municipality's events at once (ledger bundles with states).
    READ_LEDGER_STATES = "read_ledger_states"
    # Processors and their agreements (art. 28); art. 33(2); the Cyberbeveiligingswet.
    REGISTER_PROCESSOR = "register_processor"
    MANAGE_PROCESSOR_AGREEMENT = "manage_processor_agreement"
    RECORD_PROCESSOR_NOTICE = "record_processor_notice"
    FIND_SIGNIFICANT_INCIDENT = "find_significant_incident"
    SEND_EARLY_WARNING = "send_early_warning"
    # The incident response team's steps (seed 002 bijlage 3, steps 10-38).
    CONVENE_IRT = "convene_irt"
    ASSESS_INCIDENT = "assess_incident"  # the first assessment and criminal activity (11-12)
    FILE_AANGIFTE = "file_aangifte"  # the burgemeester consulted, and the police report
    RECORD_EVIDENCE = "record_evidence"  # collected, and handed over against a receipt
    INFORM_PARTY = "inform_party"  # the IBD, CSIRT, third parties, banks
    INFORM_GOVERNMENT = "inform_government"  # the police, wethouder, college, raad
    RECORD_TIME_AND_COSTS = "record_time_and_costs"
    RECORD_SUBJECTS_NOT_INFORMED = "record_subjects_not_informed"
    HANDLE_ADDRESSES = "handle_addresses"  # collected and destroyed
    # Retention and destruction (Archiefwet, Selectielijst 2020).
    RUN_RETENTION = "run_retention"
    PLACE_LEGAL_HOLD = "place_legal_hold"
    LIFT_LEGAL_HOLD = "lift_legal_hold"
    # Reporting duties, recorded when sent.
    RECORD_FG_ANNUAL_REPORT = "record_fg_annual_report"
    RECORD_BREACH_REGISTER_EVALUATION = "record_breach_register_evaluation"
    RECORD_CISO_QUARTERLY_REPORT = "record_ciso_quarterly_report"


R = Role
_REPORTERS = {R.EMPLOYEE, R.CISO, R.PRIVACY_OFFICER, R.FG, R.SECRETARY, R.PROCESS_OWNER}

PERMISSIONS: Mapping[Command, frozenset[Role]] = {
    command: frozenset(roles)
    for command, roles in {
        Command.REGISTER_PROCESSING_ACTIVITY: {R.PRIVACY_OFFICER, R.PROCESS_OWNER},
        Command.AMEND_PROCESSING_ACTIVITY: {R.PRIVACY_OFFICER, R.PROCESS_OWNER},
        Command.RETIRE_PROCESSING_ACTIVITY: {R.PRIVACY_OFFICER, R.PROCESS_OWNER},
        Command.REPORT_INCIDENT: _REPORTERS,
        Command.TRIAGE_INCIDENT: {R.CISO},
        Command.CLASSIFY_NOT_A_BREACH: {R.CISO, R.PRIVACY_OFFICER},
        Command.ESTABLISH_BREACH: {R.CISO, R.PRIVACY_OFFICER},
        Command.RECORD_MEASURE: {R.CISO, R.PRIVACY_OFFICER},
        # The secretary decides on behalf of the controller (seed 002, step 15).
        Command.DECIDE_NOTIFICATION: {R.SECRETARY},
        Command.SUBMIT_AP_NOTIFICATION: {R.PRIVACY_OFFICER},
        Command.SUPPLEMENT_AP_NOTIFICATION: {R.PRIVACY_OFFICER},
        Command.WITHDRAW_AP_NOTIFICATION: {R.PRIVACY_OFFICER},
        Command.RECLASSIFY_NOT_A_BREACH: {R.CISO, R.PRIVACY_OFFICER},
        Command.INFORM_SUBJECTS: {R.PRIVACY_OFFICER},
        Command.CLOSE_INCIDENT: {R.CISO},
        Command.EVALUATE_INCIDENT: {R.CISO},
        # The local CISO informs the FG of a (suspected) breach (seed 002 step 3, §2.1.1.4).
        Command.INFORM_FG: {R.CISO},
        Command.REQUEST_FG_ADVICE: {R.CISO, R.PRIVACY_OFFICER, R.SECRETARY, R.PROCESS_OWNER},
        # Only the FG advises and escalates: its independence (art. 38(3)).
        Command.GIVE_FG_ADVICE: {R.FG},
        Command.ANSWER_FG_ADVICE: {R.SECRETARY, R.PROCESS_OWNER},
        Command.ESCALATE_FG_ADVICE: {R.FG},
        Command.RECEIVE_REQUEST: {R.PRIVACY_OFFICER, R.SYSTEM},
        Command.HANDLE_REQUEST: {R.PRIVACY_OFFICER},
        # Process owners decide requests for their department under mandate.
        Command.DECIDE_REQUEST: {R.PROCESS_OWNER, R.SECRETARY},
        Command.LODGE_OBJECTION: {R.PRIVACY_OFFICER},
        Command.DECIDE_ON_OBJECTION: {R.SECRETARY},
        Command.ERASE_PERSONAL_DATA: {R.PRIVACY_OFFICER},
        # Bijlage 4: a signal comes from the register's keepers, or the FG's own monitoring;
        # the FG advises the process owner, who assigns the DPIA to the privacy officer; the
        # privacy officer leads the DPIA team and keeps the measures' overview, whose owners
        # (process owner, CISO) report them done; the FG assesses (step 10); the secretary or
        # the process owner decides for the controller.
        Command.SIGNAL_DPIA: {R.PRIVACY_OFFICER, R.PROCESS_OWNER, R.FG},
        Command.TAKE_FG_ADVICE_ON_DPIA: {R.PROCESS_OWNER},
        Command.ASSIGN_DPIA: {R.PROCESS_OWNER},
        Command.CARRY_OUT_DPIA: {R.PRIVACY_OFFICER},
        Command.COMPLETE_DPIA_MEASURE: {R.PRIVACY_OFFICER, R.PROCESS_OWNER, R.CISO},
        Command.CONSULT_AP: {R.PRIVACY_OFFICER},
        Command.ASSESS_DPIA_AS_FG: {R.FG},
        Command.DECIDE_ON_DPIA: {R.SECRETARY, R.PROCESS_OWNER},
        # Rights requests and objections (issue 14). Seed 002 bijlage 5: the department
        # (vakafdeling, its process owner) confirms receipt, signs in mandate and sends; the
        # privacy officer receives a copy and may confirm receipt too.
        Command.ACKNOWLEDGE_REQUEST: {R.PROCESS_OWNER, R.PRIVACY_OFFICER},
        Command.SEND_DECISION: {R.PROCESS_OWNER, R.SECRETARY},
        Command.NOTIFY_RECIPIENTS: {R.PROCESS_OWNER, R.PRIVACY_OFFICER},
        # Objections are prepared for the secretary, who decides them (DECIDE_ON_OBJECTION).
        Command.HANDLE_OBJECTION: {R.SECRETARY, R.PRIVACY_OFFICER},
        # Incoming mail, registered as objections are.
        Command.RECORD_NOTICE_OF_DEFAULT: {R.PRIVACY_OFFICER},
        Command.READ_REGISTERS: {
            R.CISO,
            R.PRIVACY_OFFICER,
            R.FG,
            R.SECRETARY,
            R.PROCESS_OWNER,
            R.AUDITOR,
            R.DEPLOYMENT_AUDITOR,
        },
        Command.VERIFY_LEDGER: {R.FG, R.AUDITOR, R.PRIVACY_OFFICER, R.CISO, R.DEPLOYMENT_AUDITOR},
        Command.READ_LEDGER_STATES: {R.DEPLOYMENT_AUDITOR},
        # Process owners conclude, keep and update processor agreements (seed 002 §2.1.1,
        # "Afsluiten, beheren en actualiseren van verwerkersovereenkomsten"); the privacy
        # officer maintains them with the departments (seed 004 §4).
        Command.REGISTER_PROCESSOR: {R.PROCESS_OWNER, R.PRIVACY_OFFICER},
        Command.MANAGE_PROCESSOR_AGREEMENT: {R.PROCESS_OWNER, R.PRIVACY_OFFICER},
        # Who handles the breach records the processor's notice (as establishing a breach).
        Command.RECORD_PROCESSOR_NOTICE: {R.CISO, R.PRIVACY_OFFICER},
        # Security incidents and their reports to the CSIRT are the CISO's (seed 002 bijlage 3).
        Command.FIND_SIGNIFICANT_INCIDENT: {R.CISO},
        Command.SEND_EARLY_WARNING: {R.CISO},
        # Seed 002 bijlage 3: the CISO convenes and chairs the incident response team and keeps
        # its log (steps 7-10); the team assesses (11-12), secures evidence (17-19), informs
        # the IBD, third parties and banks (34-36) and collects the time written (37).
        Command.CONVENE_IRT: {R.CISO},
        Command.ASSESS_INCIDENT: {R.CISO},
        Command.RECORD_EVIDENCE: {R.CISO},
        Command.INFORM_PARTY: {R.CISO},
        Command.RECORD_TIME_AND_COSTS: {R.CISO},
        # The secretary files the aangifte after consulting the burgemeester (13), informs the
        # police (33) and the wethouder, college or raad (15), and decides on informing the
        # data subjects, so records why they are not (27).
        Command.FILE_AANGIFTE: {R.SECRETARY},
        Command.INFORM_GOVERNMENT: {R.SECRETARY},
        Command.RECORD_SUBJECTS_NOT_INFORMED: {R.SECRETARY},
        # The department collects the addresses of those affected and destroys them (28).
        Command.HANDLE_ADDRESSES: {R.PROCESS_OWNER, R.PRIVACY_OFFICER},
        # Retention: the privacy officer keeps the records (seed 002 bijlage 3: incident
        # information is destroyed "in overeenstemming met wetgeving en intern beleid"), and
        # ``serve`` runs it as the system; a legal hold is the secretary's, who decides for the
        # college in legal matters (seed 002 step 13, seed 004 par. 3.1.2: the college's
        # responsibilities mandated to the secretary).
        Command.RUN_RETENTION: {R.PRIVACY_OFFICER, R.SYSTEM},
        Command.PLACE_LEGAL_HOLD: {R.SECRETARY},
        Command.LIFT_LEGAL_HOLD: {R.SECRETARY},
        # The FG sends its annual report (seed 002); the register of incidents is evaluated by
        # those who keep it (seed 004 par. 5.3, 3.1.5 and 3.1.7); the CISO's quarterly report
        # is the CISO's (seed 002).
        Command.RECORD_FG_ANNUAL_REPORT: {R.FG},
        Command.RECORD_BREACH_REGISTER_EVALUATION: {R.CISO, R.PRIVACY_OFFICER},
        Command.RECORD_CISO_QUARTERLY_REPORT: {R.CISO},
    }.items()
}


@dataclass(frozen=True)
class Grant:
    role: Role
    municipality: str
    controller: str | None = None  # None: every controller of the municipality

    def covers(self, municipality: str, controller: str | None) -> bool:
        if self.municipality == DEPLOYMENT:  # only a deployment auditor's reaches everywhere
            return self.role is Role.DEPLOYMENT_AUDITOR and self.controller is None
        return self.municipality == municipality and self.controller in (None, controller)


@dataclass(frozen=True)
class Actor:
    id: str
    grants: frozenset[Grant]

    @classmethod
    def with_grants(cls, actor_id: str, grants: Iterable[Grant]) -> Actor:
        return cls(actor_id, frozenset(grants))


class NotAuthorised(Exception):
    """The actor holds no role that may give this command for this municipality/controller."""


def authorise(actor: Actor, command: Command, municipality: str, controller: str | None) -> Role:
    """The role under which ``actor`` may give ``command`` there; refused otherwise. An actor
    that is FG there never decides there, whatever else it was granted (art. 38(6))."""
    allowed = PERMISSIONS[command]
    if command in DECIDING and _fg_of(actor, municipality):
        raise NotAuthorised(
            f"{actor.id} is the FG of {municipality} and may not {command.value} there "
            "(AVG art. 38(6): no conflict of interest)"
        )
    for grant in sorted(actor.grants, key=lambda g: g.role.value):
        if grant.role in allowed and grant.covers(municipality, controller):
            return grant.role
    where = municipality if controller is None else f"{municipality} ({controller})"
    roles = ", ".join(sorted(r.name for r in allowed))  # the codes grants are given by
    raise NotAuthorised(f"{actor.id} may not {command.value} for {where}; allowed roles: {roles}")


def may(actor: Actor, command: Command, municipality: str, controller: str | None) -> bool:
    try:
        authorise(actor, command, municipality, controller)
    except NotAuthorised:
        return False
    return True


def sees(actor: Actor, municipality: str, controller: str | None) -> bool:
    """Whether any of the actor's grants reaches a record of that municipality and controller;
    a record it does not reach is, to the actor, a record that does not exist."""
    return any(grant.covers(municipality, controller) for grant in actor.grants)


# --- the FG's independence (AVG art. 38(6)) ----------------------------------------------------

# The commands by which the controller decides; the FG advises on them and so never gives them
# where it is FG. (Every later deciding command, such as a DPIA decision, belongs here.)
DECIDING: frozenset[Command] = frozenset(
    {
        Command.DECIDE_NOTIFICATION,
        Command.DECIDE_REQUEST,
        Command.DECIDE_ON_OBJECTION,
        Command.ANSWER_FG_ADVICE,
        Command.DECIDE_ON_DPIA,
    }
)
DECIDING_ROLES: frozenset[Role] = frozenset(
    role for command in DECIDING for role in PERMISSIONS[command]
)


def conflicts_of_interest(grants: Iterable[Grant]) -> list[str]:
    """The municipalities where these grants make one actor both FG and a decider."""
    grants = list(grants)
    fg = {g.municipality for g in grants if g.role is Role.FG}
    deciding = {g.municipality for g in grants if g.role in DECIDING_ROLES}
    return sorted(fg & deciding)


def check_independence(grants: Iterable[Grant]) -> None:
    """Refuses grants that would give an FG a deciding role where it is FG."""
    conflicts = conflicts_of_interest(grants)
    if conflicts:
        raise NotAuthorised(
            f"the FG of {', '.join(conflicts)} cannot also hold a deciding role there "
            "(AVG art. 38(6): no conflict of interest)"
        )


def _fg_of(actor: Actor, municipality: str) -> bool:
    return any(g.role is Role.FG and g.municipality == municipality for g in actor.grants)
