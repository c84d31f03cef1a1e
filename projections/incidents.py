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


class PartyInformed(TypedDict):
    """Someone outside the team informed (seed 002 steps 15, 33-36): a ``Recipient`` value, or
    an ``Authority`` value in a ledger recorded before informing had one step."""

    recipient: str
    party: SealedText
    reference: str
    at: str
    actor: str


class Measure(TypedDict):
    measure: SealedText
    taken_at: str


class Evaluation(TypedDict):
    findings: SealedText
    evaluated_at: str
    due_by: str | None  # None: recorded before the evaluation's timeliness was judged
    late: bool | None


class IRT(TypedDict):
    """The incident response team (step 10) and the evaluation it is to hold (step 38)."""

    members: list[str]
    notes: SealedText
    convened_at: str
    evaluation_due_from: str
    evaluation_due_by: str
    actor: str


class Assessment(TypedDict):
    """The team's first assessment (step 11)."""

    likely_breach: bool
    ap_pre_notification: bool
    investigation: SealedText
    at: str
    actor: str


class CriminalAssessment(TypedDict):
    """Whether there is criminal activity (step 12); the last one counts."""

    criminal: bool
    reasons: SealedText
    at: str
    actor: str


class MayorConsulted(TypedDict):
    """Step 13: whether to file an aangifte, decided with the burgemeester."""

    file_aangifte: bool
    reasons: SealedText
    at: str
    actor: str


class Aangifte(TypedDict):
    """Step 13: filed by the secretary after the burgemeester agreed."""

    reference: str
    filed_at: str
    actor: str


class Custody(TypedDict):
    custodian: SealedText
    kept_at: SealedText
    reason: SealedText  # why it changed hands; "" when collected
    at: str
    actor: str


class EvidenceItem(TypedDict):
    """One item of the team's inventory (steps 17-18) with its chain of custody."""

    item: int
    description: SealedText
    sha256: str
    collected_at: str
    custody: list[Custody]


class TimeAndCosts(TypedDict):
    hours: int
    costs_eur: int
    description: SealedText
    at: str
    actor: str


class SubjectsNotInformed(TypedDict):
    """Why the data subjects were not told (step 27; AVG art. 34(1) or (3))."""

    ground: str
    reasons: SealedText
    public_communication: SealedText
    communicated_at: str | None
    at: str
    actor: str


