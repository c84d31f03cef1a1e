"""A plain command (a JSON body its class accepts, no query, a well-formed idempotency key or
none) is read by the command's route itself; any other request FastAPI reads, as before. Both
ways answer alike, and a malformed request is always refused by FastAPI's way, naming what is
wrong as before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.entrypoints.api.commands import CommandEndpoint
from domain.authorization import Role
from tests.api.conftest import COLLEGE, TOWN, Served

REPORT = {"municipality": TOWN, "controller": COLLEGE, "summary": "USB-stick kwijt"}
# Each sends a valid command the way a client may, but not plainly.
NOT_PLAIN: dict[str, dict[str, Any]] = {
    "a charset in the content type": {
        "headers": {"Content-Type": "application/json; charset=utf-8"}
    },
    "a query": {"params": {"via": "portal"}},
    "a JSON media type of its own": {"headers": {"Content-Type": "application/merge+json"}},
}


@pytest.fixture
def standard_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The commands FastAPI read: it calls the endpoint, the plain way calls ``execute``."""
    read: list[str] = []
    called = CommandEndpoint.__call__

    def spy(self: CommandEndpoint, command: Any, **rest: Any) -> dict[str, Any]:
        read.append(type(command).__name__)
        return called(self, command=command, **rest)

    monkeypatch.setattr(CommandEndpoint, "__call__", spy)
    return read


def post(served: Served, caller: dict[str, str], body: Any, **request: Any) -> Any:
    """A command with ``request``'s headers over the caller's, JSON-encoded as a client would."""
    headers = {"Content-Type": "application/json", **caller, **request.pop("headers", {})}
    return served.client.post(
        "/commands/report-incident", content=json.dumps(body), headers=headers, **request
    )


def test_a_plain_command_is_recorded_without_fastapis_reading(
    served: Served, standard_reads: list[str]
):
    employee = served.role(Role.EMPLOYEE)
    size = served.ledger_size()
    answer = post(served, employee, REPORT)
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert set(answer.json()) == {"id", "index", "checkpoint", "receipt"}
    assert answer.json()["index"] == size
    assert served.ledger_size() == size + 1
    assert standard_reads == []


@pytest.mark.parametrize("way", NOT_PLAIN)
def test_a_command_sent_otherwise_is_read_by_fastapi_and_answered_alike(
    served: Served, standard_reads: list[str], way: str
):
    employee = served.role(Role.EMPLOYEE)
    plain = post(served, employee, REPORT)
    other = post(served, employee, REPORT, **NOT_PLAIN[way])
    assert other.status_code == plain.status_code == 201, other.text
    assert other.headers["content-type"] == plain.headers["content-type"]
    assert set(other.json()) == set(plain.json())
    assert other.json()["index"] == plain.json()["index"] + 1
    assert standard_reads == ["ReportIncident"]


def test_a_repeat_answers_alike_whichever_way_either_was_read(
    served: Served, standard_reads: list[str]
):
    employee = served.role(Role.EMPLOYEE)
    keyed = {**employee, "Idempotency-Key": "melding-7"}
    first = post(served, keyed, REPORT)
    size = served.ledger_size()
    again_plain = post(served, keyed, REPORT)
    again_standard = post(served, keyed, REPORT, **NOT_PLAIN["a charset in the content type"])
    for again in (again_plain, again_standard):
        assert again.status_code == 201, again.text
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert served.ledger_size() == size
    assert standard_reads == ["ReportIncident"]  # the repeat with a charset only


# Each: the body and the idempotency key (or None) of a request that is refused, and the
# field FastAPI's validation names.
REFUSED: dict[str, tuple[Any, str | None, str]] = {
    "a body its class refuses": ({**REPORT, "summary": 7}, None, "body.summary"),
    "a member its class does not know": ({**REPORT, "actor": "x"}, None, "body.actor"),
    "a body that is no object": ([REPORT], None, "body"),
    "an idempotency key with a space": (REPORT, "melding 7", "header.Idempotency-Key"),
    "an idempotency key too long": (REPORT, "k" * 256, "header.Idempotency-Key"),
}


@pytest.mark.parametrize("what", REFUSED)
def test_what_is_not_plain_is_refused_by_fastapi_as_before(
    served: Served, standard_reads: list[str], what: str
):
    body, key, field = REFUSED[what]
    headers = served.role(Role.EMPLOYEE)
    if key is not None:
        headers["Idempotency-Key"] = key
    size = served.ledger_size()
    answer = post(served, headers, body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in answer.json()["errors"]] == [field]
    assert served.ledger_size() == size
    assert standard_reads == []


def test_a_plain_command_of_an_unknown_caller_is_refused_before_anything_is_recorded(
    served: Served, standard_reads: list[str]
):
    size = served.ledger_size()
    for headers in ({}, {"Authorization": "Bearer bwl_not-a-key"}, {"Authorization": "Basic eA=="}):
        answer = post(served, headers, REPORT)
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "WWW-Authenticate" in answer.headers
    assert served.ledger_size() == size
    assert standard_reads == []
