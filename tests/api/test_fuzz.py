"""Schemathesis fuzzes every operation of the OpenAPI document: never a 5xx, and a refused
request (4xx) never writes to the ledger. Bounded: a few examples per operation. Then
statefully: writes followed by the reads of what they wrote (OpenAPI links from each command to
the read models of its record), so that a write that succeeds and leaves a read answering 5xx
(poison that stays) fails.

Generated bodies are steered to a municipality the caller holds every role in, and to records
that exist, so that commands get past authorisation and reach the domain and the databases.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.generation.stateful.state_machine import APIStateMachine
from schemathesis.python.asgi import get_client

from domain.authorization import Grant, Role
from domain.commands import (
    COMMANDS,
    StepCommand,
)
from domain.dpia import DPIA
from domain.fg_advice import FGAdvice
from domain.incidents import Incident
from domain.processing import ProcessingActivity
from domain.processors import Processor
from domain.requests import RightsRequest
from domain.retention import RecordDestruction
from tests.api.conftest import COLLEGE, TOWN, Served, serve
from tests.conftest import fresh_pg_database

EXAMPLES = 8  # per operation and database: about a minute each on two cores
SCENARIOS, STEPS = 15, 6  # stateful: per database, bounded for CI


class Fuzzed:
    def __init__(self, served: Served) -> None:
        self.served = served
        # One client for every case sent to the application: without one, schemathesis makes
        # and closes a client for each case, as much time as the rest of sending it. The API
        # sets no cookies, so nothing is carried from one case to the next.
        self.session = get_client(served.client.app)
        # The application is reached in-process, so the environment's proxies, CA bundle and
        # .netrc mean nothing to it; read for every request, they took ~0.45 ms of a case's ~5.
        self.session.trust_env = False
        # Every role but the FG's, which never decides where it advises (art. 38(6)).
        self.headers = served.key(
            "fuzz@leusden.nl", *(Grant(role, TOWN) for role in Role if role is not Role.FG)
        )
        self.records: dict[type, UUID] = {}
        for kind, name, body in (
            (Incident, "report-incident", {"summary": "fuzz"}),
            (RightsRequest, "receive-request", REQUEST),
            (ProcessingActivity, "register-processing-activity", ACTIVITY),
            (Processor, "register-processor", {"name": "fuzz"}),
        ):
            made = served.command(name, self.headers, municipality=TOWN, controller=COLLEGE, **body)
            assert made.status_code == 201, made.text
            self.records[kind] = UUID(made.json()["id"])
        advice = served.command(
            "request-fg-advice",
            self.headers,
            municipality=TOWN,
            about=str(self.records[Incident]),
            question="melden?",
        )
        self.records[FGAdvice] = UUID(advice.json()["id"])
        dpia = served.command(
            "signal-dpia",
            self.headers,
            activity=str(self.records[ProcessingActivity]),
            trigger="nieuw systeem",
            description="fuzz",
        )
        assert dpia.status_code == 201, dpia.text
        self.records[DPIA] = UUID(dpia.json()["id"])
        self.steps = {
            f"/commands/{name}": cls.aggregate_type
            for name, cls in COMMANDS.items()
            if issubclass(cls, StepCommand)
        }

    def steer(self, case: Any) -> None:
        if isinstance(case.body, dict):
            if "municipality" in case.body:
                case.body["municipality"] = TOWN
            if "aggregate_id" in case.body and case.path in self.steps:
                case.body["aggregate_id"] = str(self.records[self.steps[case.path]])
        if case.path_parameters and "municipality" in case.path_parameters:
            case.path_parameters["municipality"] = TOWN
        if case.path_parameters and "model" in case.path_parameters:
            case.path_parameters["model"] = "incident_register"
        if case.query and "municipality" in case.query:
            case.query["municipality"] = [TOWN]


REQUEST = {
    "right": "art. 15 inzage",
    "channel": "web",
    "requester_name": "A. Jansen",
    "requester_contact": "a@example.nl",
    "received_at": "2026-03-02T09:00:00+01:00",
}
ACTIVITY = {
    "entry": {
        "name": "Parkeren",
        "purposes": ["parkeervergunningen"],
        "legal_basis": "art. 6(1)(e) publieke taak",
        "legal_basis_law": "Gemeentewet",
        "data_subject_categories": ["inwoners"],
        "personal_data_categories": ["NAW", "kenteken"],
        "retention": "7 jaar",
        "security_measures": ["BIO"],
        "process_owner": "afdelingshoofd",
    },
    "valid_from": "2026-03-02T09:00:00+01:00",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzzed]:
    home = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        served = serve(f"sqlite:///{home / 'b.db'}", home / "keys", raise_server_exceptions=False)
        yield Fuzzed(served)
        return
    with fresh_pg_database(request.getfixturevalue("pg_url")) as database:
        served = serve(database.url, home / "keys", raise_server_exceptions=False)
        yield Fuzzed(served)
        served.app.close()


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, read when the tests are collected (from an application on
    a throwaway SQLite file), so that every operation is a test of its own and the operations
    are spread over the pytest workers; the cases are sent to the ``fuzzed`` application."""
    with tempfile.TemporaryDirectory() as home:
        served = serve(f"sqlite:///{Path(home) / 'b.db'}", Path(home) / "keys")
        try:
            document: dict[str, Any] = served.client.get("/openapi.json").json()
        finally:
            served.app.close()
    return document


