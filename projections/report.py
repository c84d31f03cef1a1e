"""The accountability report's figures, per controller and period (the FG's annual report and
the ENSIA self-evaluation draw on it), each with the ledger indices of its evidence.

Pure read-model queries: proving the evidence and rendering are the adapters' work.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from domain.deadlines import AMSTERDAM
from projections.base import (
    Cursor,
    R,
    Record,
    SealedText,
    documents,
    from_utc_text,
    utc_text,
)
from projections.erasures import ErasureRecord
from projections.fg_advice import AdviceRecord
from projections.incidents import IncidentRecord
from projections.register import ACTIVE, ProcessingRegister
from projections.requests import RequestRecord


@dataclass
class Figure:
    key: str
    value: Any  # a count, a share (0..1, None when there is nothing to divide), or counts by kind
    evidence: list[int]  # ledger indices
    detail: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Period:
    start: date  # first day, inclusive
    end: date  # last day, inclusive

    def bounds(self) -> tuple[str, str]:
        """The period's first and first-after moments, in UTC text, by Amsterdam days."""
        first = datetime.combine(self.start, time(), tzinfo=AMSTERDAM)
        after = datetime.combine(date.fromordinal(self.end.toordinal() + 1), time(), AMSTERDAM)
        return utc_text(first), utc_text(after)

    def holds(self, moment: str) -> bool:
        first, after = self.bounds()
        return first <= moment < after


def _indices(record: Record, *events: str) -> list[int]:
    return sorted(i for e in events for i in record["evidence"].get(e, []))


def _all_indices(record: Record) -> list[int]:
    return sorted(i for indices in record["evidence"].values() for i in indices)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _records(
    cursor: Cursor, table: str, kind: type[R], municipality: str, controller: str
) -> list[R]:
    """The controller's records in one read model (``kind``, kept in ``table``)."""
    cursor.execute(
        f"SELECT doc FROM {table} WHERE municipality = ? AND controller = ?",
        (municipality, controller),
    )
    return documents(cursor, kind)


def register_figures(cursor: Cursor, municipality: str, controller: str) -> list[Figure]:
    register = ProcessingRegister()
    active = [
        r
        for r in register.snapshot(cursor)
        if r["municipality"] == municipality
        and r["controller"] == controller
        and r["status"] == ACTIVE
    ]
    evidence = {r["activity"]: register.entries_of(cursor, r["activity"]) for r in active}

    def figure(key: str, chosen: list[dict[str, Any]]) -> Figure:
        return Figure(
            key,
            len(chosen),
            sorted(i for r in chosen for i in evidence[r["activity"]]),
            [{"id": r["version_uri"], "name": r["entry"]["name"]} for r in chosen],
        )

    required = [r for r in active if r["entry"]["dpia_required"]]
    sensitive = [
        r
        for r in active
        if r["entry"]["special_categories"] or r["entry"]["criminal_data"] or r["entry"]["bsn_used"]
    ]
    return [
        figure("register.active", active),
        figure("register.dpia_required", required),
        figure("register.dpia_required_done", [r for r in required if r["dpia_at"]]),
        figure("register.sensitive_without_dpia", [r for r in sensitive if not r["dpia_at"]]),
        figure(
            "register.without_selectielijst",
            [r for r in active if not r["entry"]["selectielijst_reference"]],
        ),
    ]


def _hours(start: str, end: str) -> float:
    return round((from_utc_text(end) - from_utc_text(start)).total_seconds() / 3600, 1)


def _evidence(chosen: Sequence[Record], *events: str) -> list[int]:
    return sorted(i for r in chosen for i in _indices(r, *events))


def _notified(breaches: list[IncidentRecord]) -> list[IncidentRecord]:
    return [r for r in breaches if r["ap_notifications"]]


def _notified_late(breaches: list[IncidentRecord]) -> list[IncidentRecord]:
    """By the first notification: the one the 72 hours are about."""
    return [r for r in _notified(breaches) if r["ap_notifications"][0]["late"]]


BreachFigure = Callable[[list[IncidentRecord]], Figure]


