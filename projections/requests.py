"""The request register: every rights request with its deadline, time left, suspensions,
extension and outcome (AVG art. 12(3); seed 002 bijlage 5).

The deadline is the one the events recorded: set on receipt, moved by a resumption or an
extension, never recomputed here (only for an event of the first ledger version, which did
not record it). No personal data in the clear: the requester appears only as the subject key,
and the texts about the requester stay sealed under it.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from domain.deadlines import local_date, request_deadline
from domain.requests import RightsRequest
from projections.base import Cursor, RecordProjection, from_utc_text, rows, utc_text


class RequestRegister(RecordProjection):
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

    def columns(self, r: dict[str, Any]) -> dict[str, Any]:
        return {
            "municipality": r["municipality"],
            "controller": r["controller"],
            "request_right": r["right"],
            "subject": r["subject"],
            "stage": r["stage"],
            "received_at": r["received_at"],
            "deadline": r["deadline"],
            "open": int(r["stage"] in ("ontvangen", "in behandeling", "opgeschort")),
            "outcome": (r.get("decision") or {}).get("outcome"),
            "decided_at": (r.get("decision") or {}).get("decided_at"),
        }

    def _legacy_deadline(self, r: dict[str, Any]) -> str:
        return request_deadline(
            from_utc_text(r["received_at"]),
            suspended_days=sum(s["days"] or 0 for s in r["suspensions"]),
            extension_months=(r.get("extension") or {}).get("months", 0),
        ).isoformat()

    def _deadline(self, r: dict[str, Any], e: Any) -> None:
        r["deadline"] = self._legacy_deadline(r) if e.deadline is None else e.deadline.isoformat()

    def on_Received(self, r: dict[str, Any], e: Any) -> None:
        r.update(
            municipality=e.municipality,
            controller=e.controller,
            right=str(e.right),
            channel=e.channel,
            subject=str(e.requester.subject),  # the key, never the name
            received_at=utc_text(e.received_at),
            stage="ontvangen",
            suspensions=[],
        )
        self._deadline(r, e)

    def on_IdentityVerified(self, r: dict[str, Any], e: Any) -> None:
        r["identity_verified"] = {"method": e.method, "at": utc_text(e.verified_at)}
        r["stage"] = "in behandeling"

    def on_Suspended(self, r: dict[str, Any], e: Any) -> None:
        r["suspensions"].append(
            {"missing": e.missing, "from": utc_text(e.suspended_at), "until": None, "days": None}
        )
        r["stage"] = "opgeschort"

    def on_Resumed(self, r: dict[str, Any], e: Any) -> None:
        suspension = r["suspensions"][-1]
        suspension["until"] = utc_text(e.resumed_at)
        suspension["days"] = (
            (local_date(e.resumed_at) - local_date(from_utc_text(suspension["from"]))).days
            if e.days is None
            else e.days
        )
        r["stage"] = "in behandeling"
        self._deadline(r, e)

    def on_Extended(self, r: dict[str, Any], e: Any) -> None:
        r["extension"] = {
            "months": e.months,
            "reason": str(e.reason),
            "explanation": e.explanation,
            "requester_told_at": utc_text(e.requester_told_at),
        }
        self._deadline(r, e)

    def on_Decided(self, r: dict[str, Any], e: Any) -> None:
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
        r["stage"] = "besloten"

    def on_Sent(self, r: dict[str, Any], e: Any) -> None:
        r["sent"] = {
            "channel": e.channel,
            "at": utc_text(e.sent_at),
            "objection_deadline": e.objection_deadline.isoformat(),
        }
        r["stage"] = "verzonden"

    def on_ObjectionLodged(self, r: dict[str, Any], e: Any) -> None:
        r["objection"] = {"grounds": e.grounds, "lodged_at": utc_text(e.lodged_at)}
        r["stage"] = "bezwaar"

    def on_ObjectionDecided(self, r: dict[str, Any], e: Any) -> None:
        r["objection"].update(
            well_founded=e.well_founded, reasons=e.reasons, decided_at=utc_text(e.decided_at)
        )
        r["stage"] = "afgerond"

    def on_Closed(self, r: dict[str, Any], e: Any) -> None:
        r["closed_at"] = utc_text(e.closed_at)
        r["stage"] = "afgerond"

    def on_Withdrawn(self, r: dict[str, Any], e: Any) -> None:
        r["withdrawn_at"] = utc_text(e.withdrawn_at)
        r["stage"] = "ingetrokken"


def with_time_left(r: dict[str, Any], today: date) -> dict[str, Any]:
    """The register row with the days left to its deadline (negative: overdue), for open
    requests; a suspended request's clock stands still, so its days left are not counted."""
    left = None
    if r["stage"] in ("ontvangen", "in behandeling"):
        left = (date.fromisoformat(r["deadline"]) - today).days
    return {**r, "days_left": left}


def request_register(cursor: Cursor, municipality: str, today: date) -> list[dict[str, Any]]:
    cursor.execute(
        "SELECT doc FROM requests WHERE municipality = ? ORDER BY received_at DESC",
        (municipality,),
    )
    return [with_time_left(r, today) for r in rows(cursor)]


def subject_owner(cursor: Cursor, subject: str) -> tuple[str, str] | None:
    """The municipality and controller of the request that introduced the data subject."""
    cursor.execute(
        "SELECT municipality, controller FROM requests WHERE subject = ? "
        "ORDER BY received_at LIMIT 1",
        (subject,),
    )
    row = cursor.fetchone()
    return None if row is None else (str(row[0]), str(row[1]))
