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
from projections import oversight
from projections.base import (
    Cursor,
    R,
    Record,
    SealedText,
    documents,
    from_utc_text,
    utc_text,
)
from projections.dpia import DPIARecord
from projections.erasures import ErasureRecord
from projections.fg_advice import AdviceRecord
from projections.incidents import IncidentRecord, fg_involvement
from projections.processors import PROCESSORS_TABLE, ProcessorRecord
from projections.register import ACTIVE, ProcessingRegister
from projections.reporting import SentReport
from projections.requests import RequestRecord
from projections.retention import RetentionRecord


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


def _criminal(r: IncidentRecord) -> bool:
    """Whether the team's last assessment found criminal activity (step 12)."""
    return bool(r["criminal_assessments"]) and r["criminal_assessments"][-1]["criminal"]


def _recipients(chosen: list[IncidentRecord]) -> list[str]:
    return [p["recipient"] for r in chosen for p in r["parties_informed"]]


def incident_response_figures(
    cursor: Cursor, municipality: str, controller: str, period: Period
) -> list[Figure]:
    """The response team's steps (seed 002 bijlage 3) for the incidents reported in the period,
    and the timeliness of their evaluations (step 38)."""
    reported = [
        r
        for r in _records(cursor, "incidents", IncidentRecord, municipality, controller)
        if period.holds(r["reported_at"])
    ]
    convened = [r for r in reported if r.get("irt")]
    criminal = [
        r
        for r in reported
        if r["criminal_assessments"] and r["criminal_assessments"][-1]["criminal"]
    ]
    filed = [r for r in reported if r.get("aangifte")]
    informed = [r for r in reported if r["parties_informed"]]
    not_told = [r for r in reported if r.get("subjects_not_informed")]
    costed = [r for r in reported if r["time_and_costs"]]
    collected = [r for r in reported if r.get("addresses")]
    destroyed = [r for r in collected if r["addresses"]["destroyed_at"]]
    judged = [r for r in reported if r.get("evaluation") and r["evaluation"]["late"] is not None]
    late = [r for r in judged if r["evaluation"]["late"]]
    return [
        Figure("incidents.total", len(reported), _evidence(reported, "Reported")),
        Figure("incidents.irt_convened", len(convened), _evidence(convened, "IRTConvened")),
        Figure(
            "incidents.criminal",
            len(criminal),
            _evidence(criminal, "CriminalActivityAssessed"),
        ),
        Figure("incidents.aangifte", len(filed), _evidence(filed, "AangifteFiled")),
        Figure(
            "incidents.parties_informed",
            dict(
                sorted(
                    Counter(p["recipient"] for r in informed for p in r["parties_informed"]).items()
                )
            ),
            _evidence(informed, "PartyInformed", "ReportedToAuthority"),
        ),
        Figure(
            "incidents.evidence_items",
            sum(len(r["evidence_items"]) for r in reported),
            _evidence(reported, "EvidenceRecorded", "EvidenceHandedOver"),
        ),
        Figure(
            "incidents.hours",
            sum(t["hours"] for r in costed for t in r["time_and_costs"]),
            _evidence(costed, "TimeAndCostsRecorded"),
        ),
        Figure(
            "incidents.costs_eur",
            sum(t["costs_eur"] for r in costed for t in r["time_and_costs"]),
            _evidence(costed, "TimeAndCostsRecorded"),
        ),
        Figure(
            "incidents.subjects_not_informed",
            dict(sorted(Counter(r["subjects_not_informed"]["ground"] for r in not_told).items())),
            _evidence(not_told, "SubjectsNotInformed"),
        ),
        Figure(
            "incidents.addresses_destroyed",
            _share(len(destroyed), len(collected)),
            _evidence(collected, "AddressesCollected", "AddressesDestroyed"),
        ),
        Figure(
            "incidents.evaluated_on_time",
            _share(len(judged) - len(late), len(judged)),
            _evidence(judged, "Evaluated"),
        ),
        Figure(
            "incidents.evaluations_overdue",
            len(late),
            _evidence(late, "Evaluated"),
            [
                {
                    "id": r["id"],
                    "summary": r["summary"],
                    "due_by": r["evaluation"]["due_by"],
                    "evaluated_at": r["evaluation"]["evaluated_at"],
                }
                for r in late
            ],
        ),
    ]


