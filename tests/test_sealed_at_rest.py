"""A person's data is never at rest in the clear: every free text that may describe a person
(a requester's name and contact, the identity check, what is missing, the reasons, grounds and
objections of a request; an incident's summary, consequences, reasons, measures, AP form and
findings; an FG advice's question, advice and reasons) is sealed under a key, in the ledger
and in every read model. The demo is recorded and projected, and its plain texts are looked
for in the database's own files."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from adapters.bootstrap import open_application
from adapters.config import Settings
from adapters.demo import record_demo
from adapters.persistence.subject_keys import MasterKey
from adapters.services.projection_runner import ReadModelRunner
from domain.personal_data import PersonalData
from projections.catalogue import all_projections

pytestmark = pytest.mark.long


def sealed_texts(app) -> set[str]:
    """Every text the demo sealed, opened again with its key (erased ones are gone already)."""
    found: set[str] = set()

    def collect(value) -> None:
        if isinstance(value, PersonalData):
            found.add(value.value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for notification in app.recorder.select_notifications(1, 1_000_000):
        collect(vars(app.mapper.to_domain_event(notification)))
    return found


def record_and_project(url: str, keys: Path):
    MasterKey.generate_file(keys / "master.key")
    app = open_application(Settings(url, master_key_file=keys / "master.key"))
    record_demo(app)
    ReadModelRunner(app, all_projections()).catch_up_all()
    texts = sealed_texts(app)
    # One of each kind the demo writes, so that the scan cannot pass by finding nothing to scan.
    for text in (
        "USB-stick met BRP-export (met BSN's) verloren",  # an incident's summary
        "inbreuk op de persoonlijke levenssfeer",  # its likely consequences
        "USB-poorten geblokkeerd",  # a measure
        "alleen versleutelde media toestaan",  # the evaluation's findings
        "risico op identiteitsfraude voor de betrokkenen",  # the AP form
        "Moet dit datalek gemeld worden?",  # the question to the FG
        "melden bij de AP en de betrokkenen informeren",  # the FG's advice
        "welke gegevens onjuist zijn",  # what a request is suspended for
        "te veel afgeschermd",  # an objection's grounds
        "Anna de Vries",  # a requester
        "externe forensisch specialist",  # who holds an item of evidence
        "diefstal uit een auto",  # why the response team found criminal activity
    ):
        assert text in texts
    return app, texts


def contents(path: Path) -> bytes:
    # The server may remove a cache file (pg_internal.init, its relation cache) between the
    # listing and the read: a file that is gone holds nothing at rest.
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def in_clear(files: list[Path], texts: set[str]) -> list[tuple[str, str]]:
    read = {path.name: contents(path) for path in files}
    # The scan finds what is there: a channel, which describes no one, is stored as it is.
    assert any(b"Berichtenbox" in data for data in read.values())
    return [(name, text) for name, data in read.items() for text in texts if text.encode() in data]


def test_no_sealed_text_is_in_the_sqlite_files(tmp_path):
    database = tmp_path / "b.db"
    _, texts = record_and_project(f"sqlite:///{database}", tmp_path)
    files = [p for p in (database, Path(f"{database}-wal")) if p.exists()]
    assert database in files
    assert in_clear(files, texts) == []


def test_no_sealed_text_is_in_the_postgresql_data_directory(tmp_path, pg_database, pg_url):
    _, texts = record_and_project(pg_database.url, tmp_path)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")  # every page of this database written to its files
        (oid,) = conn.execute(
            "SELECT oid FROM pg_database WHERE datname = %s", (pg_database.name,)
        ).fetchone()
        (data,) = conn.execute("SHOW data_directory").fetchone()  # the test server runs here
    # The database's own files: its tables, indexes and TOAST. (The server's WAL is shared
    # with every other database on the test server and is not this test's to scan.)
    files = [p for p in (Path(data) / "base" / str(oid)).iterdir() if p.is_file()]
    assert in_clear(files, texts) == []
