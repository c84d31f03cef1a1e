"""The incident register (the CISO's) and the breach register (AVG art. 33(5)).

One row per incident. The breach register is the same records seen from art. 33(5): every
incident that was established as a breach, with its facts, effects, measures, and whether
the AP and the data subjects were told and why (also when the answer was no). Deadlines and
lateness are those the events recorded, never recomputed here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from domain.incidents import Incident
from projections.base import Cursor, RecordProjection, rows, to_json, utc_text


class IncidentRegister(RecordProjection):
    name = "incident_register"
    aggregate = Incident
    table = "incidents"
    version = 4
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
        "closed_at": "TEXT",
        "evaluated_at": "TEXT",
    }
    indexes = (
        "municipality, reported_at",
        "ap_pending, ap_deadline",
        "notified_late, municipality",
        "departed_from_fg, municipality",
        "fg_advice",
        "evaluated_at, closed_at",
    )

    def columns(self, r: dict[str, Any]) -> dict[str, Any]:
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
            "closed_at": r.get("closed_at"),
            "evaluated_at": (r.get("evaluation") or {}).get("evaluated_at"),
        }

    def on_Reported(self, r: dict[str, Any], e: Any) -> None:
        r.update(
            municipality=e.municipality,
            controller=e.controller,
            summary=e.summary,
            reported_at=utc_text(e.reported_at),
            reported_by=e.actor,
            stage="gemeld",
            measures=[],
            external_reports=[],
            ap_notifications=[],
        )

    def on_Triaged(self, r: dict[str, Any], e: Any) -> None:
        r["triage"] = {
            "impact": str(e.impact),
            "significant": e.significant,
            "triaged_at": utc_text(e.triaged_at),
            "actor": e.actor,
        }
        r["stage"] = "beoordeeld"

    def on_ClassifiedNotABreach(self, r: dict[str, Any], e: Any) -> None:
        r["not_a_breach"] = {
            "reasons": e.reasons,
            "at": utc_text(e.classified_at),
            "actor": e.actor,
        }
        r["stage"] = "geen datalek"

    def on_BreachEstablished(self, r: dict[str, Any], e: Any) -> None:
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
        r["stage"] = "datalek"

    def on_NotificationDecided(self, r: dict[str, Any], e: Any) -> None:
        r["decision"] = {
            "notify_ap": e.notify_ap,
            "ap_reasons": e.ap_reasons,
            "inform_subjects": e.inform_subjects,
            "subjects_reasons": e.subjects_reasons,
            "fg_advice": e.fg_advice and str(e.fg_advice),
            "fg_advice_followed": e.fg_advice_followed,
            "departure_reasons": e.departure_reasons,
            "decided_at": utc_text(e.decided_at),
            "actor": e.actor,
        }

    def on_APNotificationSubmitted(self, r: dict[str, Any], e: Any) -> None:
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

    def _notification(self, r: dict[str, Any], meldingsnummer: str) -> dict[str, Any]:
        return next(n for n in r["ap_notifications"] if n["meldingsnummer"] == meldingsnummer)

    def on_APNotificationSupplemented(self, r: dict[str, Any], e: Any) -> None:
        notification = self._notification(r, e.meldingsnummer)
        notification["supplements"].append(
            {"at": utc_text(e.supplemented_at), "final": e.final, "form": dict(e.form)}
        )
        if e.final:
            notification["preliminary"] = False

    def on_APNotificationWithdrawn(self, r: dict[str, Any], e: Any) -> None:
        self._notification(r, e.meldingsnummer)["withdrawn"] = {
            "reason": e.reason,
            "at": utc_text(e.withdrawn_at),
        }

    def on_ReclassifiedNotABreach(self, r: dict[str, Any], e: Any) -> None:
        r["reclassified"] = {
            "reasons": e.reasons,
            "at": utc_text(e.reclassified_at),
            "actor": e.actor,
        }
        r["stage"] = "geen datalek"

    def on_SubjectsInformed(self, r: dict[str, Any], e: Any) -> None:
        r["subjects_informed"] = {"channel": e.channel, "at": utc_text(e.informed_at)}

    def on_ReportedToAuthority(self, r: dict[str, Any], e: Any) -> None:
        r["external_reports"].append(
            {"authority": str(e.authority), "reference": e.reference, "at": utc_text(e.reported_at)}
        )

    def on_MeasureRecorded(self, r: dict[str, Any], e: Any) -> None:
        r["measures"].append({"measure": e.measure, "taken_at": utc_text(e.taken_at)})

    def on_Closed(self, r: dict[str, Any], e: Any) -> None:
        r["closed_at"] = utc_text(e.closed_at)
        r["stage"] = "afgesloten"

    def on_Evaluated(self, r: dict[str, Any], e: Any) -> None:
        r["evaluation"] = {"findings": e.findings, "evaluated_at": utc_text(e.evaluated_at)}


def incident_register(cursor: Cursor, municipality: str) -> list[dict[str, Any]]:
    """Every incident of the municipality, newest first."""
    cursor.execute(
        "SELECT doc FROM incidents WHERE municipality = ? ORDER BY reported_at DESC",
        (municipality,),
    )
    return rows(cursor)


def breach_register(cursor: Cursor, municipality: str) -> list[dict[str, Any]]:
    """Art. 33(5): every breach with its facts, effects, measures and what was notified and why."""
    cursor.execute(
        "SELECT doc FROM incidents WHERE municipality = ? AND breach = 1 ORDER BY reported_at DESC",
        (municipality,),
    )
    return [breach_entry(r) for r in rows(cursor)]


def breach_entry(r: dict[str, Any]) -> dict[str, Any]:
    breach, decision = r["breach"], r.get("decision") or {}
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
            "decision": decision.get("notify_ap"),
            "reasons": decision.get("ap_reasons"),
            "deadline": breach["ap_deadline"],
            "notifications": r["ap_notifications"],
        },
        "data_subjects": {
            "informed": r.get("subjects_informed"),
            "decision": decision.get("inform_subjects"),
            "reasons": decision.get("subjects_reasons"),
        },
        "evidence": r["evidence"],
    }