def dpia_figures(
    cursor: Cursor, municipality: str, controller: str, period: Period
) -> list[Figure]:
    """The DPIAs signalled in the period (seed 002 bijlage 4): how far each came, the prior
    consultations of the AP and whether it answered in time, the measures still open."""
    dpias = [
        r
        for r in _records(cursor, "dpias", DPIARecord, municipality, controller)
        if period.holds(r["signalled_at"])
    ]
    required = [r for r in dpias if r.get("pre_scan") and r["pre_scan"]["required"]]
    assessed = [r for r in dpias if r.get("assessment")]
    consulted = [r for r in dpias if r.get("consultation")]
    answered_late = [r for r in consulted if r["consultation"]["late"]]
    decided = [r for r in dpias if r.get("decision")]
    open_measures = [r for r in dpias if any(m["done_at"] is None for m in r["measures"])]

    def listed(r: DPIARecord) -> dict[str, Any]:
        return {"id": r["id"], "activity": r["activity"], "status": r["status"]}

    return [
        Figure(
            "dpia.signalled", len(dpias), _evidence(dpias, "Signalled"), [listed(r) for r in dpias]
        ),
        Figure("dpia.required", len(required), _evidence(required, "PreScanned")),
        Figure("dpia.assessed", len(assessed), _evidence(assessed, "Assessed")),
        Figure(
            "dpia.by_residual_risk",
            dict(sorted(Counter(r["assessment"]["residual_risk"] for r in assessed).items())),
            _evidence(assessed, "Assessed"),
        ),
        Figure(
            "dpia.prior_consultations",
            len(consulted),
            _evidence(consulted, "APConsulted", "APConsultationExtended", "APAnswered"),
            [{"id": r["id"], **r["consultation"]} for r in consulted],
        ),
        Figure("dpia.ap_answered_late", len(answered_late), _evidence(answered_late, "APAnswered")),
        Figure(
            "dpia.by_decision",
            dict(sorted(Counter(r["decision"]["decision"] for r in decided).items())),
            _evidence(decided, "Decided"),
        ),
        Figure(
            "dpia.measures_open",
            sum(m["done_at"] is None for r in open_measures for m in r["measures"]),
            _evidence(open_measures, "Assessed", "MeasureCompleted"),
        ),
    ]


# --- retention and reporting duties (issue 14) ---------------------------------------------------


def retention_figures(cursor: Cursor, municipality: str, period: Period) -> list[Figure]:
    """Records destroyed in the period, by type; records under a legal hold now."""
    first, after = period.bounds()
    cursor.execute(
        "SELECT doc FROM retention WHERE municipality = ? AND destroyed_at >= ? "
        "AND destroyed_at < ?",
        (municipality, first, after),
    )
    destroyed = documents(cursor, RetentionRecord)
    cursor.execute(
        "SELECT doc FROM retention WHERE municipality = ? AND held = 1 ORDER BY record",
        (municipality,),
    )
    held = documents(cursor, RetentionRecord)
    return [
        Figure(
            "retention.destroyed",
            dict(sorted(Counter(r["record_type"] for r in destroyed).items())),
            _evidence(destroyed, "Destroyed"),
        ),
        Figure("retention.held", len(held), _evidence(held, "Placed", "PlacedAgain")),
    ]


