"""The request register: every rights request with its deadline, time left, suspensions,
extension and outcome (AVG art. 12(3); seed 002 bijlage 5), and the objection against it with
its Awb terms (6:11, 7:2, 7:10, 4:17).

"On time" is judged when the decision is sent (``sent.on_time``); a decision sent before that
was recorded keeps the judgement made when it was decided, and ``sent.judged_at`` says which.

The deadline is the one the events recorded: set on receipt, moved by a resumption or an
extension, never recomputed here (only for an event of the first ledger version, which did
not record it). No personal data in the clear: the requester appears only as the subject key,
and the texts about the requester stay sealed under it.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, NotRequired, TypedDict

from eventsourcing.dispatch import singledispatchmethod

from domain.deadlines import local_date, request_deadline
from domain.requests import ObjectionOutcome, RequestStage, RightsRequest
from projections.base import (
    Cursor,
    NoHandler,
    Record,
    RecordProjection,
    SealedText,
    documents,
    from_utc_text,
    utc_text,
)

# Not yet sent nor withdrawn (the requester is informed by sending, art. 12(3)); of these, a
# suspended request's clock stands still.
RUNNING = (
    RequestStage.RECEIVED.value,
    RequestStage.IN_PROGRESS.value,
    RequestStage.DECIDED.value,
)
OPEN = (*RUNNING, RequestStage.SUSPENDED.value)


class IdentityVerification(TypedDict):
    method: SealedText
    at: str


class Suspension(TypedDict("Suspension", {"from": str})):
    missing: SealedText
    reason: str | None
    until: str | None
    days: int | None


class Extension(TypedDict):
    months: int
    reason: str
    explanation: SealedText
    requester_told_at: str


class RequestDecision(TypedDict):
    outcome: str
    grounds: list[str]
    reasons: SealedText
    decided_at: str
    on_time: bool  # decided by the deadline
    actor: str
    mandate: NotRequired[str | None]


class Sending(TypedDict):
    channel: str
    at: str
    objection_deadline: str
    on_time: bool  # the requester informed by the deadline (art. 12(3))
    judged_at: str  # "sending", or "decision" for a decision sent before that was recorded
    penalty_days: NotRequired[int]
    penalty_euros: NotRequired[int]


class Acknowledgement(TypedDict):
    channel: str
    at: str


class RecipientsNotice(TypedDict):
    recipients: list[str]
    exemption: str | None
    explanation: SealedText | None
    at: str


class NoticeOfDefault(TypedDict):
    about: str  # "decision" or "objection"
    received_at: str
    first_penalty_day: str


class Hearing(TypedDict):
    at: str
    by_committee: NotRequired[bool]  # heard
    report: NotRequired[SealedText]
    waived: NotRequired[str]  # or the Awb 7:3 ground it was waived on


class Objection(TypedDict):
    grounds: SealedText
    lodged_at: str
    late: NotRequired[bool]
    advisory_committee: NotRequired[bool]
    decision_deadline: NotRequired[str | None]  # Awb 7:10, as recorded
    lateness_excused: NotRequired[dict[str, Any]]
    hearing: NotRequired[Hearing]
    term_extended_at: NotRequired[str]
    outcome: NotRequired[str]  # an ``ObjectionOutcome`` value once decided
    well_founded: NotRequired[bool]  # these once it is decided on
    reasons: NotRequired[SealedText]
    decided_at: NotRequired[str]
    deliberation: NotRequired[str | None]
    decided_late: NotRequired[bool | None]
    penalty_days: NotRequired[int]
    penalty_euros: NotRequired[int]


class RequestRecord(Record):
    """One rights request as the register keeps it; each part is there once its event is."""

    municipality: str
    controller: str
    right: str
    channel: str
    subject: str
    received_at: str
    stage: str  # a ``RequestStage`` value
    suspensions: list[Suspension]
    deadline: str
    identity_verified: NotRequired[IdentityVerification]
    extension: NotRequired[Extension]
    decision: NotRequired[RequestDecision]
    sent: NotRequired[Sending]
    objection: NotRequired[Objection]
    closed_at: NotRequired[str]
    withdrawn_at: NotRequired[str]
    acknowledged: NotRequired[Acknowledgement]
    recipients_notified: NotRequired[RecipientsNotice]
    notices_of_default: NotRequired[list[NoticeOfDefault]]


class RequestRegister(RecordProjection[RequestRecord]):
    name = "request_register"
    aggregate = RightsRequest
    table = "requests"
    version = 3
    column_types: ClassVar[dict[str, str]] = {
        "municipality": "TEXT NOT NULL",
        "controller": "TEXT NOT NULL",
        "request_right": "TEXT NOT NULL",
        "subject": "TEXT NOT NULL",
        "stage": "TEXT NOT NULL",
        "received_at": "TEXT NOT NULL",
        "deadline": "TEXT NOT NULL",
        "open": "INTEGER NOT NULL",  # not yet sent nor withdrawn
        "outcome": "TEXT",
        "decided_at": "TEXT",
        "objection_deadline": "TEXT",  # the Awb 7:10 term while the objection is undecided
        "penalty_from": "TEXT",  # the first penalty day of a notice of default not yet answered
    }
    indexes = ("municipality, received_at", "open, deadline", "subject", "objection_deadline")

    def columns(self, r: RequestRecord) -> dict[str, Any]:
        decision = r.get("decision")
        return {
            "municipality": r["municipality"],
            "controller": r["controller"],
            "request_right": r["right"],
            "subject": r["subject"],
            "stage": r["stage"],
            "received_at": r["received_at"],
            "deadline": r["deadline"],
            "open": int(r["stage"] in OPEN),
            "outcome": decision and decision["outcome"],
            "decided_at": decision and decision["decided_at"],
            "objection_deadline": (
                r["objection"].get("decision_deadline")
                if r["stage"] == RequestStage.OBJECTED.value
                else None
            ),
            "penalty_from": _pending_penalty(r),
        }

    def _legacy_deadline(self, r: RequestRecord) -> str:
        extension = r.get("extension")
        return request_deadline(
            from_utc_text(r["received_at"]),
            suspended_days=sum(s["days"] or 0 for s in r["suspensions"]),
            extension_months=extension["months"] if extension else 0,
        ).isoformat()

    def _deadline(self, r: RequestRecord, deadline: date | None) -> None:
        r["deadline"] = self._legacy_deadline(r) if deadline is None else deadline.isoformat()

    @singledispatchmethod
    def apply_event(self, e: RightsRequest.Event, r: RequestRecord) -> None:
        raise NoHandler(self, e)

    @apply_event.register
    def _(self, e: RightsRequest.Received, r: RequestRecord) -> None:
        r["municipality"] = e.municipality
        r["controller"] = e.controller
        r["right"] = str(e.right)
        r["channel"] = e.channel
        r["subject"] = str(e.requester.subject)  # the key, never the name
        r["received_at"] = utc_text(e.received_at)
        r["stage"] = RequestStage.RECEIVED.value
        r["suspensions"] = []
        self._deadline(r, e.deadline)

    @apply_event.register
    def _(self, e: RightsRequest.ReceiptAcknowledged, r: RequestRecord) -> None:
        r["acknowledged"] = {"channel": e.channel, "at": utc_text(e.acknowledged_at)}

    @apply_event.register
    def _(self, e: RightsRequest.IdentityVerified, r: RequestRecord) -> None:
        r["identity_verified"] = {"method": e.method, "at": utc_text(e.verified_at)}
        r["stage"] = RequestStage.IN_PROGRESS.value

    @apply_event.register
    def _(self, e: RightsRequest.Suspended, r: RequestRecord) -> None:
        r["suspensions"].append(
            {
                "missing": e.missing,
                "reason": None if e.reason is None else str(e.reason),
                "from": utc_text(e.suspended_at),
                "until": None,
                "days": None,
            }
        )
        r["stage"] = RequestStage.SUSPENDED.value

    @apply_event.register
    def _(self, e: RightsRequest.Resumed, r: RequestRecord) -> None:
        suspension = r["suspensions"][-1]
        suspension["until"] = utc_text(e.resumed_at)
        suspension["days"] = (
            (local_date(e.resumed_at) - local_date(from_utc_text(suspension["from"]))).days
            if e.days is None
            else e.days
        )
        # Back where it stopped: before or after the identity was verified.
        r["stage"] = (
            RequestStage.IN_PROGRESS.value
            if "identity_verified" in r
            else RequestStage.RECEIVED.value
        )
        self._deadline(r, e.deadline)

    @apply_event.register
    def _(self, e: RightsRequest.Extended, r: RequestRecord) -> None:
        r["extension"] = {
            "months": e.months,
            "reason": str(e.reason),
            "explanation": e.explanation,
            "requester_told_at": utc_text(e.requester_told_at),
        }
        self._deadline(r, e.deadline)

    @apply_event.register
    def _(self, e: RightsRequest.Decided, r: RequestRecord) -> None:
        r["decision"] = {
            "outcome": str(e.outcome),
            "grounds": [str(g) for g in e.grounds],
            "reasons": e.reasons,
            "decided_at": utc_text(e.decided_at),
            "on_time": (
                local_date(e.decided_at) <= date.fromisoformat(r["deadline"])
                if e.late is None
                else not e.late
            ),
            "actor": e.actor,
            "mandate": None if e.mandate is None else str(e.mandate),
        }
        r["stage"] = RequestStage.DECIDED.value

    @apply_event.register
    def _(self, e: RightsRequest.Sent, r: RequestRecord) -> None:
        r["sent"] = {
            "channel": e.channel,
            "at": utc_text(e.sent_at),
            "objection_deadline": e.objection_deadline.isoformat(),
            # An old decision keeps the judgement recorded when it was decided.
            "on_time": r["decision"]["on_time"] if e.late is None else not e.late,
            "judged_at": "decision" if e.late is None else "sending",
            "penalty_days": e.penalty_days,
            "penalty_euros": e.penalty_euros,
        }
        r["stage"] = RequestStage.SENT.value

    @apply_event.register
    def _(self, e: RightsRequest.RecipientsNotified, r: RequestRecord) -> None:
        r["recipients_notified"] = {
            "recipients": list(e.recipients),
            "exemption": None if e.exemption is None else str(e.exemption),
            "explanation": e.explanation,
            "at": utc_text(e.notified_at),
        }

    @apply_event.register
    def _(self, e: RightsRequest.NoticeOfDefaultReceived, r: RequestRecord) -> None:
        r.setdefault("notices_of_default", []).append(
            {
                "about": "objection" if r["stage"] == RequestStage.OBJECTED.value else "decision",
                "received_at": utc_text(e.notice_received_at),
                "first_penalty_day": e.first_penalty_day.isoformat(),
            }
        )

    @apply_event.register
    def _(self, e: RightsRequest.ObjectionLodged, r: RequestRecord) -> None:
        r["objection"] = {
            "grounds": e.grounds,
            "lodged_at": utc_text(e.lodged_at),
            "late": e.late,
            "advisory_committee": e.advisory_committee,
            "decision_deadline": (
                None if e.decision_deadline is None else e.decision_deadline.isoformat()
            ),
        }
        r["stage"] = RequestStage.OBJECTED.value

    @apply_event.register
    def _(self, e: RightsRequest.LatenessExcused, r: RequestRecord) -> None:
        r["objection"]["lateness_excused"] = {
            "reasons": e.reasons,
            "at": utc_text(e.excused_at),
        }

    @apply_event.register
    def _(self, e: RightsRequest.DeclaredInadmissible, r: RequestRecord) -> None:
        objection = r["objection"]
        objection["outcome"] = ObjectionOutcome.INADMISSIBLE.value
        objection["reasons"] = e.reasons
        objection["decided_at"] = utc_text(e.decided_at)
        r["stage"] = RequestStage.CLOSED.value

    @apply_event.register
    def _(self, e: RightsRequest.Heard, r: RequestRecord) -> None:
        r["objection"]["hearing"] = {
            "at": utc_text(e.heard_at),
            "by_committee": e.by_committee,
            "report": e.report,
        }

    @apply_event.register
    def _(self, e: RightsRequest.HearingWaived, r: RequestRecord) -> None:
        r["objection"]["hearing"] = {"at": utc_text(e.waived_at), "waived": str(e.ground)}

    @apply_event.register
    def _(self, e: RightsRequest.ObjectionTermExtended, r: RequestRecord) -> None:
        r["objection"]["term_extended_at"] = utc_text(e.extended_at)
        r["objection"]["decision_deadline"] = e.decision_deadline.isoformat()

    @apply_event.register
    def _(self, e: RightsRequest.ObjectionDecided, r: RequestRecord) -> None:
        objection = r["objection"]
        objection["outcome"] = (
            ObjectionOutcome.WELL_FOUNDED if e.well_founded else ObjectionOutcome.UNFOUNDED
        ).value
        objection["well_founded"] = e.well_founded
        objection["reasons"] = e.reasons
        objection["decided_at"] = utc_text(e.decided_at)
        objection["deliberation"] = None if e.deliberation is None else str(e.deliberation)
        objection["decided_late"] = e.late
        objection["penalty_days"] = e.penalty_days
        objection["penalty_euros"] = e.penalty_euros
        r["stage"] = RequestStage.CLOSED.value

    @apply_event.register
    def _(self, e: RightsRequest.Closed, r: RequestRecord) -> None:
        r["closed_at"] = utc_text(e.closed_at)
        r["stage"] = RequestStage.CLOSED.value

    @apply_event.register
    def _(self, e: RightsRequest.Withdrawn, r: RequestRecord) -> None:
        r["withdrawn_at"] = utc_text(e.withdrawn_at)
        r["stage"] = RequestStage.WITHDRAWN.value


def _pending_penalty(r: RequestRecord) -> str | None:
    """The first penalty day of a notice of default the decision it asks for has not answered
    yet: a notice about the decision ends with sending, one about the objection with its
    decision."""
    notices = r.get("notices_of_default") or []
    if not notices:
        return None
    last = notices[-1]
    pending = {"decision": OPEN, "objection": (RequestStage.OBJECTED.value,)}[last["about"]]
    return last["first_penalty_day"] if r["stage"] in pending else None


def with_time_left(r: RequestRecord, today: date) -> dict[str, Any]:
    """The register row with the days left to its deadline (negative: overdue), for open
    requests, decided ones until they are sent; a suspended request's clock stands still, so
    its days left are not counted."""
    left = None
    if r["stage"] in RUNNING:
        left = (date.fromisoformat(r["deadline"]) - today).days
    return {**r, "days_left": left}


def request_register(cursor: Cursor, municipality: str, today: date) -> list[dict[str, Any]]:
    cursor.execute(
        "SELECT doc FROM requests WHERE municipality = ? ORDER BY received_at DESC",
        (municipality,),
    )
    return [with_time_left(r, today) for r in documents(cursor, RequestRecord)]


def subject_owner(cursor: Cursor, subject: str) -> tuple[str, str] | None:
    """The municipality and controller of the request that introduced the data subject."""
    cursor.execute(
        "SELECT municipality, controller FROM requests WHERE subject = ? "
        "ORDER BY received_at LIMIT 1",
        (subject,),
    )
    row = cursor.fetchone()
    return None if row is None else (str(row[0]), str(row[1]))
