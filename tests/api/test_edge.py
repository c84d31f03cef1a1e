"""What gets past the edge stays in the ledger for ever, so the edge refuses it first: a body
over the limit while it is still arriving (413), JSON that nests too deep, is not JSON (NaN,
Infinity), holds a lone surrogate or a NUL (in a value or a key), or is not UTF-8 (422)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from adapters.config import ConfigurationError
from adapters.entrypoints.api.app import create_app
from adapters.entrypoints.api.edge import MAX_BODY_BYTES, MAX_DEPTH, max_body_bytes
from domain.authorization import Role
from tests.api.conftest import TOWN, Served

PROBLEM = "application/problem+json"


def incident(served: Served) -> str:
    made = served.command(
        "report-incident",
        served.role(Role.EMPLOYEE),
        municipality=TOWN,
        controller="college",
        summary="USB-stick kwijt",
    )
    return str(made.json()["id"])


def post(served: Served, body: bytes, headers: dict[str, str] | None = None) -> Any:
    return served.client.post(
        "/commands/report-incident",
        content=body,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def refused(served: Served, response: Any, status: int, size: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert served.ledger_size() == size
    return dict(response.json())


def test_a_body_over_the_limit_is_413_before_authentication(served: Served):
    size = served.ledger_size()
    huge = b'{"summary": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    problem = refused(served, post(served, huge), 413, size)  # no token at all
    assert problem["type"] == "https://bewijslast.nl/problems/too-large"
    # Just under the limit it reaches authentication (and is then refused there).
    assert post(served, b'{"summary": "x"}').status_code == 401


def test_a_streamed_body_is_not_read_past_the_limit(on_sqlite: Served):
    """No Content-Length: the chunks stop being received once the limit is passed."""
    api = create_app(on_sqlite.app, on_sqlite.client.app.state.authenticator, None, max_body=1000)
    chunk, offered = b"x" * 100, 100_000
    received: list[int] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        received.append(len(chunk))
        return {"type": "http.request", "body": chunk, "more_body": sum(received) < offered}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/commands/report-incident",
        "raw_path": b"/commands/report-incident",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("test", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }
    asyncio.run(api(scope, receive, send))
    assert sent[0]["status"] == 413
    assert sum(received) == 1100  # the limit and the one chunk that passed it; not 100,000


def test_the_limit_is_configurable():
    assert max_body_bytes({}) == MAX_BODY_BYTES
    assert max_body_bytes({"BEWIJSLAST_MAX_BODY_BYTES": "4096"}) == 4096
    with pytest.raises(ConfigurationError):
        max_body_bytes({"BEWIJSLAST_MAX_BODY_BYTES": "lots"})


def nested(depth: int) -> Any:
    value: Any = "diep"
    for _ in range(depth - 1):
        value = {"laag": value}
    return value


DEEP = json.dumps({"form": nested(254)}).encode()  # the poison of issue 10: ~254 deep


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        (DEEP, "body.form" + ".laag" * (MAX_DEPTH - 1), "nests deeper than"),
        (b'{"form": {"aantal": NaN}}', "body", "NaN is not a JSON number"),
        (b'{"form": {"aantal": Infinity}}', "body", "Infinity is not a JSON number"),
        (b'{"form": {"aantal": -Infinity}}', "body", "-Infinity is not a JSON number"),
        (b'{"form": {"naam": "\\ud800"}}', "body.form.naam", "lone surrogate"),
        (b'{"summary": "\\udfff"}', "body.summary", "lone surrogate"),
        (b'{"form": {"\\udfff": "x"}}', "body.form", "a key contains a lone surrogate"),
        (b'{"form": {"naam\\u0000": "x"}}', "body.form", "a key contains a NUL"),
        (b'{"form": ["a", "b\\u0000c"]}', "body.form.1", "contains a NUL"),
        ('{"form": {"naam": "Jan"}}'.encode("utf-16"), "body", "UTF-8"),
        ('{"form": {"naam": "Jan"}}'.encode("utf-16-le"), "body", "UTF-8"),
        (b'{"form": {"naam": "\xff\xfe"}}', "body", "UTF-8"),
    ],
    ids=[
        "deep",
        "nan",
        "infinity",
        "minus-infinity",
        "lone-surrogate",
        "lone-surrogate-in-a-text",
        "surrogate-key",
        "nul-key",
        "nul-in-list",
        "utf-16",
        "utf-16-le",
        "not-utf-8",
    ],
)
def test_poison_is_422_at_the_edge(served: Served, body: bytes, field: str, problem: str):
    target = incident(served)
    size = served.ledger_size()
    privacy = served.role(Role.PRIVACY_OFFICER)
    for path in ("/commands/supplement-ap-notification", "/commands/report-incident"):
        response = served.client.post(
            path, content=body, headers={**privacy, "Content-Type": "application/json"}
        )
        (error,) = refused(served, response, 422, size)["errors"]
        assert error["field"] == field
        assert problem in error["problem"]
    # The incident register still answers.
    listed = served.client.get(f"/municipalities/{TOWN}/incidents", headers=privacy)
    assert [r["id"] for r in listed.json()["items"]] == [target]


def test_nesting_up_to_the_limit_passes_the_edge(on_sqlite: Served):
    body = json.dumps(nested(MAX_DEPTH)).encode()
    response = post(on_sqlite, body, on_sqlite.role(Role.EMPLOYEE))
    assert response.status_code == 422  # refused by the command's model, not the edge
    assert response.json()["errors"][0]["field"] != "body"
