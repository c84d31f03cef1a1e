"""A command sent again with its Idempotency-Key answers as the first time and records
nothing; the same key with another body is refused. On SQLite and PostgreSQL."""

from __future__ import annotations

from domain.authorization import Grant, Role
from tests.api.conftest import COLLEGE, TOWN, Served
from tests.api.test_procedure import refused


def keyed(served: Served, name: str, headers: dict[str, str], key: str, **body):
    return served.client.post(
        f"/commands/{name}", headers={**headers, "Idempotency-Key": key}, json=body
    )


def test_a_repeated_report_answers_with_the_first_id_and_records_once(served: Served):
    employee = served.role(Role.EMPLOYEE)
    body = {"municipality": TOWN, "controller": COLLEGE, "summary": "USB kwijt"}
    first = keyed(served, "report-incident", employee, "melding-1", **body)
    assert first.status_code == 201, first.text
    size = served.ledger_size()

    again = keyed(served, "report-incident", employee, "melding-1", **body)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert served.ledger_size() == size


def test_a_repeated_step_is_not_refused_by_the_procedure(served: Served):
    """Without the key, triaging twice is a 409: the retry of a lost answer must not be."""
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    incident = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="phishing"
    ).json()["id"]
    first = keyed(served, "triage-incident", ciso, "triage-1", aggregate_id=incident, impact="hoog")
    size = served.ledger_size()
    again = keyed(served, "triage-incident", ciso, "triage-1", aggregate_id=incident, impact="hoog")
    assert (again.status_code, again.json()) == (201, first.json())
    assert served.ledger_size() == size
    unkeyed = served.command("triage-incident", ciso, aggregate_id=incident, impact="hoog")
    refused(served, unkeyed, 409, "procedure", size)


def test_the_same_key_with_another_body_is_422_and_records_nothing(served: Served):
    employee = served.role(Role.EMPLOYEE)
    body = {"municipality": TOWN, "controller": COLLEGE, "summary": "USB kwijt"}
    keyed(served, "report-incident", employee, "melding-2", **body)
    size = served.ledger_size()
    other = keyed(served, "report-incident", employee, "melding-2", **{**body, "summary": "laptop"})
    problem = refused(served, other, 422, "idempotency-key-reused", size)
    assert problem["errors"][0]["field"] == "header.Idempotency-Key"


def test_a_key_is_the_callers_own(served: Served):
    """Another caller's identical key neither finds nor reveals the first caller's record."""
    body = {"municipality": TOWN, "controller": COLLEGE, "summary": "USB kwijt"}
    mine = keyed(served, "report-incident", served.role(Role.EMPLOYEE), "k", **body)
    other = served.key("other@leusden.nl", Grant(Role.EMPLOYEE, TOWN))
    theirs = keyed(served, "report-incident", other, "k", **body)
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]


def test_a_malformed_key_is_422(on_sqlite: Served):
    employee = on_sqlite.role(Role.EMPLOYEE)
    body = {"municipality": TOWN, "controller": COLLEGE, "summary": "USB kwijt"}
    for key in ("", "x" * 256, "met spatie"):
        response = keyed(on_sqlite, "report-incident", employee, key, **body)
        refused(on_sqlite, response, 422, "invalid", 0)
