"""Reporting duties as facts: a report is recorded when it is sent, to whom, with its own
evidence (the digest of the report as sent and the signed checkpoint it was built under), so
that it can be regenerated from the ledger as it was sent and compared.

- The FG's annual report to the controllers: raad, college and burgemeester (seed 002, the FG's
  tasks: "De FG een jaarverslag over het voorgaande jaar stuurt naar de
  verwerkingsverantwoordelijken (raad, college en burgemeester)").
- The annual evaluation of the register of security incidents (seed 004, par. 5.3: "Het
  register wordt jaarlijks geëvalueerd").
- The CISO's quarterly report, which holds the serious incidents (seed 002, incident
  procedure: "worden opgenomen in de kwartaalrapportage van de CISO"); the CISO reports to the
  secretary (seed 004, par. 3.1.5).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from eventsourcing.domain import Aggregate, event

from domain.errors import ProcedureError


class ReportKind(StrEnum):
    FG_ANNUAL_REPORT = "jaarverslag FG"
    BREACH_REGISTER_EVALUATION = "jaarlijkse evaluatie register beveiligingsincidenten"
    CISO_QUARTERLY_REPORT = "kwartaalrapportage CISO"


class ReportRecipient(StrEnum):
    """Named as the seeds address them ("raad, college en burgemeester")."""

    RAAD = "raad"
    COLLEGE = "college"
    BURGEMEESTER = "burgemeester"
    SECRETARY = "secretaris"
    FG = "FG"
    MANAGEMENT = "managementteam"


# The sections of the accountability report each kind consists of; None: the whole report.
SECTIONS: dict[ReportKind, frozenset[str] | None] = {
    ReportKind.FG_ANNUAL_REPORT: None,
    ReportKind.BREACH_REGISTER_EVALUATION: frozenset({"breaches"}),
    ReportKind.CISO_QUARTERLY_REPORT: frozenset({"breaches"}),
}
# The longest period each kind covers, in days: a year, or a quarter.
LONGEST: dict[ReportKind, int] = {
    ReportKind.FG_ANNUAL_REPORT: 366,
    ReportKind.BREACH_REGISTER_EVALUATION: 366,
    ReportKind.CISO_QUARTERLY_REPORT: 92,
}


class ReportSent(Aggregate):
    """One report, sent: its kind, period, recipients, and the evidence that fixes its content
    (the digest of the report regenerated at the command, and the checkpoint it rests on)."""

    @classmethod
    def send(
        cls,
        *,
        municipality: str,
        controller: str,
        kind: ReportKind,
        period_from: date,
        period_to: date,
        recipients: list[ReportRecipient],
        sent_at: datetime,
        checkpoint_size: int,
        report_digest: str,
        actor: str,
    ) -> ReportSent:
        if period_to < period_from:
            raise ProcedureError("the period ends before it starts")
        if (period_to - period_from).days >= LONGEST[kind]:
            raise ProcedureError(f"a {kind} covers at most {LONGEST[kind]} days")
        return cls(
            municipality=municipality,
            controller=controller,
            kind=kind,
            period_from=period_from,
            period_to=period_to,
            recipients=sorted(set(recipients)),
            sent_at=sent_at,
            checkpoint_size=checkpoint_size,
            report_digest=report_digest,
            actor=actor,
        )

    class Sent(Aggregate.Created):
        checkpoint_after = True
        municipality: str
        controller: str
        kind: ReportKind
        period_from: date
        period_to: date
        recipients: list[ReportRecipient]
        sent_at: datetime
        checkpoint_size: int
        report_digest: str
        actor: str

    @event(Sent)
    def __init__(
        self,
        *,
        municipality: str,
        controller: str,
        kind: ReportKind,
        period_from: date,
        period_to: date,
        recipients: list[ReportRecipient],
        sent_at: datetime,
        checkpoint_size: int,
        report_digest: str,
        actor: str,
    ) -> None:
        self.municipality = municipality
        self.controller = controller
        self.kind = ReportKind(kind)  # stored events give back plain strings
        self.period_from = period_from
        self.period_to = period_to
        self.recipients = [ReportRecipient(r) for r in recipients]
        self.checkpoint_size = checkpoint_size
        self.report_digest = report_digest
