"""An API in front of a fresh ledger, with API keys per role, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import open_application, signer_of
from adapters.config import Settings
from adapters.entrypoints.api.app import create_app
from adapters.entrypoints.api.auth import OIDC, Authenticator
from adapters.persistence.api_keys import ApiKeys
from adapters.persistence.subject_keys import MasterKey
from adapters.signing_keys import generate_key_files
from domain.application import Bewijslast
from domain.authorization import Actor, Grant, Role
from ledger.note import NoteVerifier
from tests.conftest import fresh_pg_database
from tests.projections.history import T0, Clock

ORIGIN = "ledger.test.example/bewijslast"
TOWN = "Leusden"
COLLEGE = "college van burgemeester en wethouders"


@dataclass
class Served:
    """The API as a client sees it, and what a test needs to look behind it."""

    client: TestClient
    app: Bewijslast
    keys: ApiKeys
    settings: Settings
    verifiers: list[NoteVerifier]
    clock: Clock

    def key(self, actor: str, *grants: Grant) -> dict[str, str]:
        """Headers with a fresh API key for ``actor``."""
        token = self.keys.create(Actor.with_grants(actor, grants))
        return {"Authorization": f"Bearer {token}"}

    def role(self, role: Role, town: str = TOWN) -> dict[str, str]:
        return self.key(f"{role.name.lower()}@{town.lower()}.nl", Grant(role, town))

    def ledger_size(self) -> int:
        return int(self.app.recorder.ledger_size())  # type: ignore[attr-defined]

    def command(self, name: str, headers: dict[str, str], /, **body: Any) -> Any:
        return self.client.post(f"/commands/{name}", headers=headers, json=body)


def serve(url: str, keys: Path, oidc: OIDC | None = None, **client: Any) -> Served:
    if not (keys / "ledger.key").exists():
        generate_key_files(ORIGIN, keys)
        MasterKey.generate_file(keys / "master.key")
    settings = Settings(url, ORIGIN, keys / "ledger.key", keys / "master.key")
    app = open_application(settings)
    clock = Clock(T0)
    app.clock = clock
    api_keys = ApiKeys(app.factory.datastore)  # type: ignore[attr-defined]
    api = create_app(app, Authenticator(api_keys, oidc), signer_of(settings, app))
    verifier = NoteVerifier.from_vkey((keys / "ledger.vkey").read_text().strip())
    return Served(TestClient(api, **client), app, api_keys, settings, [verifier], clock)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'b.db'}"
    else:
        with fresh_pg_database(request.getfixturevalue("pg_url")) as database:
            yield database.url


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    """On both databases: for the main flows."""
    served = serve(database_url, tmp_path / "keys")
    yield served
    served.app.close()


@pytest.fixture
def on_sqlite(tmp_path: Path) -> Served:
    """On SQLite only: for what does not depend on the database."""
    return serve(f"sqlite:///{tmp_path / 'b.db'}", tmp_path / "keys")