def breaches_total(breaches: list[IncidentRecord]) -> Figure:
    return Figure(
        "breaches.total",
        len(breaches),
        _evidence(breaches, "BreachEstablished", "Triaged"),
        [timeline(r) for r in breaches],
    )


def _breaches_by(kind: str, values: Callable[[IncidentRecord], list[str]]) -> BreachFigure:
    def figure(breaches: list[IncidentRecord]) -> Figure:
        counts = Counter(value for r in breaches for value in values(r))
        return Figure(
            f"breaches.by_{kind}",
            dict(sorted(counts.items())),
            _evidence(breaches, "BreachEstablished", "Triaged"),
        )

    return figure


def breaches_notified(breaches: list[IncidentRecord]) -> Figure:
    notified = _notified(breaches)
    return Figure(
        "breaches.notified", len(notified), _evidence(notified, "APNotificationSubmitted")
    )


def breaches_notified_within_72h(breaches: list[IncidentRecord]) -> Figure:
    notified = _notified(breaches)
    return Figure(
        "breaches.notified_within_72h",
        _share(len(notified) - len(_notified_late(breaches)), len(notified)),
        _evidence(notified, "BreachEstablished", "APNotificationSubmitted"),
    )


def breaches_notified_late(breaches: list[IncidentRecord]) -> Figure:
    late = _notified_late(breaches)
    return Figure(
        "breaches.notified_late",
        len(late),
        _evidence(late, "APNotificationSubmitted"),
        [
            {
                "id": r["id"],
                "summary": r["summary"],
                "reason": r["ap_notifications"][0]["late_reason"],
            }
            for r in late
        ],
    )


def breaches_not_notified(breaches: list[IncidentRecord]) -> Figure:
    """Decided not to notify the AP, with the decision's reasons."""
    chosen = [r for r in breaches if r.get("decision") and not r["decision"]["notify_ap"]]
    return Figure(
        "breaches.not_notified",
        len(chosen),
        _evidence(chosen, "NotificationDecided"),
        [
            {"id": r["id"], "summary": r["summary"], "reason": r["decision"]["ap_reasons"]}
            for r in chosen
        ],
    )


def breaches_subjects_informed(breaches: list[IncidentRecord]) -> Figure:
    informed = [r for r in breaches if r.get("subjects_informed")]
    return Figure(
        "breaches.subjects_informed", len(informed), _evidence(informed, "SubjectsInformed")
    )


def breaches_reclassified(reclassified: list[IncidentRecord]) -> Figure:
    return Figure(
        "breaches.reclassified",
        len(reclassified),
        _evidence(reclassified, "ReclassifiedNotABreach"),
        [{"id": r["id"], "reason": r["reclassified"]["reasons"]} for r in reclassified],
    )


# The figures of the period's breaches, in the report's order; the reclassified come last.
BREACH_FIGURES: tuple[BreachFigure, ...] = (
    breaches_total,
    _breaches_by("impact", lambda r: [r["triage"]["impact"]]),
    _breaches_by("nature", lambda r: r["breach"]["natures"]),
    breaches_notified,
    breaches_notified_within_72h,
    breaches_notified_late,
    breaches_not_notified,
    breaches_subjects_informed,
)


def breach_figures(
    cursor: Cursor, municipality: str, controller: str, period: Period
) -> list[Figure]:
    """The breaches whose awareness moment lies in the period, and those of them reclassified."""
    aware = [
        r
        for r in _records(cursor, "incidents", IncidentRecord, municipality, controller)
        if r.get("breach") and period.holds(r["breach"]["aware_at"])
    ]
    breaches = [r for r in aware if not r.get("reclassified")]
    reclassified = [r for r in aware if r.get("reclassified")]
    return [*(figure(breaches) for figure in BREACH_FIGURES), breaches_reclassified(reclassified)]


def timeline(r: IncidentRecord) -> dict[str, Any]:
    """A breach against its 72 hours: hours from awareness to the first AP notification."""
    first = r["ap_notifications"][0] if r["ap_notifications"] else None
    decision = r.get("decision")
    return {
        "id": r["id"],
        "summary": r["summary"],
        "aware_at": r["breach"]["aware_at"],
        "notify_ap": decision and decision["notify_ap"],
        "hours": None if first is None else _hours(r["breach"]["aware_at"], first["submitted_at"]),
        "late_reason": None if first is None else first["late_reason"],
    }


