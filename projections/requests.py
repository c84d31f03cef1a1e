"""The request register: every rights request with its deadline, time left, suspensions,
extension and outcome (AVG art. 12(3); seed 002 bijlage 5).

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
from domain.requests import RequestStage, RightsRequest
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

# Not yet decided nor withdrawn; of these, a suspended request's clock stands still.
RUNNING = (RequestStage.RECEIVED.value, RequestStage.IN_PROGRESS.value)
OPEN = (*RUNNING, RequestStage.SUSPENDED.value)


class IdentityVerification(TypedDict):
    method: SealedText
    at: str


class Suspension(TypedDict("Suspension", {"from": str})):
    missing: SealedText
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
    on_time: bool
    actor: str


class Sending(TypedDict):
    channel: str
    at: str
    objection_deadline: str


class Objection(TypedDict):
    grounds: SealedText
    lodged_at: str
    well_founded: NotRequired[bool]  # these three once it is decided on
    reasons: NotRequired[SealedText]
    decided_at: NotRequired[str]


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


class RequestRegister(RecordProjection[RequestRecord]):
    name = "request_register"
    aggregate = RightsRequest
    table = "requests"
    version = 2
    column_types: ClassVar[dict[str, str]] = {
        "municipality": "TEXT NOT NULL",
        "controller": "TEXT NOT NULL",
        "request_right": "TEXT NOT NULL",
        "subject": "TEXT NOT NULL",
        "stage": "TEXT NOT NULL",
        "received_at": "TEXT NOT NULL",
        "deadline": "TEXT NOT NULL",
        "open": "INTEGER NOT NULL",  # not yet decided nor withdrawn
        "outcome": "TEXT",
        "decided_at": "TEXT",
    }
    indexes = ("municipality, received_at", "open, deadline", "subject")

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
    def _(self, e: RightsRequest.IdentityVerified, r: RequestRecord) -> None:
        r["identity_verified"] = {"method": e.method, "at": utc_text(e.verified_at)}
        r["stage"] = RequestStage.IN_PROGRESS.value

    @apply_event.register
    def _(self, e: RightsRequest.Suspended, r: RequestRecord) -> None:
        r["suspensions"].append(
            {"missing": e.missing, "from": utc_text(e.suspended_at), "until": None, "days": None}
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
        r["stage"] = RequestStage.IN_PROGRESS.value
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
        }
        r["stage"] = RequestStage.DECIDED.value

    @apply_event.register
    def _(self, e: RightsRequest.Sent, r: RequestRecord) -> None:
        r["sent"] = {
            "channel": e.channel,
            "at": utc_text(e.sent_at),
            "objection_deadline": e.objection_deadline.isoformat(),
        }
        r["stage"] = RequestStage.SENT.value

    @apply_event.register
    def _(self, e: RightsRequest.ObjectionLodged, r: RequestRecord) -> None:
        r["objection"] = {"grounds": e.grounds, "lodged_at": utc_text(e.lodged_at)}
        r["stage"] = RequestStage.OBJECTED.value

    @apply_event.register
    def _(self, e: RightsRequest.ObjectionDecided, r: RequestRecord) -> None:
        objection = r["objection"]
        objection["well_founded"] = e.well_founded
        objection["reasons"] = e.reasons
        objection["decided_at"] = utc_text(e.decided_at)
        r["stage"] = RequestStage.CLOSED.value

    @apply_event.register
    def _(self, e: RightsRequest.Closed, r: RequestRecord) -> None:
        r["closed_at"] = utc_text(e.closed_at)
        r["stage"] = RequestStage.CLOSED.value

    @apply_event.register
    def _(self, e: RightsRequest.Withdrawn, r: RequestRecord) -> None:
        r["withdrawn_at"] = utc_text(e.withdrawn_at)
        r["stage"] = RequestStage.WITHDRAWN.value


def with_time_left(r: RequestRecord, today: date) -> dict[str, Any]:
    """The register row with the days left to its deadline (negative: overdue), for open
    requests; a suspended request's clock stands still, so its days left are not counted."""
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
