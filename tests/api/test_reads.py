"""Read models over HTTP: pagination, the report and reconstructions with their arguments
checked, and answers that are never behind the ledger, also with requests in parallel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from adapters.services.projection_runner import ReadModelRunner
from domain.authorization import Role
from ledger.evidence import verify_evidence
from projections.catalogue import all_projections
from tests.api.conftest import COLLEGE, TOWN, Served
from tests.api.test_ledger import record_breach_decision

PROBLEM = "application/problem+json"


def report_incidents(served: Served, count: int) -> list[str]:
    employee = served.role(Role.EMPLOYEE)
    return [
        served.command(
            "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary=f"#{i}"
        ).json()["id"]
        for i in range(count)
    ]


def test_lists_are_paginated_with_next_and_a_link_header(on_sqlite: Served):
    report_incidents(on_sqlite, 5)
    ciso, url = on_sqlite.role(Role.CISO), f"/municipalities/{TOWN}/incidents?limit=2"
    seen = []
    while url:
        response = on_sqlite.client.get(url, headers=ciso)
        page = response.json()
        assert page["total"] == 5
        assert len(page["items"]) <= 2
        seen += [i["summary"] for i in page["items"]]
        url = page["next"]
        if url:
            assert response.headers["link"] == f'<{url}>; rel="next"'
        else:
            assert "link" not in response.headers
    assert sorted(seen) == [f"#{i}" for i in range(5)]
    beyond = on_sqlite.client.get(f"/municipalities/{TOWN}/incidents?offset=9", headers=ciso)
    assert beyond.json()["items"] == []
    for bad in ("limit=0", "limit=501", "offset=-1"):
        refused = on_sqlite.client.get(f"/municipalities/{TOWN}/incidents?{bad}", headers=ciso)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == f"query.{bad.split('=')[0]}"


def test_the_register_as_of_a_moment_needs_its_offset_and_a_plausible_year(on_sqlite: Served):
    fg, url = on_sqlite.role(Role.FG), f"/municipalities/{TOWN}/register?as_of="
    assert on_sqlite.client.get(f"{url}2026-03-02T09:00:00%2B01:00", headers=fg).status_code == 200
    for moment in ("2026-03-02T09:00:00", "0573-03-02T09:00:00Z", "9999-12-31T23:00:00-05:00"):
        refused = on_sqlite.client.get(f"{url}{moment}", headers=fg)
        assert refused.status_code == 422, moment
        assert refused.json()["errors"][0]["field"] == "query.as_of"


def test_the_report_proves_its_figures_and_refuses_a_period_backwards(served: Served):
    record_breach_decision(served)
    fg = served.role(Role.FG)
    query = f"/municipalities/{TOWN}/report?controller={COLLEGE}"
    response = served.client.get(f"{query}&from=2026-01-01&to=2026-12-31", headers=fg)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["period"] == {"from": "2026-01-01", "to": "2026-12-31"}  # as asked
    receipts = {int(i): e["receipt"] for i, e in document["evidence"].items()}
    assert receipts
    verify_evidence(receipts, {}, served.verifiers)
    html = served.client.get(f"{query}&from=2026-01-01&to=2026-12-31&format=html", headers=fg)
    assert html.headers["content-type"].startswith("text/html")

    backwards = served.client.get(f"{query}&from=2026-12-31&to=2026-01-01", headers=fg)
    assert backwards.status_code == 422
    assert backwards.json()["errors"] == [
        {"field": "query.to", "problem": "the period ends before it starts"}
    ]
    employee = served.client.get(
        f"{query}&from=2026-01-01&to=2026-12-31", headers=served.role(Role.EMPLOYEE)
    )
    assert employee.status_code == 403


def test_a_reconstruction_needs_one_cut_off_and_proves_its_entries(served: Served):
    first, _ = report_incidents(served, 2)
    auditor = served.role(Role.AUDITOR)
    url = f"/reconstructions/incident_register?record={first}"
    response = served.client.get(f"{url}&index=0", headers=auditor)
    assert response.status_code == 200, response.text
    found = response.json()
    assert [r["id"] for r in found["result"]] == [first]
    verify_evidence({e["index"]: e["receipt"] for e in found["entries"]}, {}, served.verifiers)

    for query, field in (("", "query.index"), ("&index=0&at=2026-03-02T09:00:00Z", "query.index")):
        refused = served.client.get(f"{url}{query}", headers=auditor)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == field
    naive = served.client.get(f"{url}&at=2026-03-02T09:00:00", headers=auditor)
    assert naive.json()["errors"][0]["field"] == "query.at"
    assert served.client.get(f"{url}&index=99", headers=auditor).status_code == 404
    assert served.client.get(f"{url}&at=1999-01-01T00:00:00Z", headers=auditor).status_code == 404
    assert served.client.get("/reconstructions/nothing?index=0", headers=auditor).status_code == 404
    refused = served.client.get(f"{url}&index=0", headers=served.role(Role.EMPLOYEE))
    assert refused.status_code == 403


def test_a_nul_in_a_path_or_query_is_422_not_a_database_error(served: Served):
    auditor = served.role(Role.AUDITOR)
    for url, field in (
        ("/public/a%00b/register", "path"),
        (f"/municipalities/{TOWN}/register/a%00/history", "path"),
        (
            f"/municipalities/{TOWN}/report?controller=a%00&from=2026-01-01&to=2026-02-01",
            "query.controller",
        ),
        ("/reconstructions/incident_register?record=%00&index=0", "query.record"),
    ):
        response = served.client.get(url, headers=auditor)
        assert response.status_code == 422, url
        assert response.json()["errors"][0]["field"] == field


def test_parallel_requests_beside_a_projector_get_no_server_error(served: Served):
    """Commands and reads from eight threads while another runner follows the ledger, as
    under ``serve``: every answer is 2xx, and every read sees every write before it."""
    runner = ReadModelRunner(served.app, all_projections())
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    url = f"/municipalities/{TOWN}/incidents?limit=500"

    def write_then_read(i: int) -> None:
        made = served.command(
            "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary=f"{i}"
        )
        assert made.status_code == 201, made.text
        listed = served.client.get(url, headers=ciso)
        assert listed.status_code == 200, listed.text
        assert made.json()["id"] in {r["id"] for r in listed.json()["items"]}
        runner.catch_up_all()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write_then_read, range(40)))
    assert served.client.get(url, headers=ciso).json()["total"] == 40