def request_figures(
    cursor: Cursor, municipality: str, controller: str, period: Period
) -> list[Figure]:
    requests = [
        r
        for r in _records(cursor, "requests", RequestRecord, municipality, controller)
        if period.holds(r["received_at"])
    ]
    decided = [r for r in requests if r.get("decision")]
    on_time = [r for r in decided if r["decision"]["on_time"]]
    extended = [r for r in requests if r.get("extension")]

    def by(key: str, chosen: list[RequestRecord], kind: Callable[[RequestRecord], str]) -> Figure:
        return Figure(
            key,
            dict(sorted(Counter(kind(r) for r in chosen).items())),
            sorted(i for r in chosen for i in _indices(r, "Received", "Decided")),
        )

    return [
        Figure(
            "requests.total",
            len(requests),
            sorted(i for r in requests for i in _indices(r, "Received")),
        ),
        by("requests.by_right", requests, lambda r: r["right"]),
        by("requests.by_outcome", decided, lambda r: r["decision"]["outcome"]),
        Figure(
            "requests.decided_on_time",
            _share(len(on_time), len(decided)),
            sorted(i for r in decided for i in _indices(r, "Received", "Decided")),
            [handling(r) for r in decided],
        ),
        Figure(
            "requests.extended",
            len(extended),
            sorted(i for r in extended for i in _indices(r, "Extended")),
            [{"id": r["id"], "reason": r["extension"]["reason"]} for r in extended],
        ),
    ]


# --- rights requests sent on time, objections under the Awb (issue 14) ------------------------


def sending_figures(
    cursor: Cursor, municipality: str, controller: str, period: Period
) -> list[Figure]:
    """Art. 12(3): on time is the requester informed by the deadline, judged at sending (an old
    decision keeps its judgement at decision); objections with their Awb terms and penalties."""
    requests = [
        r
        for r in _records(cursor, "requests", RequestRecord, municipality, controller)
        if period.holds(r["received_at"])
    ]
    sent = [r for r in requests if r.get("sent")]
    not_sent = [r for r in requests if r.get("decision") and not r.get("sent")]
    objected = [r for r in requests if r.get("objection")]
    decided = [r for r in objected if r["objection"].get("outcome")]
    term_kept = [r for r in decided if r["objection"].get("decided_late") is False]
    noticed = [r for r in requests if r.get("notices_of_default")]
    euros = sum(
        part.get("penalty_euros", 0)
        for r in noticed
        for part in (r.get("sent"), r.get("objection"))
        if part is not None
    )
    return [
        Figure(
            "requests.sent_on_time",
            _share(sum(1 for r in sent if r["sent"]["on_time"]), len(sent)),
            sorted(i for r in sent for i in _indices(r, "Received", "Sent")),
            [
                {
                    "id": r["id"],
                    "on_time": r["sent"]["on_time"],
                    "judged_at": r["sent"]["judged_at"],
                }
                for r in sent
            ],
        ),
        Figure(
            "requests.decided_not_sent",
            len(not_sent),
            sorted(i for r in not_sent for i in _indices(r, "Decided")),
            [{"id": r["id"], "deadline": r["deadline"]} for r in not_sent],
        ),
        Figure(
            "objections.total",
            len(objected),
            sorted(i for r in objected for i in _indices(r, "ObjectionLodged")),
        ),
        Figure(
            "objections.late",
            sum(1 for r in objected if r["objection"].get("late")),
            sorted(
                i
                for r in objected
                if r["objection"].get("late")
                for i in _indices(r, "ObjectionLodged", "LatenessExcused", "DeclaredInadmissible")
            ),
        ),
        Figure(
            "objections.by_outcome",
            dict(sorted(Counter(r["objection"]["outcome"] for r in decided).items())),
            sorted(
                i for r in decided for i in _indices(r, "ObjectionDecided", "DeclaredInadmissible")
            ),
        ),
        Figure(
            "objections.decided_on_time",
            _share(len(term_kept), len(decided)),
            sorted(i for r in decided for i in _indices(r, "ObjectionLodged", "ObjectionDecided")),
        ),
        Figure(
            "requests.notices_of_default",
            len(noticed),
            sorted(i for r in noticed for i in _indices(r, "NoticeOfDefaultReceived")),
            [{"id": r["id"]} for r in noticed],
        ),
        Figure(
            "requests.penalties_euros",
            euros,
            sorted(i for r in noticed for i in _indices(r, "Sent", "ObjectionDecided")),
        ),
    ]


