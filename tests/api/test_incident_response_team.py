"""The incident response team of seed 002 bijlage 3 through HTTP, on SQLite and PostgreSQL:
each step by the role the seed names, visible in the incident register, in the FG's oversight
before it is too late, and in the accountability report."""

from __future__ import annotations

from datetime import timedelta

from domain.authorization import Role
from tests.api.conftest import COLLEGE, TOWN, Served
from tests.forms import URGENT
from tests.projections.history import T0

SHA = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"


def test_the_team_s_steps_show_in_the_register_oversight_and_report(served: Served):
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    secretary, fg = served.role(Role.SECRETARY), served.role(Role.FG)

    def step(headers: dict[str, str], name: str, **body: object) -> None:
        response = served.command(name, headers, aggregate_id=incident, **body)
        assert response.status_code == 201, (name, response.text)

    def oversight(name: str) -> list[dict]:
        response = served.client.get(f"/oversight/{name}", headers=fg)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    incident = served.command(
        "report-incident",
        employee,
        municipality=TOWN,
        controller=COLLEGE,
        summary="Laptop met bankgegevens van cliënten gestolen",
    ).json()["id"]
    step(ciso, "triage-incident", impact="hoog")
    # Step 10: convened; its evaluation is due two to six weeks after the incident.
    step(ciso, "convene-irt", members=["CISO (voorzitter)", "juridisch controller"])
    # Step 12: theft is criminal activity.
    step(ciso, "assess-criminal-activity", criminal=True, reasons="diefstal uit een auto")
    step(
        ciso,
        "establish-breach",
        aware_at=T0.isoformat(),
        natures=["vertrouwelijkheid"],
        data_categories=["bankrekeningnummer"],
        approx_subjects=80,
        approx_records=80,
        likely_consequences="fraude",
    )
    step(
        secretary,
        "decide-notification",
        notify_ap=False,
        ap_reasons="versleuteld",
        inform_subjects=False,
        subjects_reasons="versleuteld",
        without_fg_advice=URGENT,
    )
    # Steps 17, 36, 37.
    step(
        ciso,
        "record-evidence",
        description="MDM-logboek",
        custodian="J. de Vries",
        kept_at="forensische share",
        sha256=SHA,
        collected_at=T0.isoformat(),
    )
    step(
        ciso,
        "inform-party",
        recipient="bank of creditcardmaatschappij",
        party="Rabobank",
        reference="fraudemelding",
        informed_at=T0.isoformat(),
    )
    step(ciso, "record-time-and-costs", hours=12, costs_eur=1500)

    # Step 13: the CISO may not file the aangifte; the FG sees it missing until it is filed.
    size = served.ledger_size()
    by_ciso = served.command(
        "file-aangifte", ciso, aggregate_id=incident, reference="PL-1", filed_at=T0.isoformat()
    )
    assert by_ciso.status_code == 403
    assert served.ledger_size() == size
    (missing,) = oversight("criminal-activity-without-aangifte")
    assert missing["id"] == incident
    assert missing["assessment"]["reasons"] == "diefstal uit een auto"  # opened for the FG
    (unexplained,) = oversight("subjects-not-informed-without-ground")
    assert unexplained["id"] == incident
    step(
        secretary,
        "consult-mayor",
        file_aangifte=True,
        reasons="diefstal met persoonsgegevens",
        consulted_at=T0.isoformat(),
    )
    step(secretary, "file-aangifte", reference="PL0900-2026-7", filed_at=T0.isoformat())
    step(
        secretary,
        "record-subjects-not-informed",
        ground="art. 34(3)(a): gegevens onbegrijpelijk (versleuteld)",
        reasons="volledige schijfversleuteling",
    )
    assert oversight("criminal-activity-without-aangifte") == []
    assert oversight("subjects-not-informed-without-ground") == []

    (record,) = served.client.get(f"/municipalities/{TOWN}/incidents", headers=ciso).json()["items"]
    assert record["irt"]["evaluation_due_from"] == "2026-03-16"
    assert record["irt"]["evaluation_due_by"] == "2026-04-13"
    (item,) = record["evidence_items"]
    assert item["sha256"] == SHA
    assert [c["custodian"] for c in item["custody"]] == ["J. de Vries"]
    assert [p["recipient"] for p in record["parties_informed"]] == [
        "bank of creditcardmaatschappij"
    ]
    assert record["aangifte"]["reference"] == "PL0900-2026-7"
    assert record["subjects_not_informed"]["ground"].startswith("art. 34(3)(a)")

    # Step 38: nothing shown while the evaluation is weeks away; a week before its last day
    # it is due soon, after it late.
    assert oversight("evaluations-due") == []
    served.clock.now = T0 + timedelta(days=37)
    (due,) = oversight("evaluations-due")
    assert (due["id"], due["status"], due["days_left"]) == (incident, "due-soon", 5)
    served.clock.now = T0 + timedelta(days=43)
    (late,) = oversight("evaluations-due")
    assert (late["status"], late["days_left"]) == ("late", -1)
    step(ciso, "evaluate-incident", findings="versleuteling voorkwam erger")
    assert oversight("evaluations-due") == []

    query = f"/municipalities/{TOWN}/report?controller={COLLEGE}&from=2026-01-01&to=2026-12-31"
    figures = {
        f["key"]: f["value"]
        for f in served.client.get(query, headers=fg).json()["sections"]["incidents"]
    }
    assert figures["incidents.irt_convened"] == 1
    assert figures["incidents.aangifte"] == 1
    assert figures["incidents.parties_informed"] == {"bank of creditcardmaatschappij": 1}
    assert figures["incidents.costs_eur"] == 1500
    assert figures["incidents.evaluated_on_time"] == 0.0
    assert figures["incidents.evaluations_overdue"] == 1
    english = served.client.get(f"{query}&format=html&lang=en", headers=fg).text
    assert "Incident response" in english
    assert "bank or credit-card company" in english
    assert "Incidentafhandeling" not in english
    assert "creditcardmaatschappij" not in english
    dutch = served.client.get(f"{query}&format=html&lang=nl", headers=fg).text
    assert "Incidentafhandeling" in dutch
