"""Reports sent (reporting duties): one row per report, with its recipients and evidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.dispatch import singledispatchmethod

from domain.reporting import ReportSent
from projections.base import Cursor, NoHandler, Record, RecordProjection, rows, utc_text
from projections.oversight import _in


class SentReport(Record):
    municipality: str
    controller: str
    kind: str
    period_from: str
    period_to: str
    recipients: list[str]
    sent_at: str
    checkpoint_size: int
    report_digest: str
    actor: str


class SentReports(RecordProjection[SentReport]):
    name = "sent_reports"
    aggregate = ReportSent
    table = "sent_reports"
    column_types: ClassVar[dict[str, str]] = {
        "municipality": "TEXT NOT NULL",
        "kind": "TEXT NOT NULL",
        "sent_at": "TEXT NOT NULL",
    }
    indexes = ("municipality, sent_at",)

    def columns(self, r: SentReport) -> dict[str, Any]:
        return {"municipality": r["municipality"], "kind": r["kind"], "sent_at": r["sent_at"]}

    @singledispatchmethod
    def apply_event(self, e: ReportSent.Event, r: SentReport) -> None:
        raise NoHandler(self, e)

    @apply_event.register
    def _(self, e: ReportSent.Sent, r: SentReport) -> None:
        r["municipality"] = e.municipality
        r["controller"] = e.controller
        r["kind"] = str(e.kind)
        r["period_from"] = e.period_from.isoformat()
        r["period_to"] = e.period_to.isoformat()
        r["recipients"] = [str(recipient) for recipient in e.recipients]
        r["sent_at"] = utc_text(e.sent_at)
        r["checkpoint_size"] = e.checkpoint_size
        r["report_digest"] = e.report_digest
        r["actor"] = e.actor


def reports_sent(cursor: Cursor, municipalities: Sequence[str]) -> list[dict[str, Any]]:
    """The FG's oversight: which reports were sent, to whom, when; most recent first."""
    cursor.execute(
        f"SELECT doc FROM sent_reports WHERE {_in(municipalities)} ORDER BY sent_at DESC",
        tuple(municipalities),
    )
    return rows(cursor)
