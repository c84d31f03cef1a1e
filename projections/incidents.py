"""The incident register (the CISO's) and the breach register (AVG art. 33(5)).

One row per incident. The breach register is the same records seen from art. 33(5): every
incident that was established as a breach, with its facts, effects, measures, and whether
the AP and the data subjects were told and why (also when the answer was no). Deadlines and
lateness are those the events recorded, never recomputed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, NotRequired, TypedDict

from eventsourcing.dispatch import singledispatchmethod

from domain.incidents import Incident, Stage
from projections.base import (
    Cursor,
    NoHandler,
    Record,
    RecordProjection,
    SealedText,
    documents,
    to_json,
    utc_text,
)


class Triage(TypedDict):
    impact: str
    significant: bool
    triaged_at: str
    actor: str


class Conclusion(TypedDict):
    """That the incident is no breach: classified so, or reclassified after a breach."""

    reasons: SealedText
    at: str
    actor: str


class Breach(TypedDict):
    aware_at: str
    ap_deadline: str
    natures: list[str]
    data_categories: list[str]
    approx_subjects: int
    approx_records: int
    likely_consequences: SealedText
    actor: str


class WithoutAdvice(TypedDict):
    """Why a decision was taken without FG advice; ``reason`` None: recorded before a decision
    had to say (the domain's ``SealedWithoutFGAdvice``)."""

    reason: str | None
    explanation: SealedText


class FGInformed(TypedDict):
    at: str
    actor: str


class Decision(TypedDict):
    notify_ap: bool
    ap_reasons: SealedText
    inform_subjects: bool
    subjects_reasons: SealedText
    fg_advice: str | None
    fg_advice_followed: bool | None
    departure_reasons: SealedText
    without_fg_advice: WithoutAdvice | None  # None when it rests on FG advice
    decided_at: str
    actor: str


class Supplement(TypedDict):
    at: str
    final: bool
    changed: list[str]  # the parts of the form it changes
    changes: Mapping[str, object]  # their new values: the domain's ``SealedFormChanges``


class Withdrawal(TypedDict):
    reason: SealedText
    at: str


class APNotification(TypedDict):
    meldingsnummer: str
    preliminary: bool
    submitted_at: str
    late: bool
    late_reason: SealedText
    form: Mapping[str, object]  # the domain's ``SealedForm``
    supplements: list[Supplement]
    withdrawn: Withdrawal | None
    actor: str


class SubjectsInformed(TypedDict):
    channel: str
    at: str


class ExternalReport(TypedDict):
    authority: str
    reference: str
    at: str


class Measure(TypedDict):
    measure: SealedText
    taken_at: str


class Evaluation(TypedDict):
    findings: SealedText
    evaluated_at: str


class ProcessorNotice(TypedDict):
    """Art. 33(2): a processor informed the controller of the breach."""

    processor: str
    informed_at: str
    recorded_at: str
    actor: str


class Significance(TypedDict):
    """A significant incident under the Cyberbeveiligingswet, and its early warning's clock
    as judged then (``rule``: the dated rule and its version)."""

    aware_at: str
    early_warning_applies: bool
    early_warning_deadline: str | None
    rule: str
    found_at: str
    actor: str


class EarlyWarning(TypedDict):
    reference: str
    sent_at: str
    late: bool
    actor: str


class IncidentRecord(Record):
    """One incident as the register keeps it; each part is there once its event is."""

    municipality: str
    controller: str
    summary: SealedText
    reported_at: str
    reported_by: str
    stage: str  # a ``Stage`` value
    measures: list[Measure]
    external_reports: list[ExternalReport]
    ap_notifications: list[APNotification]
    triage: NotRequired[Triage]
    not_a_breach: NotRequired[Conclusion]
    breach: NotRequired[Breach]
    decision: NotRequired[Decision]
    reclassified: NotRequired[Conclusion]
    subjects_informed: NotRequired[SubjectsInformed]
    closed_at: NotRequired[str]
    evaluation: NotRequired[Evaluation]
    processor_notices: NotRequired[list[ProcessorNotice]]
    significance: NotRequired[Significance]
    early_warning: NotRequired[EarlyWarning]
    fg_informed: NotRequired[list[FGInformed]]  # seed 002 step 3, each time


class IncidentRegister(RecordProjection[IncidentRecord]):
    name = "incident_register"
    aggregate = Incident
    table = "incidents"
    version = 5
    column_types: ClassVar[dict[str, str]] = {
        "municipality": "TEXT NOT NULL",
        "controller": "TEXT NOT NULL",
        "summary": "TEXT NOT NULL",
        "stage": "TEXT NOT NULL",
        "reported_at": "TEXT NOT NULL",
        "breach": "INTEGER NOT NULL",  # established and not reclassified
        "ap_deadline": "TEXT",
        "ap_pending": "INTEGER NOT NULL",  # the AP is still to be notified
        "notified_late": "INTEGER NOT NULL",
        "late_notifications": "TEXT",  # JSON, for the oversight query: no document to parse
        "departed_from_fg": "INTEGER NOT NULL",
        "departure": "TEXT",  # JSON, likewise
        "fg_advice": "TEXT",  # the advice the notification decision answered
        "without_fg_advice": "INTEGER NOT NULL",  # decided, and on no FG advice
        "closed_at": "TEXT",
        "evaluated_at": "TEXT",
        "early_warning_deadline": "TEXT",
        "early_warning_pending": "INTEGER NOT NULL",  # owed and not sent
        "early_warning_late": "INTEGER NOT NULL",
    }
    indexes = (
        "municipality, reported_at",
        "ap_pending, ap_deadline",
        "notified_late, municipality",
        "departed_from_fg, municipality",
        "fg_advice",
        "evaluated_at, closed_at",
        "early_warning_pending, early_warning_deadline",
        "without_fg_advice, municipality",
    )

    def columns(self, r: IncidentRecord) -> dict[str, Any]:
        breach = r.get("breach")
        decision = r.get("decision")
        pending = (
            breach is not None
            and not r.get("reclassified")
            and (decision is None or decision["notify_ap"])
            and not r["ap_notifications"]
        )
        submitted = r["evidence"].get("APNotificationSubmitted", [])
        late = [
            {
                "meldingsnummer": n["meldingsnummer"],
                "submitted_at": n["submitted_at"],
                "late_reason": n["late_reason"],
                "aware_at": breach["aware_at"],
                "deadline": breach["ap_deadline"],
                "evidence": [index],
            }
            for n, index in zip(r["ap_notifications"], submitted, strict=True)
            if n["late"] and breach is not None
        ]
        departed = decision is not None and decision["fg_advice_followed"] is False
        evaluation = r.get("evaluation")
        return {
            "municipality": r["municipality"],
            "controller": r["controller"],
            "summary": to_json(r["summary"]),  # sealed: opened as it is shown
            "stage": r["stage"],
            "reported_at": r["reported_at"],
            "breach": int(breach is not None and not r.get("reclassified")),
            "ap_deadline": breach and breach["ap_deadline"],
            "ap_pending": int(pending),
            "notified_late": int(bool(late)),
            "late_notifications": to_json(late) if late else None,
            "departed_from_fg": int(departed),
            "departure": to_json(
                {
                    "advice": decision["fg_advice"],
                    "reasons": decision["departure_reasons"],
                    "decided_at": decision["decided_at"],
                    "evidence": r["evidence"]["NotificationDecided"],
                }
            )
            if decision is not None and departed
            else None,
            "fg_advice": decision and decision["fg_advice"],
            "without_fg_advice": int(decision is not None and decision["fg_advice"] is None),
            "closed_at": r.get("closed_at"),
            "evaluated_at": evaluation and evaluation["evaluated_at"],
            **_early_warning_columns(r),
        }

    @singledispatchmethod
    def apply_event(self, e: Incident.Event, r: IncidentRecord) -> None:
        raise NoHandler(self, e)

    @apply_event.register
    def _(self, e: Incident.Reported, r: IncidentRecord) -> None:
        r["municipality"] = e.municipality
        r["controller"] = e.controller
        r["summary"] = e.summary
        r["reported_at"] = utc_text(e.reported_at)
        r["reported_by"] = e.actor
        r["stage"] = Stage.REPORTED.value
        r["measures"] = []
        r["external_reports"] = []
        r["ap_notifications"] = []

    @apply_event.register
    def _(self, e: Incident.Triaged, r: IncidentRecord) -> None:
        r["triage"] = {
            "impact": str(e.impact),
            "significant": e.significant,
            "triaged_at": utc_text(e.triaged_at),
            "actor": e.actor,
        }
        r["stage"] = Stage.TRIAGED.value
        if e.early_warning_deadline is not None:  # recorded so before its own step existed
            r["significance"] = _as_recorded(e, e.triaged_at, e.early_warning_deadline)

    @apply_event.register
    def _(self, e: Incident.ClassifiedNotABreach, r: IncidentRecord) -> None:
        r["not_a_breach"] = {
            "reasons": e.reasons,
            "at": utc_text(e.classified_at),
            "actor": e.actor,
        }
        r["stage"] = Stage.NOT_A_BREACH.value

    @apply_event.register
    def _(self, e: Incident.BreachEstablished, r: IncidentRecord) -> None:
        r["breach"] = {
            "aware_at": utc_text(e.aware_at),
            "ap_deadline": utc_text(e.ap_deadline),
            "natures": [str(n) for n in e.natures],
            "data_categories": list(e.data_categories),
            "approx_subjects": e.approx_subjects,
            "approx_records": e.approx_records,
            "likely_consequences": e.likely_consequences,
            "actor": e.actor,
        }
        r["stage"] = Stage.BREACH.value
        if e.early_warning_deadline is not None:  # likewise: from the breach's awareness
            r["significance"] = _as_recorded(e, e.aware_at, e.early_warning_deadline)

    @apply_event.register
    def _(self, e: Incident.NotificationDecided, r: IncidentRecord) -> None:
        r["decision"] = {
            "notify_ap": e.notify_ap,
            "ap_reasons": e.ap_reasons,
            "inform_subjects": e.inform_subjects,
            "subjects_reasons": e.subjects_reasons,
            "fg_advice": None if e.fg_advice is None else str(e.fg_advice),
            "fg_advice_followed": e.fg_advice_followed,
            "departure_reasons": e.departure_reasons,
            "without_fg_advice": None
            if e.fg_advice is not None
            else {
                "reason": e.without_fg_advice and e.without_fg_advice["reason"],
                "explanation": e.without_fg_advice["explanation"] if e.without_fg_advice else "",
            },
            "decided_at": utc_text(e.decided_at),
            "actor": e.actor,
        }

    @apply_event.register
    def _(self, e: Incident.APNotificationSubmitted, r: IncidentRecord) -> None:
        submitted = utc_text(e.submitted_at)
        r["ap_notifications"].append(
            {
                "meldingsnummer": e.meldingsnummer,
                "preliminary": e.preliminary,
                "submitted_at": submitted,
                # None only in an event recorded before lateness was: then by its deadline.
                "late": submitted > r["breach"]["ap_deadline"] if e.late is None else e.late,
                "late_reason": e.late_reason,
                "form": dict(e.form),
                "supplements": [],
                "withdrawn": None,
                "actor": e.actor,
            }
        )

    @apply_event.register
    def _(self, e: Incident.APNotificationSupplemented, r: IncidentRecord) -> None:
        notification = _notification(r, e.meldingsnummer)
        notification["supplements"].append(
            {
                "at": utc_text(e.supplemented_at),
                "final": e.final,
                "changed": list(e.changed),
                "changes": dict(e.changes),
            }
        )
        if e.final:
            notification["preliminary"] = False

    @apply_event.register
    def _(self, e: Incident.APNotificationWithdrawn, r: IncidentRecord) -> None:
        _notification(r, e.meldingsnummer)["withdrawn"] = {
            "reason": e.reason,
            "at": utc_text(e.withdrawn_at),
        }

    @apply_event.register
    def _(self, e: Incident.ReclassifiedNotABreach, r: IncidentRecord) -> None:
        r["reclassified"] = {
            "reasons": e.reasons,
            "at": utc_text(e.reclassified_at),
            "actor": e.actor,
        }
        r["stage"] = Stage.NOT_A_BREACH.value

    @apply_event.register
    def _(self, e: Incident.SubjectsInformed, r: IncidentRecord) -> None:
        r["subjects_informed"] = {"channel": e.channel, "at": utc_text(e.informed_at)}

    @apply_event.register
    def _(self, e: Incident.ReportedToAuthority, r: IncidentRecord) -> None:
        r["external_reports"].append(
            {"authority": str(e.authority), "reference": e.reference, "at": utc_text(e.reported_at)}
        )

    @apply_event.register
    def _(self, e: Incident.MeasureRecorded, r: IncidentRecord) -> None:
        r["measures"].append({"measure": e.measure, "taken_at": utc_text(e.taken_at)})

    @apply_event.register
    def _(self, e: Incident.Closed, r: IncidentRecord) -> None:
        r["closed_at"] = utc_text(e.closed_at)
        r["stage"] = Stage.CLOSED.value

    @apply_event.register
    def _(self, e: Incident.Evaluated, r: IncidentRecord) -> None:
        r["evaluation"] = {"findings": e.findings, "evaluated_at": utc_text(e.evaluated_at)}

    @apply_event.register
    def _(self, e: Incident.ProcessorNoticeRecorded, r: IncidentRecord) -> None:
        r.setdefault("processor_notices", []).append(
            {
                "processor": str(e.processor),
                "informed_at": utc_text(e.informed_at),
                "recorded_at": utc_text(e.recorded_at),
                "actor": e.actor,
            }
        )

    @apply_event.register
    def _(self, e: Incident.SignificantIncidentFound, r: IncidentRecord) -> None:
        r["significance"] = {
            "aware_at": utc_text(e.aware_at),
            "early_warning_applies": e.early_warning_applies,
            "early_warning_deadline": None
            if e.early_warning_deadline is None
            else utc_text(e.early_warning_deadline),
            "rule": e.rule,
            "found_at": utc_text(e.found_at),
            "actor": e.actor,
        }

    @apply_event.register
    def _(self, e: Incident.FGInformed, r: IncidentRecord) -> None:
        r.setdefault("fg_informed", []).append({"at": utc_text(e.informed_at), "actor": e.actor})

    @apply_event.register
    def _(self, e: Incident.EarlyWarningSent, r: IncidentRecord) -> None:
        r["early_warning"] = {
            "reference": e.reference,
            "sent_at": utc_text(e.sent_at),
            "late": e.late,
            "actor": e.actor,
        }


def _as_recorded(e: Any, aware_at: datetime, deadline: datetime) -> Significance:
    """An early-warning deadline a triage or breach recorded before the dated rule: shown as
    it was recorded, under the deadline rules it names."""
    return {
        "aware_at": utc_text(aware_at),
        "early_warning_applies": True,
        "early_warning_deadline": utc_text(deadline),
        "rule": e.rules,
        "found_at": utc_text(aware_at),
        "actor": e.actor,
    }


def _early_warning_columns(r: IncidentRecord) -> dict[str, Any]:
    significance, sent = r.get("significance"), r.get("early_warning")
    deadline = significance and significance["early_warning_deadline"]
    return {
        "early_warning_deadline": deadline,
        "early_warning_pending": int(bool(deadline) and sent is None),
        "early_warning_late": int(sent is not None and sent["late"]),
    }


def _notification(r: IncidentRecord, meldingsnummer: str) -> APNotification:
    return next(n for n in r["ap_notifications"] if n["meldingsnummer"] == meldingsnummer)


def incident_register(cursor: Cursor, municipality: str) -> list[IncidentRecord]:
    """Every incident of the municipality, newest first."""
    cursor.execute(
        "SELECT doc FROM incidents WHERE municipality = ? ORDER BY reported_at DESC",
        (municipality,),
    )
    return documents(cursor, IncidentRecord)


def breach_register(cursor: Cursor, municipality: str) -> list[dict[str, Any]]:
    """Art. 33(5): every breach with its facts, effects, measures and what was notified and why."""
    cursor.execute(
        "SELECT doc FROM incidents WHERE municipality = ? AND breach = 1 ORDER BY reported_at DESC",
        (municipality,),
    )
    return [breach_entry(r) for r in documents(cursor, IncidentRecord)]


def breach_entry(r: IncidentRecord) -> dict[str, Any]:
    breach, decision = r["breach"], r.get("decision")
    return {
        "id": r["id"],
        "controller": r["controller"],
        "facts": {
            "summary": r["summary"],
            "aware_at": breach["aware_at"],
            "natures": breach["natures"],
            "data_categories": breach["data_categories"],
            "approx_subjects": breach["approx_subjects"],
            "approx_records": breach["approx_records"],
        },
        "effects": breach["likely_consequences"],
        "measures": r["measures"],
        "ap": {
            "notified": bool(r["ap_notifications"]),
            "decision": decision and decision["notify_ap"],
            "reasons": decision and decision["ap_reasons"],
            "deadline": breach["ap_deadline"],
            "notifications": r["ap_notifications"],
        },
        "data_subjects": {
            "informed": r.get("subjects_informed"),
            "decision": decision and decision["inform_subjects"],
            "reasons": decision and decision["subjects_reasons"],
        },
        "fg": fg_involvement(r),
        "evidence": r["evidence"],
    }


def fg_involvement(r: IncidentRecord) -> dict[str, Any]:
    """The FG's part in an incident: when it was informed (seed 002 step 3), and whether the
    notification decision followed its advice, departed from it, or was taken without it."""
    decision = r.get("decision")
    if decision is None:
        involvement = None
    elif decision["fg_advice"] is None:
        involvement = "without_advice"
    else:
        involvement = "followed" if decision["fg_advice_followed"] else "departed"
    return {
        "informed": [moment["at"] for moment in r.get("fg_informed", [])],
        "decision": involvement,
        "advice": decision and decision["fg_advice"],
        "reasons": decision
        and (
            decision["departure_reasons"]
            if decision["without_fg_advice"] is None
            else decision["without_fg_advice"]["explanation"]
        ),
        "without_advice_reason": decision
        and decision["without_fg_advice"]
        and decision["without_fg_advice"]["reason"],
    }
