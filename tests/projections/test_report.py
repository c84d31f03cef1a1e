"""The accountability report: the figures of a known history, each pointing to entries that
an auditor proves with the receipts in the report and the verifier key alone."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.services.accountability_report import build_report, render_html
from ledger.evidence import verify_evidence
from projections.report import Period
from tests.projections.history import COLLEGE, TOWN

# All on one worker (pytest -n, --dist loadgroup): its history is recorded once per database.
pytestmark = pytest.mark.xdist_group(__name__)

YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture(scope="module")
def report(recorded):
    history, _ = recorded
    return build_report(history.app, TOWN, COLLEGE, YEAR, sign=history.sign)


@pytest.fixture
def figures(report):
    return {f.key: f for section in report.sections.values() for f in section}


def test_the_figures_of_the_year(figures):
    expected = {
        "register.active": 2,
        "register.sensitive_without_dpia": 1,
        "register.without_selectielijst": 2,
        "breaches.total": 3,
        "breaches.by_impact": {"hoog": 3},
        "breaches.by_nature": {"vertrouwelijkheid": 3},
        "breaches.notified": 1,
        "breaches.notified_within_72h": 0.0,
        "breaches.notified_late": 1,
        "breaches.not_notified": 1,
        "breaches.subjects_informed": 0,
        "requests.total": 3,
        "requests.by_right": {"art. 15 inzage": 3},
        "requests.by_outcome": {"toegewezen": 1},
        "requests.decided_on_time": 1.0,
        "requests.extended": 1,
        "fg_advice.total": 2,
        "fg_advice.followed": 0,
        "fg_advice.not_followed": 1,
        "fg_advice.unanswered": 1,
        "erasures.by_ground": {"art. 17 AVG: toegewezen verzoek om wissing": 1},
        "processors.total": 1,
        "processors.without_agreement": 0,
        "processors.agreements_expired": 0,
        "processors.special_outside_eea": 0,
        "processors.breach_notices": 0,
        "early_warnings.significant": 0,
        "early_warnings.sent_within_24h": None,
        # issue 14: R3 is decided but not sent, so none was sent, on time or late
        "requests.sent_on_time": None,
        "requests.decided_not_sent": 1,
        "objections.total": 0,
    }
    assert {key: figures[key].value for key in expected} == expected
    assert figures["breaches.notified_late"].detail[0]["reason"] == (
        "melding kwam na het weekend binnen"
    )
    assert figures["fg_advice.not_followed"].detail[0]["reason"] == "de sleutel is niet gelekt"


def test_a_period_without_events_has_nothing_to_count(recorded):
    history, _ = recorded
    empty = build_report(
        history.app, TOWN, COLLEGE, Period(date(2025, 1, 1), date(2025, 12, 31)), sign=history.sign
    )
    values = {f.key: f.value for section in empty.sections.values() for f in section}
    assert values["breaches.total"] == 0
    assert values["breaches.notified_within_72h"] is None  # nothing to divide
    assert values["register.active"] == 2  # the register is as it stands


def test_every_figure_points_to_entries_the_receipts_prove(recorded, report, figures):
    history, _ = recorded
    document = report.to_json()
    receipts = {int(i): e["receipt"] for i, e in document["evidence"].items()}
    entries, checkpoint = verify_evidence(receipts, {}, history.verifiers)
    assert checkpoint.size == history.app.recorder.ledger_size()
    proven = {e.index: e for e in entries}
    for figure in figures.values():
        assert set(figure.evidence) <= set(proven), figure.key
    (late,) = figures["breaches.notified_late"].evidence
    assert proven[late].topic.endswith("APNotificationSubmitted")
    assert proven[late].stream == str(history.ids["B"])


def test_the_html_is_dutch_by_default_and_english_on_request(report):
    dutch, english = render_html(report), render_html(report, "en")
    assert '<html lang="nl">' in dutch
    assert "Datalekken" in dutch
    assert "Te laat gemeld, met reden" in dutch
    assert "melding kwam na het weekend binnen" in dutch
    assert "Personal-data breaches" in english
    assert "Verwerkers en verwerkersovereenkomsten" in dutch
    assert "Processors and their agreements" in english
    assert "Early warnings (Cybersecurity Act)" in english
    assert dutch.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2  # both charts
    assert "72 h" in dutch
    for index in report.evidence:
        assert f'id="entry-{index}"' in dutch
    with pytest.raises(ValueError):
        render_html(report, "de")
