"""Reporting duties as facts: the FG sends its annual report over the previous year to raad,
college and burgemeester (seed 002); the register of security incidents is evaluated every year
(seed 004, par. 5.3); the CISO reports every quarter. Each is recorded when sent, with the
digest of the report as sent and the signed checkpoint it was built under, and the report can
be regenerated from the ledger as it was sent, whatever happened after."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from adapters.services.accountability_report import Report, report_at
from domain.authorization import Role
from domain.reporting import ReportKind
from projections.report import Period
from tests.api.conftest import COLLEGE, TOWN, Served
from tests.api.test_retention import closed_incident, years_later

YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))


def report_as_built(
    served: Served, kind: ReportKind, period: Period = YEAR
) -> tuple[int, str, Report]:
    """What the sender built the report under: a fresh signed checkpoint, and the digest."""
    size = served.app.on_decision(served.app.recorder.ledger_size())  # type: ignore[misc,attr-defined]
    found = report_at(served.app, kind, TOWN, COLLEGE, period, size)
    assert found is not None
    return size, found[1], found[0]


def sent(
    served: Served,
    name: str,
    role: Role,
    size: int,
    digest: str,
    period: Period = YEAR,
    **body: Any,
) -> Any:
    return served.command(
        name,
        served.role(role),
        municipality=TOWN,
        controller=COLLEGE,
        period_from=period.start.isoformat(),
        period_to=period.end.isoformat(),
        sent_at=served.clock.now.isoformat(),
        checkpoint_size=size,
        report_digest=digest,
        **body,
    )


def test_the_fgs_annual_report_is_recorded_as_sent_and_regenerates_as_it_was(served: Served):
    closed_incident(served)
    years_later(served, 1)  # March of the next year: the report over 2026
    size, digest, _ = report_as_built(served, ReportKind.FG_ANNUAL_REPORT)
    recipients = ["raad", "college", "burgemeester"]

    # A digest that is not the report's at that checkpoint is refused: the fact must be true.
    wrong = sent(served, "record-fg-annual-report", Role.FG, size, "0" * 64, recipients=recipients)
    assert wrong.status_code == 409, wrong.text
    assert digest in wrong.json()["detail"]
    # Only the FG sends its annual report.
    for role in (Role.PRIVACY_OFFICER, Role.SECRETARY, Role.CISO):
        refused = sent(served, "record-fg-annual-report", role, size, digest, recipients=recipients)
        assert refused.status_code == 403, (role, refused.text)

    recorded = sent(served, "record-fg-annual-report", Role.FG, size, digest, recipients=recipients)
    assert recorded.status_code == 201, recorded.text

    # Later, more happens: a request received in 2026 is recorded late, and the incident is
    # destroyed after five years.
    late = served.command(
        "receive-request",
        served.role(Role.PRIVACY_OFFICER),
        municipality=TOWN,
        controller=COLLEGE,
        right="art. 15 inzage",
        channel="brief",
        requester_name="A. Jansen",
        requester_contact="Dorpsstraat 1",
        received_at=datetime(2026, 6, 1, 10, tzinfo=UTC).isoformat(),
    )
    assert late.status_code == 201, late.text
    years_later(served, 5)
    privacy = served.role(Role.PRIVACY_OFFICER)
    assert served.command("run-retention", privacy, municipality=TOWN).status_code == 201

    # The FG's oversight lists the report, with its evidence.
    listed = served.client.get("/oversight/reports-sent", headers=served.role(Role.FG)).json()
    (report,) = listed["items"]
    assert report["kind"] == "jaarverslag FG"
    assert sorted(report["recipients"]) == sorted(recipients)
    assert (report["checkpoint_size"], report["report_digest"]) == (size, digest)

    # Regenerated from the ledger at the recorded checkpoint, it is the report as sent; the
    # destroyed incident's texts are gone from what can be shown, not from what was sent.
    again = report_at(served.app, ReportKind.FG_ANNUAL_REPORT, TOWN, COLLEGE, YEAR, size)
    assert again is not None
    regenerated, regenerated_digest = again
    assert regenerated_digest == report["report_digest"]
    assert regenerated.checkpoint == served.app.recorder.signed_checkpoint_at(size)  # type: ignore[attr-defined]
    (received,) = [f for f in regenerated.sections["requests"] if f.key == "requests.total"]
    assert received.value == 0  # the request recorded after sending is not in it
    # Built now, over the ledger as it stands, the same year's report is another report.
    now_size = served.app.on_decision(served.app.recorder.ledger_size())  # type: ignore[misc,attr-defined]
    later = report_at(served.app, ReportKind.FG_ANNUAL_REPORT, TOWN, COLLEGE, YEAR, now_size)
    assert later is not None
    assert later[1] != digest
    (received,) = [f for f in later[0].sections["requests"] if f.key == "requests.total"]
    assert received.value == 1


def test_the_breach_register_evaluation_and_the_cisos_quarterly_report(served: Served):
    closed_incident(served)
    years_later(served, 1)
    size, digest, _ = report_as_built(served, ReportKind.BREACH_REGISTER_EVALUATION)
    evaluation = sent(
        served,
        "record-breach-register-evaluation",
        Role.PRIVACY_OFFICER,
        size,
        digest,
        recipients=["secretaris"],
    )
    assert evaluation.status_code == 201, evaluation.text
    # The CISO's quarterly report covers a quarter, not a year.
    size, digest, _ = report_as_built(served, ReportKind.CISO_QUARTERLY_REPORT)
    too_long = sent(
        served,
        "record-ciso-quarterly-report",
        Role.CISO,
        size,
        digest,
        recipients=["secretaris"],
    )
    assert too_long.status_code == 409, too_long.text
    assert "at most 92 days" in too_long.json()["detail"]
    quarter = Period(date(2026, 1, 1), date(2026, 3, 31))
    size, digest, _ = report_as_built(served, ReportKind.CISO_QUARTERLY_REPORT, quarter)
    quarterly = sent(
        served,
        "record-ciso-quarterly-report",
        Role.CISO,
        size,
        digest,
        quarter,
        recipients=["secretaris"],
    )
    assert quarterly.status_code == 201, quarterly.text
    listed = served.client.get("/oversight/reports-sent", headers=served.role(Role.FG)).json()
    assert sorted(r["kind"] for r in listed["items"]) == [
        "jaarlijkse evaluatie register beveiligingsincidenten",
        "kwartaalrapportage CISO",
    ]