class Addresses(TypedDict):
    """The addresses of those affected (step 28): collected, and destroyed afterwards."""

    approx_subjects: int
    kept_at: SealedText
    collected_at: str
    destroyed_at: str | None
    method: str | None


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
    parties_informed: list[PartyInformed]
    ap_notifications: list[APNotification]
    assessments: list[Assessment]
    criminal_assessments: list[CriminalAssessment]
    mayor_consultations: list[MayorConsulted]
    evidence_items: list[EvidenceItem]
    time_and_costs: list[TimeAndCosts]
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
    irt: NotRequired[IRT]
    aangifte: NotRequired[Aangifte]
    subjects_not_informed: NotRequired[SubjectsNotInformed]
    addresses: NotRequired[Addresses]


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
        # seed 002 bijlage 3: what the FG's oversight asks of the response team's steps
        "evaluation_due_by": "TEXT",  # the IRT's evaluation's last day (step 38)
        "criminal": "INTEGER",  # the last assessment of criminal activity (step 12)
        "aangifte_at": "TEXT",
        "addresses_kept": "INTEGER NOT NULL",  # collected and not yet destroyed (step 28)
        "subjects_unexplained": "INTEGER NOT NULL",  # not told, and no ground given (27)
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
        "evaluated_at, evaluation_due_by",
        "criminal, aangifte_at",
        "addresses_kept, municipality",
        "subjects_unexplained, municipality",
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
            **self.response_columns(r),
        }

    def response_columns(self, r: IncidentRecord) -> dict[str, Any]:
        """The columns of the response team's steps (seed 002 bijlage 3)."""
        decision, irt, addresses = r.get("decision"), r.get("irt"), r.get("addresses")
        criminal = r["criminal_assessments"][-1]["criminal"] if r["criminal_assessments"] else None
        aangifte = r.get("aangifte")
        unexplained = (
            r.get("breach") is not None
            and not r.get("reclassified")
            and decision is not None
            and not decision["inform_subjects"]
            and "subjects_not_informed" not in r
        )
        return {
            "evaluation_due_by": irt and irt["evaluation_due_by"],
            "criminal": None if criminal is None else int(criminal),
            "aangifte_at": aangifte and aangifte["filed_at"],
            "addresses_kept": int(addresses is not None and addresses["destroyed_at"] is None),
            "subjects_unexplained": int(unexplained),
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
        r["parties_informed"] = []
        r["ap_notifications"] = []
        r["assessments"] = []
        r["criminal_assessments"] = []
        r["mayor_consultations"] = []
        r["evidence_items"] = []
        r["time_and_costs"] = []

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
        r["parties_informed"].append(
            {
                "recipient": str(e.authority),
                "party": "",
                "reference": e.reference,
                "at": utc_text(e.reported_at),
                "actor": e.actor,
            }
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
        r["evaluation"] = {
            "findings": e.findings,
            "evaluated_at": utc_text(e.evaluated_at),
            "due_by": None if e.due_by is None else e.due_by.isoformat(),
            "late": e.late,
        }

    # --- the incident response team (seed 002 bijlage 3) ---------------------------------------

    @apply_event.register
    def _(self, e: Incident.IRTConvened, r: IncidentRecord) -> None:
        r["irt"] = {
            "members": [str(m) for m in e.members],
            "notes": e.notes,
            "convened_at": utc_text(e.convened_at),
            "evaluation_due_from": e.evaluation_due_from.isoformat(),
            "evaluation_due_by": e.evaluation_due_by.isoformat(),
            "actor": e.actor,
        }

    @apply_event.register
    def _(self, e: Incident.IncidentAssessed, r: IncidentRecord) -> None:
        r["assessments"].append(
            {
                "likely_breach": e.likely_breach,
                "ap_pre_notification": e.ap_pre_notification,
                "investigation": e.investigation,
                "at": utc_text(e.assessed_at),
                "actor": e.actor,
            }
        )

    @apply_event.register
    def _(self, e: Incident.CriminalActivityAssessed, r: IncidentRecord) -> None:
        r["criminal_assessments"].append(
            {
                "criminal": e.criminal,
                "reasons": e.reasons,
                "at": utc_text(e.assessed_at),
                "actor": e.actor,
            }
        )

    @apply_event.register
    def _(self, e: Incident.MayorConsulted, r: IncidentRecord) -> None:
        r["mayor_consultations"].append(
            {
                "file_aangifte": e.file_aangifte,
                "reasons": e.reasons,
                "at": utc_text(e.consulted_at),
                "actor": e.actor,
            }
        )

    @apply_event.register
    def _(self, e: Incident.AangifteFiled, r: IncidentRecord) -> None:
        r["aangifte"] = {
            "reference": e.reference,
            "filed_at": utc_text(e.filed_at),
            "actor": e.actor,
        }

    @apply_event.register
    def _(self, e: Incident.EvidenceRecorded, r: IncidentRecord) -> None:
        collected = utc_text(e.collected_at)
        r["evidence_items"].append(
            {
                "item": e.item,
                "description": e.description,
                "sha256": e.sha256,
                "collected_at": collected,
                "custody": [
                    {
                        "custodian": e.custodian,
                        "kept_at": e.kept_at,
                        "reason": "",
                        "at": collected,
                        "actor": e.actor,
                    }
                ],
            }
        )

    @apply_event.register
    def _(self, e: Incident.EvidenceHandedOver, r: IncidentRecord) -> None:
        item = next(i for i in r["evidence_items"] if i["item"] == e.item)
        item["custody"].append(
            {
                "custodian": e.custodian,
                "kept_at": e.kept_at,
                "reason": e.reason,
                "at": utc_text(e.handed_over_at),
                "actor": e.actor,
            }
        )

    @apply_event.register
    def _(self, e: Incident.PartyInformed, r: IncidentRecord) -> None:
        r["parties_informed"].append(
            {
                "recipient": str(e.recipient),
                "party": e.party,
                "reference": e.reference,
                "at": utc_text(e.informed_at),
                "actor": e.actor,
            }
        )

    @apply_event.register
    def _(self, e: Incident.TimeAndCostsRecorded, r: IncidentRecord) -> None:
        r["time_and_costs"].append(
            {
                "hours": e.hours,
                "costs_eur": e.costs_eur,
                "description": e.description,
                "at": utc_text(e.recorded_at),
                "actor": e.actor,
            }
        )

    @apply_event.register
    def _(self, e: Incident.SubjectsNotInformed, r: IncidentRecord) -> None:
        r["subjects_not_informed"] = {
            "ground": str(e.ground),
            "reasons": e.reasons,
            "public_communication": e.public_communication,
            "communicated_at": None if e.communicated_at is None else utc_text(e.communicated_at),
            "at": utc_text(e.recorded_at),
            "actor": e.actor,
        }

    @apply_event.register
    def _(self, e: Incident.AddressesCollected, r: IncidentRecord) -> None:
        r["addresses"] = {
            "approx_subjects": e.approx_subjects,
            "kept_at": e.kept_at,
            "collected_at": utc_text(e.collected_at),
            "destroyed_at": None,
            "method": None,
        }

    @apply_event.register
    def _(self, e: Incident.AddressesDestroyed, r: IncidentRecord) -> None:
        r["addresses"]["destroyed_at"] = utc_text(e.destroyed_at)
        r["addresses"]["method"] = e.method

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
            "not_informed": r.get("subjects_not_informed"),
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
