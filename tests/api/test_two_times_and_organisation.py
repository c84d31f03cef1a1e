"""Over HTTP: the registers and reconstructions as of a stated moment and as recorded at a
moment, and names outside the declared organisation refused with the declared ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from domain.authorization import Grant, Role
from domain.organisation import DeclaredFG, DeclaredMunicipality, DeclareOrganisation
from ledger.evidence import verify_evidence
from tests.api.conftest import COLLEGE, TOWN, Served

ORGANISATION = DeclareOrganisation(
    municipalities=[DeclaredMunicipality(name=TOWN, controllers=[COLLEGE, "burgemeester"])],
    fg=DeclaredFG(name="F. van Gelder", contact="fg@blnp.nl", municipalities=[TOWN]),
)


def moment(value: datetime) -> str:
    return quote(value.isoformat())


def test_an_incident_stated_in_the_past_is_in_force_from_then_and_known_from_its_recording(
    served: Served,
):
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    stated = served.clock.now
    recorded_before = datetime.now(UTC) - timedelta(seconds=1)
    made = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="phishing"
    )
    assert made.status_code == 201, made.text
    incidents = f"/municipalities/{TOWN}/incidents"

    def listed(query: str) -> list[str]:
        response = served.client.get(f"{incidents}?{query}", headers=ciso)
        assert response.status_code == 200, response.text
        return [item["summary"] for item in response.json()["items"]]

    assert listed(f"as_of={moment(stated - timedelta(days=1))}") == []
    assert listed(f"as_of={moment(stated)}") == ["phishing"]
    assert listed(f"as_recorded_at={moment(datetime.now(UTC))}") == ["phishing"]
    too_early = served.client.get(
        f"{incidents}?as_recorded_at={moment(recorded_before)}", headers=ciso
    )
    assert too_early.status_code == 404

    auditor = served.role(Role.AUDITOR)
    url = "/reconstructions/incident_register"
    before = served.client.get(f"{url}?as_of={moment(stated - timedelta(days=1))}", headers=auditor)
    assert before.status_code == 200, before.text
    assert before.json()["result"] == []
    after = served.client.get(
        f"{url}?as_of={moment(stated)}&as_recorded_at={moment(datetime.now(UTC))}",
        headers=auditor,
    )
    found = after.json()
    assert [r["summary"] for r in found["result"]] == ["phishing"]
    assert found["as_of"] == stated.astimezone(UTC).isoformat()
    verify_evidence({e["index"]: e["receipt"] for e in found["entries"]}, {}, served.verifiers)
    both = served.client.get(
        f"{url}?index=0&as_recorded_at={moment(datetime.now(UTC))}", headers=auditor
    )
    assert both.status_code == 422


def test_unknown_municipalities_and_controllers_are_refused_with_the_declared_ones(
    served: Served,
):
    served.app.declare_organisation(ORGANISATION, operator="operator:test")
    stranger = "Amersfoort"
    employee = served.key("medewerker@amersfoort.nl", Grant(Role.EMPLOYEE, stranger))
    refused = served.command(
        "report-incident", employee, municipality=stranger, controller=COLLEGE, summary="x"
    )
    assert refused.status_code == 404
    assert refused.json()["detail"] == "no municipality 'Amersfoort' is declared; declared: Leusden"
    own = served.role(Role.EMPLOYEE)
    wrong = served.command(
        "report-incident", own, municipality=TOWN, controller="raad", summary="x"
    )
    assert wrong.status_code == 404
    assert "declared: burgemeester, college van burgemeester en wethouders" in wrong.text
    fg = served.key("fg@blnp.nl", Grant(Role.FG, TOWN), Grant(Role.FG, stranger))
    for path in ("register", "incidents", "requests", "breaches"):
        assert (
            served.client.get(f"/municipalities/{stranger}/{path}", headers=fg).status_code == 404
        )
    oversight = f"/oversight/open-breaches?municipality={TOWN}&municipality={stranger}"
    assert served.client.get(oversight, headers=fg).status_code == 404
    assert served.client.get(f"/public/{stranger}/register").status_code == 404
    assert served.client.get(f"/public/{TOWN}/register").status_code == 200
    report = f"/municipalities/{TOWN}/report?controller=raad&from=2026-01-01&to=2026-12-31"
    assert served.client.get(report, headers=fg).status_code == 404
    size = served.ledger_size()
    made = served.command(
        "report-incident", own, municipality=TOWN, controller=COLLEGE, summary="phishing"
    )
    assert made.status_code == 201
    assert served.ledger_size() == size + 1
