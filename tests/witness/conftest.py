"""Witnesses on real HTTP ports, and ledgers on both databases for them to watch."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from eventsourcing.persistence import StoredEvent

from adapters.services.checkpointer import Checkpointer
from adapters.services.cosigning import Cosigning, Witness
from adapters.witness.http import create_witness_app
from adapters.witness.store import WitnessStore
from ledger.note import COSIGNATURE_V1, NoteSigner, NoteVerifier
from ledger.witness import AddCheckpoint
from tests.bus.rabbitmq import free_port
from tests.persistence.stores import postgres_recorder, sqlite_recorder

ORIGIN = "ledger.bunschoten.example/bewijslast"


def verifier_of(signer: NoteSigner) -> NoteVerifier:
    return NoteVerifier.from_vkey(signer.vkey())


class RunningWitness:
    """A witness service (its store, key and port) that a test can stop and start again."""

    def __init__(self, store: Path, name: str, logs: list[NoteVerifier]) -> None:
        self.store_path, self.logs = store, logs
        self.signer = NoteSigner.generate(name, COSIGNATURE_V1)
        self.port = free_port()
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def verifier(self) -> NoteVerifier:
        return verifier_of(self.signer)

    @property
    def as_configured(self) -> Witness:
        return Witness(self.url, self.verifier)

    def start(self) -> RunningWitness:
        store = WitnessStore(self.store_path, self.signer, self.logs)
        self.store = store
        config = uvicorn.Config(
            create_witness_app(store), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30  # a bound for a loaded machine
        while not self.server.started:
            assert time.monotonic() < deadline, "the witness did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join()
            self.server = self.thread = None

    def post(self, request: AddCheckpoint) -> tuple[int, str, str]:
        return post(self.url, request)


def post(url: str, request: AddCheckpoint) -> tuple[int, str, str]:
    """Status, content type and body of an add-checkpoint request."""
    sent = urllib.request.Request(
        f"{url}/add-checkpoint", data=request.format().encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(sent, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@dataclass
class Ledger:
    """A ledger's recorder and the municipality's checkpointer over it."""

    recorder: Any
    signer: NoteSigner
    state_file: Path

    def append(self, count: int) -> None:
        stream = uuid.uuid4()
        for version in range(1, count + 1):
            self.recorder.insert_events([StoredEvent(stream, version, "t:E", b"s%d" % version)])

    def checkpointer(self, cosigning: Cosigning | None = None) -> Checkpointer:
        return Checkpointer(
            self.recorder,
            self.signer,
            state_file=self.state_file,
            on_signed=None if cosigning is None else cosigning.collect,
        )

    def sign(self) -> str:
        return self.checkpointer().checkpoint()[1]


@pytest.fixture
def log_signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


def open_ledger(
    kind: str, request: pytest.FixtureRequest, signer: NoteSigner, tmp: Path, name: str
) -> Ledger:
    if kind == "postgres":
        recorder = postgres_recorder(request.getfixturevalue(f"pg_database_{name}"))
    else:
        recorder = sqlite_recorder(str(tmp / f"{name}.db"))
    return Ledger(recorder, signer, tmp / f"{name}.checkpoint")


@pytest.fixture
def pg_database_main(pg_url: str) -> Iterator[Any]:
    from tests.conftest import fresh_pg_database

    with fresh_pg_database(pg_url) as database:
        yield database


@pytest.fixture
def pg_database_fork(pg_url: str) -> Iterator[Any]:
    from tests.conftest import fresh_pg_database

    with fresh_pg_database(pg_url) as database:
        yield database


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request: pytest.FixtureRequest, log_signer: NoteSigner, tmp_path: Path) -> Ledger:
    """The municipality's ledger, on both databases."""
    return open_ledger(request.param, request, log_signer, tmp_path, "main")


@pytest.fixture
def fork(request: pytest.FixtureRequest, ledger: Ledger, tmp_path: Path) -> Ledger:
    """Another ledger on the same database kind, with the same origin and key: a second
    history the keyholder could show to some and not to others."""
    kind = "postgres" if "Postgres" in type(ledger.recorder).__name__ else "sqlite"
    return open_ledger(kind, request, ledger.signer, tmp_path, "fork")


@pytest.fixture
def witnesses(tmp_path: Path, log_signer: NoteSigner) -> Iterator[list[RunningWitness]]:
    """The FG's and a neighbouring municipality's witness, both watching the ledger."""
    logs = [verifier_of(log_signer)]
    started = [
        RunningWitness(tmp_path / "fg.db", "fg.bunschoten.example/witness", logs),
        RunningWitness(tmp_path / "buur.db", "spakenburg.example/witness", logs),
    ]
    for witness in started:
        witness.start()
    yield started
    for witness in started:
        witness.stop()
