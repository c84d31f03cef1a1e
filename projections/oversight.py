"""The FG's oversight queries (AVG art. 39: monitoring compliance), over the read models.

Each takes the municipalities the FG serves (one FG may serve several) and the moment it is
asked; each is one indexed query, so it stays fast however long the ledger grows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from domain.deadlines import EVALUATION_PERIOD, penalty_owed
from domain.requests import RequestStage
from projections.base import Cursor, documents, from_utc_text, rows, utc_text
from projections.fg_advice import AdviceRecord
from projections.register import current_register
from projections.requests import RequestRecord, with_time_left

NEAR_DEADLINE_DAYS = 7  # a week's warning before a request's deadline


def _in(municipalities: Sequence[str]) -> str:
    if not municipalities:
        raise ValueError("name at least one municipality")
    return f"municipality IN ({', '.join('?' * len(municipalities))})"


def open_breaches(
    cursor: Cursor, municipalities: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    """Breaches the AP is still to be told of, soonest deadline first, with hours left
    (negative: the 72 hours have passed)."""
    cursor.execute(
        "SELECT record, municipality, controller, summary, ap_deadline FROM incidents "
        f"WHERE ap_pending = 1 AND {_in(municipalities)} ORDER BY ap_deadline",
        tuple(municipalities),
    )
    return [
        {
            "id": record,
            "municipality": municipality,
            "controller": controller,
            "summary": json.loads(summary),
            "ap_deadline": deadline,
            "hours_left": round((from_utc_text(deadline) - now).total_seconds() / 3600, 1),
        }
        for record, municipality, controller, summary, deadline in cursor.fetchall()
    ]


def late_ap_notifications(cursor: Cursor, municipalities: Sequence[str]) -> list[dict[str, Any]]:
    """AP notifications made after the 72 hours, with the reasons given for the delay."""
    cursor.execute(
        "SELECT record, municipality, late_notifications FROM incidents "
        f"WHERE notified_late = 1 AND {_in(municipalities)} ORDER BY reported_at",
        tuple(municipalities),
    )
    return [
        {"incident": record, "municipality": municipality, **late}
        for record, municipality, text in cursor.fetchall()
        for late in json.loads(text)
    ]


def departures_from_fg_advice(
    cursor: Cursor, municipalities: Sequence[str]
) -> list[dict[str, Any]]:
    """Each piece of FG advice that was not followed, once, with the reasons given and its
    kind: ``breach-decision`` when a breach's notification decision departed from it (its
    answer, if also given, adds its evidence), ``advice-answer`` when only the answer to the
    advice says so. Oldest decision first."""
    cursor.execute(
        "SELECT record, municipality, departure FROM incidents "
        f"WHERE departed_from_fg = 1 AND {_in(municipalities)}",
        tuple(municipalities),
    )
    found: dict[str, dict[str, Any]] = {}
    for record, municipality, text in cursor.fetchall():
        departure = json.loads(text)
        key = departure["advice"] or f"incident {record}"
        found[key] = {
            "kind": "breach-decision",
            "about": record,
            "municipality": municipality,
            **departure,
        }
    cursor.execute(
        f"SELECT doc FROM fg_advice WHERE followed = 0 AND {_in(municipalities)}",
        tuple(municipalities),
    )
    for r in documents(cursor, AdviceRecord):
        evidence = r["evidence"]["Answered"]
        if r["id"] in found:
            found[r["id"]]["evidence"] = sorted({*found[r["id"]]["evidence"], *evidence})
            continue
        found[r["id"]] = {
            "kind": "advice-answer",
            "about": r["about"],
            "municipality": r["municipality"],
            "advice": r["id"],
            "reasons": r["answer"]["reasons"],
            "decided_at": r["answer"]["answered_at"],
            "evidence": evidence,
        }
    return sorted(found.values(), key=lambda d: (d["decided_at"], d["advice"] or ""))


def unanswered_fg_advice(cursor: Cursor, municipalities: Sequence[str]) -> list[dict[str, Any]]:
    """Advice the FG gave that the controller has not answered, neither on the advice itself
    nor in the breach decision it was about."""
    cursor.execute(
        f"SELECT doc FROM fg_advice WHERE followed IS NULL AND given_at IS NOT NULL "
        f"AND {_in(municipalities)} AND NOT EXISTS "
        "(SELECT 1 FROM incidents i WHERE i.fg_advice = fg_advice.record) ORDER BY given_at",
        tuple(municipalities),
    )
    return rows(cursor)


def requests_near_deadline(
    cursor: Cursor, municipalities: Sequence[str], today: date, days: int = NEAR_DEADLINE_DAYS
) -> list[dict[str, Any]]:
    """Running requests whose deadline is within ``days`` or past (suspended clocks stand
    still and are left out); a decided request runs until it is sent (art. 12(3))."""
    cursor.execute(
        f"SELECT doc FROM requests WHERE open = 1 AND deadline <= ? AND stage <> ? "
        f"AND {_in(municipalities)} ORDER BY deadline",
        ((today + timedelta(days=days)).isoformat(), RequestStage.SUSPENDED.value, *municipalities),
    )
    return [with_time_left(r, today) for r in documents(cursor, RequestRecord)]


def sensitive_processing_without_dpia(
    cursor: Cursor, municipalities: Sequence[str]
) -> list[dict[str, Any]]:
    """Active processing with special categories, criminal data or the BSN and no DPIA
    recorded (art. 35; seed 004)."""
    return [
        row
        for municipality in municipalities
        for row in current_register(cursor, municipality)
        if row["dpia_at"] is None
        and (
            row["entry"]["special_categories"]
            or row["entry"]["criminal_data"]
            or row["entry"]["bsn_used"]
        )
    ]


def incidents_not_evaluated(
    cursor: Cursor, municipalities: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    """Incidents closed more than six weeks ago and never evaluated (seed 002)."""
    cursor.execute(
        "SELECT record, municipality, controller, summary, closed_at FROM incidents "
        f"WHERE evaluated_at IS NULL AND closed_at IS NOT NULL AND closed_at < ? "
        f"AND {_in(municipalities)} ORDER BY closed_at",
        (utc_text(now - EVALUATION_PERIOD), *municipalities),
    )
    return [
        {
            "id": record,
            "municipality": municipality,
            "controller": controller,
            "summary": json.loads(summary),
            "closed_at": closed_at,
        }
        for record, municipality, controller, summary, closed_at in cursor.fetchall()
    ]


def erasures(cursor: Cursor, municipalities: Sequence[str]) -> list[dict[str, Any]]:
    """Erasures carried out for data subjects of these municipalities."""
    cursor.execute(
        f"SELECT doc FROM erasures WHERE {_in(municipalities)} ORDER BY erased_at",
        tuple(municipalities),
    )
    return rows(cursor)


# --- rights requests as bijlage 5 runs them, objections under the Awb (issue 14) -------------


def requests_decided_not_sent(
    cursor: Cursor, municipalities: Sequence[str], today: date
) -> list[dict[str, Any]]:
    """Requests decided but not sent: the requester is not yet informed (art. 12(3))."""
    cursor.execute(
        f"SELECT doc FROM requests WHERE stage = ? AND {_in(municipalities)} ORDER BY deadline",
        (RequestStage.DECIDED.value, *municipalities),
    )
    return [with_time_left(r, today) for r in documents(cursor, RequestRecord)]


def objections_near_term(
    cursor: Cursor, municipalities: Sequence[str], today: date, days: int = NEAR_DEADLINE_DAYS
) -> list[dict[str, Any]]:
    """Objections not yet decided whose Awb 7:10 term ends within ``days`` or has passed."""
    cursor.execute(
        "SELECT doc, objection_deadline FROM requests WHERE objection_deadline IS NOT NULL "
        f"AND objection_deadline <= ? AND {_in(municipalities)} ORDER BY objection_deadline",
        ((today + timedelta(days=days)).isoformat(), *municipalities),
    )
    return [
        {**json.loads(doc), "objection_days_left": (date.fromisoformat(deadline) - today).days}
        for doc, deadline in cursor.fetchall()
    ]


def notices_of_default(
    cursor: Cursor, municipalities: Sequence[str], today: date
) -> list[dict[str, Any]]:
    """Notices of default not yet answered by the decision, with the penalty run up so far
    (Awb 4:17: from two weeks after the notice, at most 42 days)."""
    cursor.execute(
        f"SELECT doc FROM requests WHERE penalty_from IS NOT NULL AND {_in(municipalities)} "
        "ORDER BY penalty_from",
        tuple(municipalities),
    )
    found = []
    for r in documents(cursor, RequestRecord):
        notice = r["notices_of_default"][-1]
        days, euros = penalty_owed(date.fromisoformat(notice["first_penalty_day"]), today)
        found.append({**r, "penalty_days_so_far": days, "penalty_euros_so_far": euros})
    return found
