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
    REPORT_TO_AUTHORITY = "report_to_authority"
    DECIDE_NOTIFICATION = "decide_notification"
    SUBMIT_AP_NOTIFICATION = "submit_ap_notification"
    SUPPLEMENT_AP_NOTIFICATION = "supplement_ap_notification"
    WITHDRAW_AP_NOTIFICATION = "withdraw_ap_notification"
    RECLASSIFY_NOT_A_BREACH = "reclassify_not_a_breach"
    INFORM_SUBJECTS = "inform_subjects"
    CLOSE_INCIDENT = "close_incident"
    EVALUATE_INCIDENT = "evaluate_incident"
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
        # Aangifte is the secretary's, with the mayor (seed 002 step 13); the CISO informs IBD.
        Command.REPORT_TO_AUTHORITY: {R.CISO, R.SECRETARY},
        # The secretary decides on behalf of the controller (seed 002, step 15).
        Command.DECIDE_NOTIFICATION: {R.SECRETARY},
        Command.SUBMIT_AP_NOTIFICATION: {R.PRIVACY_OFFICER},
        Command.SUPPLEMENT_AP_NOTIFICATION: {R.PRIVACY_OFFICER},
        Command.WITHDRAW_AP_NOTIFICATION: {R.PRIVACY_OFFICER},
        Command.RECLASSIFY_NOT_A_BREACH: {R.CISO, R.PRIVACY_OFFICER},
        Command.INFORM_SUBJECTS: {R.PRIVACY_OFFICER},
        Command.CLOSE_INCIDENT: {R.CISO},
        Command.EVALUATE_INCIDENT: {R.CISO},
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
    """The role under which ``actor`` may give ``command`` there; refused otherwise."""
    allowed = PERMISSIONS[command]
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
