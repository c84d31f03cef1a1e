"""Processors, their agreements and the early warning through HTTP, on SQLite and PostgreSQL:
each step by the role the role table gives it, the others refused, and the FG's oversight."""

from __future__ import annotations

from domain.authorization import Role
from tests.api.conftest import COLLEGE, TOWN, Served
from tests.projections.history import T0

ENTRY = {
    "name": "Jeugdhulp",
    "purposes": ["uitvoering Jeugdwet"],
    "legal_basis": "art. 6(1)(c) wettelijke verplichting",
    "legal_basis_law": "Jeugdwet",
    "data_subject_categories": ["jeugdigen"],
    "personal_data_categories": ["NAW"],
    "special_categories": ["gezondheid"],
    "special_category_grounds": ["art. 9(2)(h) gezondheidszorg, sociale diensten"],
    "retention": "10 jaar",
    "security_measures": ["BIO"],
    "process_owner": "teamleider",
}


def test_the_process_owner_keeps_the_agreement_and_the_fg_sees_what_is_missing(served: Served):
    owner, privacy = served.role(Role.PROCESS_OWNER), served.role(Role.PRIVACY_OFFICER)
    employee, fg = served.role(Role.EMPLOYEE), served.role(Role.FG)
    body = {"municipality": TOWN, "controller": COLLEGE, "name": "Zorgcloud BV"}
    size = served.ledger_size()
    assert served.command("register-processor", employee, **body).status_code == 403
    assert served.ledger_size() == size
    registered = served.command("register-processor", owner, **body)
    assert registered.status_code == 201, registered.text
    cloud = registered.json()["id"]
    entry = {**ENTRY, "processor_ids": [cloud]}
    activity = served.command(
        "register-processing-activity",
        privacy,
        municipality=TOWN,
        controller=COLLEGE,
        entry=entry,
        valid_from=T0.isoformat(),
    )
    assert activity.status_code == 201, activity.text

    missing = served.client.get("/oversight/processing-without-agreement", headers=fg)
    assert missing.status_code == 200
    (item,) = missing.json()["items"]
    assert item["processors"] == [{"processor": cloud, "name": "Zorgcloud BV"}]

    agreement = {
        "reference": "VO-1",
        "concluded_on": "2026-01-01",
        "expires_on": "2026-03-31",
        "location": {"country": "US"},
        "sub_processors": [],
    }
    concluded = served.command("conclude-agreement", owner, aggregate_id=cloud, agreement=agreement)
    assert concluded.status_code == 201, concluded.text
    assert (
        served.client.get("/oversight/processing-without-agreement", headers=fg).json()["items"]
        == []
    )
    (expiring,) = served.client.get("/oversight/processor-agreements-expiring", headers=fg).json()[
        "items"
    ]
    assert expiring["agreement"] == "VO-1"
    (outside,) = served.client.get("/oversight/special-categories-outside-eea", headers=fg).json()[
        "items"
    ]
    assert outside["transfers"][0]["country"] == "US"
    (listed,) = served.client.get(f"/municipalities/{TOWN}/processors", headers=fg).json()["items"]
    assert (listed["name"], listed["agreement"]["reference"]) == ("Zorgcloud BV", "VO-1")
    bad = {**agreement, "location": {"country": "NL", "safeguard": "art. 49 afwijking"}}
    assert (
        served.command("renew-agreement", owner, aggregate_id=cloud, agreement=bad).status_code
        == 422
    )
    ancient = {**agreement, "reference": "VO-2", "concluded_on": "0573-01-01"}
    assert (
        served.command("renew-agreement", owner, aggregate_id=cloud, agreement=ancient).status_code
        == 422
    )


def test_the_ciso_finds_an_incident_significant_and_the_fg_sees_no_warning_owed(served: Served):
    """The deployment configures no date for the Cyberbeveiligingswet: the finding records
    that, and no early warning is due."""
    ciso, employee = served.role(Role.CISO), served.role(Role.EMPLOYEE)
    fg = served.role(Role.FG)
    incident = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="DDoS"
    ).json()["id"]
    served.command("triage-incident", ciso, aggregate_id=incident, impact="hoog", significant=True)
    found = {"aggregate_id": incident, "aware_at": T0.isoformat()}
    assert served.command("find-significant-incident", employee, **found).status_code == 403
    assert served.command("find-significant-incident", ciso, **found).status_code == 201
    (record,) = served.client.get(f"/municipalities/{TOWN}/incidents", headers=fg).json()["items"]
    assert record["significance"]["early_warning_applies"] is False
    assert record["significance"]["rule"].endswith("(no in-force date configured)")
    assert served.client.get("/oversight/early-warnings", headers=fg).json()["items"] == []
    refused = served.command(
        "send-early-warning",
        ciso,
        aggregate_id=incident,
        reference="NCSC-1",
        sent_at=T0.isoformat(),
    )
    assert refused.status_code == 409
    assert "no early warning is owed" in refused.json()["detail"]