schema = schemathesis.openapi.from_dict(openapi_document())
schema.location = "/openapi.json"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples in every CI run: a failure reproduces
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_no_write_from_a_refused_request(case: Any, fuzzed: Fuzzed) -> None:
    fuzzed.steer(case)
    before = fuzzed.served.ledger_size()
    response = case.call(
        app=fuzzed.served.client.app, session=fuzzed.session, headers=fuzzed.headers
    )
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    if response.status_code >= 400:
        assert response.headers["content-type"] == ["application/problem+json"]
        assert fuzzed.served.ledger_size() == before, f"{case.path} wrote and refused"


# What each kind of record is read back through: its read models and the oversight on them.
READS: dict[type, tuple[str, ...]] = {
    Incident: (
        "/municipalities/{municipality}/incidents",
        "/municipalities/{municipality}/breaches",
        "/oversight/open-breaches",
        "/oversight/late-ap-notifications",
        "/oversight/incidents-not-evaluated",
        "/oversight/evaluations-due",
        "/oversight/criminal-activity-without-aangifte",
        "/oversight/addresses-not-destroyed",
        "/oversight/subjects-not-informed-without-ground",
        "/municipalities/{municipality}/report",
        "/reconstructions/{model}",
    ),
    RightsRequest: (
        "/municipalities/{municipality}/requests",
        "/oversight/requests-near-deadline",
        "/oversight/requests-decided-not-sent",
        "/oversight/objections-near-term",
        "/oversight/notices-of-default",
        "/reconstructions/{model}",
    ),
    ProcessingActivity: (
        "/municipalities/{municipality}/register",
        "/municipalities/{municipality}/register.csv",
        "/public/{municipality}/register",
        "/oversight/sensitive-processing-without-dpia",
    ),
    FGAdvice: ("/oversight/unanswered-fg-advice", "/oversight/departures-from-fg-advice"),
    DPIA: (
        "/municipalities/{municipality}/register",
        "/oversight/dpias-not-started",
        "/oversight/ap-consultations-past-deadline",
        "/oversight/dpia-measures-not-done",
        "/oversight/dpia-reassessments-due",
    ),
    Processor: (
        "/municipalities/{municipality}/processors",
        "/oversight/processing-without-agreement",
        "/oversight/processor-agreements-expiring",
        "/oversight/special-categories-outside-eea",
    ),
    # What retention runs, legal holds and the reports sent change: no record of the above.
    RecordDestruction: (
        "/oversight/retention-due",
        "/oversight/retention-held",
        "/oversight/retention-destroyed",
        "/oversight/reports-sent",
    ),
}
CREATES = {
    "report-incident": Incident,
    "receive-request": RightsRequest,
    "register-processing-activity": ProcessingActivity,
    "request-fg-advice": FGAdvice,
    "signal-dpia": DPIA,
    "volunteer-fg-advice": FGAdvice,
    "register-processor": Processor,
}
# Commands that neither create nor step a record of the kinds above: what they change.
CHANGES = {
    "erase-personal-data": RightsRequest,
    "run-retention": RecordDestruction,
    "place-legal-hold": RecordDestruction,
    "lift-legal-hold": RecordDestruction,
    "record-fg-annual-report": RecordDestruction,
    "record-breach-register-evaluation": RecordDestruction,
    "record-ciso-quarterly-report": RecordDestruction,
}


def linked(raw: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with links from every command's 201 to the reads of its record,
    and from each command that creates a record to the steps on such a record."""
    reads = {
        path: item["get"]["operationId"] for path, item in raw["paths"].items() if "get" in item
    }
    kinds: dict[str, type] = {}
    for name, cls in COMMANDS.items():
        if issubclass(cls, StepCommand):
            kinds[name] = cls.aggregate_type
        elif name in CREATES:
            kinds[name] = CREATES[name]
        else:
            kinds[name] = CHANGES[name]
    write = {name: raw["paths"][f"/commands/{name}"]["post"] for name in kinds}
    for name, kind in kinds.items():
        links = {
            f"read{i}": {"operationId": reads[path], "parameters": {}}
            for i, path in enumerate(READS[kind])
        }
        if name in CREATES:  # the steps are steered to a record of that kind
            links |= {
                f"step-{step}": {"operationId": write[step]["operationId"], "parameters": {}}
                for step, of in kinds.items()
                if of is kind and step not in CREATES
            }
        write[name]["responses"]["201"]["links"] = links
    return raw


class Steered(APIStateMachine):
    fuzzed: Fuzzed

    def before_call(self, case: Any) -> None:
        self.fuzzed.steer(case)
        if case.path == "/municipalities/{municipality}/report":
            case.query = {"controller": COLLEGE, "start": "2026-01-01", "end": "2026-12-31"}
        if case.path == "/reconstructions/{model}":
            case.query = {"index": str(self.fuzzed.served.ledger_size() - 1)}

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        return {"headers": self.fuzzed.headers, "session": self.fuzzed.session}

    def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"


@pytest.mark.long
def test_no_read_fails_after_a_write_succeeded(fuzzed: Fuzzed) -> None:
    raw = linked(fuzzed.served.client.get("/openapi.json").json())
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = fuzzed.served.client.app
    schema.location = "/openapi.json"
    machine = type("Machine", (Steered, schema.as_state_machine()), {"fuzzed": fuzzed})
    machine.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