def handling(r: RequestRecord) -> dict[str, Any]:
    """A decided request: days taken against the days the deadline allowed."""
    received = from_utc_text(r["received_at"]).astimezone(AMSTERDAM).date()
    decided = from_utc_text(r["decision"]["decided_at"]).astimezone(AMSTERDAM).date()
    return {
        "id": r["id"],
        "right": r["right"],
        "received": received.isoformat(),
        "days": (decided - received).days,
        "allowed": (date.fromisoformat(r["deadline"]) - received).days,
        "on_time": r["decision"]["on_time"],
    }


def fg_advice_figures(cursor: Cursor, municipality: str, period: Period) -> list[Figure]:
    cursor.execute("SELECT doc FROM fg_advice WHERE municipality = ?", (municipality,))
    advice = [r for r in documents(cursor, AdviceRecord) if period.holds(r["requested_at"])]
    cursor.execute(
        "SELECT doc FROM incidents WHERE municipality = ? AND fg_advice IS NOT NULL",
        (municipality,),
    )
    decisions = {r["decision"]["fg_advice"]: r for r in documents(cursor, IncidentRecord)}

    def answer(r: AdviceRecord) -> tuple[bool | None, SealedText, list[int]]:
        """Answered on the advice itself, or in the breach decision it was about."""
        if r.get("answer"):
            return r["answer"]["followed"], r["answer"]["reasons"], _indices(r, "Answered")
        decision = decisions.get(r["id"])
        if decision is not None:
            d = decision["decision"]
            return (
                d["fg_advice_followed"],
                d["departure_reasons"],
                _indices(decision, "NotificationDecided"),
            )
        return None, "", []

    answers = {r["id"]: answer(r) for r in advice}
    followed = [r for r in advice if answers[r["id"]][0] is True]
    departed = [r for r in advice if answers[r["id"]][0] is False]
    open_ = [r for r in advice if r.get("advice") and answers[r["id"]][0] is None]

    def evidence(chosen: list[AdviceRecord]) -> list[int]:
        return sorted({i for r in chosen for i in [*_all_indices(r), *answers[r["id"]][2]]})

    return [
        Figure("fg_advice.total", len(advice), evidence(advice)),
        Figure("fg_advice.followed", len(followed), evidence(followed)),
        Figure(
            "fg_advice.not_followed",
            len(departed),
            evidence(departed),
            [{"id": r["id"], "reason": answers[r["id"]][1]} for r in departed],
        ),
        Figure("fg_advice.unanswered", len(open_), evidence(open_)),
    ]


def erasure_figures(cursor: Cursor, municipality: str, period: Period) -> list[Figure]:
    first, after = period.bounds()
    cursor.execute(
        "SELECT doc FROM erasures WHERE municipality = ? AND erased_at >= ? AND erased_at < ?",
        (municipality, first, after),
    )
    erased = documents(cursor, ErasureRecord)
    return [
        Figure(
            "erasures.by_ground",
            dict(sorted(Counter(r["ground"] for r in erased).items())),
            sorted(i for r in erased for i in _all_indices(r)),
            [{"id": r["id"], "reference": r["reference"]} for r in erased],
        )
    ]


def report_figures(
    cursor: Cursor, municipality: str, controller: str, period: Period
) -> dict[str, list[Figure]]:
    return {
        "register": register_figures(cursor, municipality, controller),
        "breaches": breach_figures(cursor, municipality, controller, period),
        "requests": [
            *request_figures(cursor, municipality, controller, period),
            *sending_figures(cursor, municipality, controller, period),
        ],
        "fg_advice": fg_advice_figures(cursor, municipality, period),
        "erasures": erasure_figures(cursor, municipality, period),
    }