def reporting_figures(cursor: Cursor, municipality: str, period: Period) -> list[Figure]:
    """The reports sent in the period, by kind (the duties recorded as facts)."""
    first, after = period.bounds()
    cursor.execute(
        "SELECT doc FROM sent_reports WHERE municipality = ? AND sent_at >= ? AND sent_at < ?",
        (municipality, first, after),
    )
    sent = documents(cursor, SentReport)
    return [
        Figure(
            "reporting.sent",
            dict(sorted(Counter(r["kind"] for r in sent).items())),
            _evidence(sent, "Sent"),
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
        "processors": processor_figures(cursor, municipality, controller, period),
        "early_warnings": early_warning_figures(cursor, municipality, controller, period),
        "fg_involvement": fg_involvement_figures(cursor, municipality, controller, period),
        "incidents": incident_response_figures(cursor, municipality, controller, period),
        "dpia": dpia_figures(cursor, municipality, controller, period),
        "retention": retention_figures(cursor, municipality, period),
        "reporting": reporting_figures(cursor, municipality, period),
    }


# --- processors (art. 28, 33(2)) and the Cyberbeveiligingswet's early warning ---------------


def processor_figures(
    cursor: Cursor, municipality: str, controller: str, period: Period
) -> list[Figure]:
    """The controller's processors and the register's entries naming them as they stand,
    agreements judged in force on the period's last day; and the period's breaches a
    processor told the controller of (art. 33(2))."""
    processors = _records(cursor, PROCESSORS_TABLE, ProcessorRecord, municipality, controller)
    register = ProcessingRegister()

    def of_controller(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [f for f in found if f["controller"] == controller]

    without = of_controller(
        oversight.processing_without_agreement(cursor, [municipality], period.end)
    )
    expired = [
        (r, a["reference"])
        for r in processors
        if (a := r["agreement"]) is not None
        and a["expires_on"] is not None
        and date.fromisoformat(a["expires_on"]) < period.end
    ]
    outside = of_controller(oversight.special_categories_outside_eea(cursor, [municipality]))
    notified = [
        r
        for r in _records(cursor, "incidents", IncidentRecord, municipality, controller)
        if any(period.holds(n["informed_at"]) for n in r.get("processor_notices", []))
    ]
    return [
        Figure(
            "processors.total",
            len(processors),
            sorted(i for r in processors for i in _all_indices(r)),
            [{"id": r["id"], "name": r["name"]} for r in processors],
        ),
        Figure(
            "processors.without_agreement",
            len(without),
            sorted(i for w in without for i in register.entries_of(cursor, w["activity"])),
            [
                {"id": w["version_uri"], "name": f"{w['name']}: {p['name']}"}
                for w in without
                for p in w["processors"]
            ],
        ),
        Figure(
            "processors.agreements_expired",
            len(expired),
            _evidence([r for r, _ in expired], "AgreementConcluded"),
            [{"id": r["id"], "name": f"{r['name']}: {reference}"} for r, reference in expired],
        ),
        Figure(
            "processors.special_outside_eea",
            len(outside),
            sorted(i for o in outside for i in register.entries_of(cursor, o["activity"])),
            [
                {"id": o["version_uri"], "name": f"{o['name']}: {t['name']} ({t['country']})"}
                for o in outside
                for t in o["transfers"]
            ],
        ),
        Figure(
            "processors.breach_notices",
            len(notified),
            _evidence(notified, "ProcessorNoticeRecorded"),
        ),
    ]


def early_warning_figures(
    cursor: Cursor, municipality: str, controller: str, period: Period
) -> list[Figure]:
    """Incidents found significant in the period (Cyberbeveiligingswet): whether the early
    warning was owed by the rule then in force, sent, and sent within its 24 hours."""
    found = [
        r
        for r in _records(cursor, "incidents", IncidentRecord, municipality, controller)
        if r.get("significance") and period.holds(r["significance"]["aware_at"])
    ]
    owed = [r for r in found if r["significance"]["early_warning_applies"]]
    sent = [r for r in owed if r.get("early_warning")]
    late = [r for r in sent if r["early_warning"]["late"]]
    return [
        Figure(
            "early_warnings.significant",
            len(found),
            _evidence(found, "SignificantIncidentFound", "Triaged"),
            [{"id": r["id"], "rule": r["significance"]["rule"]} for r in found],
        ),
        Figure("early_warnings.owed", len(owed), _evidence(owed, "SignificantIncidentFound")),
        Figure(
            "early_warnings.sent_within_24h",
            _share(len(sent) - len(late), len(owed)),
            _evidence(sent, "SignificantIncidentFound", "EarlyWarningSent"),
        ),
        Figure(
            "early_warnings.late",
            len(late) + len([r for r in owed if not r.get("early_warning")]),
            _evidence(late, "EarlyWarningSent"),
        ),
    ]


# --- the FG's involvement (AVG art. 38(1), 39(1); seed 002 bijlage 3 steps 3 and 15) ----------


def fg_involvement_figures(
    cursor: Cursor, municipality: str, controller: str, period: Period
) -> list[Figure]:
    """Per notification decision of the period: FG advice followed, departed from, or none
    asked (with the reason); the incidents of the period the FG was informed of, and when;
    the advice the FG gave unasked."""
    incidents = _records(cursor, "incidents", IncidentRecord, municipality, controller)
    decided = [
        r for r in incidents if r.get("decision") and period.holds(r["decision"]["decided_at"])
    ]
    by_kind = {r["id"]: fg_involvement(r) for r in decided}

    def decisions(kind: str) -> list[IncidentRecord]:
        return [r for r in decided if by_kind[r["id"]]["decision"] == kind]

    without = decisions("without_advice")
    informed = [
        r for r in incidents if any(period.holds(m["at"]) for m in r.get("fg_informed", []))
    ]
    cursor.execute("SELECT doc FROM fg_advice WHERE municipality = ?", (municipality,))
    volunteered = [
        r
        for r in documents(cursor, AdviceRecord)
        if r.get("volunteered") and period.holds(r["requested_at"])
    ]
    return [
        Figure(
            "fg_involvement.advice_followed",
            len(decisions("followed")),
            _evidence(decisions("followed"), "NotificationDecided"),
        ),
        Figure(
            "fg_involvement.advice_departed",
            len(decisions("departed")),
            _evidence(decisions("departed"), "NotificationDecided"),
        ),
        Figure(
            "fg_involvement.without_advice",
            len(without),
            _evidence(without, "NotificationDecided"),
            [
                {
                    "id": r["id"],
                    "summary": r["summary"],
                    "ground": by_kind[r["id"]]["without_advice_reason"],
                    "reason": by_kind[r["id"]]["reasons"],
                }
                for r in without
            ],
        ),
        Figure(
            "fg_involvement.fg_informed",
            len(informed),
            _evidence(informed, "FGInformed"),
            [{"id": r["id"], "informed_at": fg_involvement(r)["informed"]} for r in informed],
        ),
        Figure(
            "fg_involvement.volunteered",
            len(volunteered),
            sorted(i for r in volunteered for i in _all_indices(r)),
            [{"id": r["id"], "about": r["about"]} for r in volunteered],
        ),
    ]
