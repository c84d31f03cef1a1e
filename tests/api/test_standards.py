"""The API to the letter of the standards it claims: RFC 9457 problem documents as one schema,
RFC 9110's Allow on a 405, and documentation pages that need nothing from the network."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from adapters.entrypoints.api.problems import PROBLEM_SCHEMA
from adapters.entrypoints.cli.main import build_parser
from domain.authorization import Role
from tests.api.conftest import Served
from tests.bus.rabbitmq import free_port
from tests.chromium import chromium

PROBLEM = {
    "application/problem+json": {"schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}}
}


@pytest.fixture
def openapi(on_sqlite: Served) -> dict:
    return on_sqlite.client.get("/openapi.json").json()


def test_every_error_response_refers_to_the_one_problem_schema(openapi):
    errors = [
        (path, method, status, response)
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if int(status) >= 400
    ]
    assert len(errors) > 100
    assert [e[:3] for e in errors if e[3]["content"] != PROBLEM] == []
    schema = openapi["components"]["schemas"][PROBLEM_SCHEMA]
    assert {"type", "title", "status", "detail", "instance"} <= set(schema["required"])
    # Written once: no copy of it inline anywhere else.
    assert json.dumps(openapi).count('"title": "ProblemDocument"') == 1


def test_a_generated_client_comes_out_without_warnings(openapi, tmp_path):
    (tmp_path / "openapi.json").write_text(json.dumps(openapi), encoding="utf-8")
    (tmp_path / "config.yaml").write_text("post_hooks: []\n", encoding="utf-8")  # no formatter
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            "openapi.json",
            "--config",
            "config.yaml",
            "--meta",
            "none",
            "--output-path",
            "client",
            "--fail-on-warning",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "warning" not in said.lower(), said
    # Every documented error reaches the client as a problem document, none dropped.
    # The module of GET /health itself (its folder also holds /health/ready's, and __init__).
    operation = openapi["paths"]["/health"]["get"]
    health = (tmp_path / "client" / "api" / "health" / f"{operation['operationId']}.py").read_text()
    statuses = [s for s in operation["responses"] if int(s) >= 400]
    for status in statuses:
        assert re.search(rf"status_code == {status}:\n.*ProblemDocument\.from_dict", health, re.S)
    assert len(re.findall(r"ProblemDocument\.from_dict", health)) == len(statuses)


def test_a_method_the_path_does_not_take_is_405_with_allow(on_sqlite: Served):
    client = on_sqlite.client
    refused = client.delete("/health")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET"
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "https://bewijslast.nl/problems/method-not-allowed"
    command = client.get("/commands/report-incident", headers=on_sqlite.role(Role.EMPLOYEE))
    assert command.status_code == 405
    assert command.headers["allow"] == "POST"


def test_the_documentation_pages_load_their_assets_from_the_server(on_sqlite: Served):
    client = on_sqlite.client
    for page, assets in (
        ("/docs", ["swagger-ui-bundle.js", "swagger-ui.css"]),
        ("/redoc", ["redoc.standalone.js"]),
    ):
        html = client.get(page).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources
        assert [s for s in sources if "://" in s] == [], page  # nothing from elsewhere
        for asset in assets:
            assert f"/docs-assets/{asset}" in sources
            served = client.get(f"/docs-assets/{asset}")
            assert served.status_code == 200
            assert len(served.content) > 100_000  # the bundle itself, not a stub


@pytest.fixture
def served_url(on_sqlite: Served) -> Iterator[str]:
    """The same API on a real port, for a browser."""
    app = on_sqlite.client.app
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        threading.Event().wait(0.02)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.mark.parametrize(
    ("page", "rendered"),
    [
        # Swagger UI draws one block per operation, with its path.
        ("/docs", re.compile(r'class="opblock[^"]*".*?/commands/report-incident', re.S)),
        # ReDoc draws the operations' summaries in its side menu.
        ("/redoc", re.compile(r"Report an incident|report-incident|ReportIncident", re.I)),
    ],
)
def test_a_browser_without_network_renders_the_operations(served_url, page, rendered, tmp_path):
    dom = chromium(
        "--virtual-time-budget=15000",
        # Nothing but the server itself resolves: a CDN would fail, as on a closed network.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--dump-dom",
        served_url + page,
        tmp_path=tmp_path,
    )
    assert rendered.search(dom), dom[:2000]


def test_ranges_are_from_and_to_in_the_api_as_on_the_command_line(openapi):
    commands = build_parser()._subparsers._group_actions[0].choices
    for path, command in (
        ("/municipalities/{municipality}/report", "report"),
        ("/ledger/bundle", "export"),
    ):
        names = {p["name"] for p in openapi["paths"][path]["get"]["parameters"]}
        assert {"from", "to"} <= names, path
        assert not names & {"start", "end", "first", "last"}, path
        options = {o for action in commands[command]._actions for o in action.option_strings}
        assert {"--from", "--to"} <= options, command
