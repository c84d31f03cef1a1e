"""Personal data is encrypted per data subject from the first event, and erasable.

After erasure the content is unreadable, no copy of the plaintext or (on SQLite) of the
subject's key is left in the database files, and the ledger still verifies.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event

from adapters.config import database_env
from adapters.persistence.personal_data import ErasedAsSubject, PersonalDataAsCiphertext
from adapters.persistence.subject_keys import MasterKey, SubjectErased, open_key_store
from domain.application import Bewijslast
from domain.personal_data import Erased, ErasureGround, PersonalData
from ledger.verify import verify_ledger

NAME, BSN, NOTE = "Jan Jansen-Ŏzdemir", "123456782", "belde op 12 maart over zijn schuldhulpdossier"


class Requester(Aggregate):
    @event("Registered")
    def __init__(self, name: PersonalData, bsn: PersonalData) -> None:
        self.name, self.bsn, self.notes = name, bsn, []

    @event("NoteAdded")
    def add_note(self, note: PersonalData) -> None:
        self.notes.append(note)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bewijslast.db'}"
    return request.getfixturevalue("pg_database").url


def open_app(url: str, master: MasterKey) -> Bewijslast:
    keys = open_key_store(url, master)
    return Bewijslast(
        env=database_env(url),
        transcodings=[PersonalDataAsCiphertext(keys), ErasedAsSubject()],
        shred=keys.destroy,
    )


def database_bytes(url: str) -> bytes:
    if url.startswith("sqlite"):
        path = Path(database_env(url)["SQLITE_DBNAME"])
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        data = Path(conn.execute("SHOW data_directory").fetchone()[0])
        oid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
        files = [*(data / "base" / str(oid.fetchone()[0])).iterdir(), *(data / "pg_wal").iterdir()]
    return b"".join(p.read_bytes() for p in files if p.is_file())


def test_personal_data_is_stored_only_as_ciphertext_and_erasable(database_url):
    master = MasterKey.generate()
    app = open_app(database_url, master)
    subject, bystander = uuid.uuid4(), uuid.uuid4()
    requester = Requester(PersonalData(subject, NAME), PersonalData(subject, BSN))
    requester.add_note(PersonalData(subject, NOTE))
    other = Requester(
        PersonalData(bystander, "Piet Pietersen"), PersonalData(bystander, "111222333")
    )
    app.save(requester, other)

    # Readable while the key exists, also by another process with the same master key.
    reader = open_app(database_url, master)
    again = reader.repository.get(requester.id)
    assert (again.name.value, again.bsn.value, again.notes[0].value) == (NAME, BSN, NOTE)
    stored = database_bytes(database_url)
    assert b"Requester.Registered" in stored  # the scan does see the stored events
    for plaintext in (NAME, BSN, NOTE, "Piet Pietersen"):
        assert plaintext.encode() not in stored

    app.erase_personal_data(
        subject,
        municipality="Leusden",
        ground=ErasureGround.ERASURE_REQUEST,
        reference="verzoek 2026-117",
        actor="fg",
    )

    later = open_app(database_url, master)
    erased = later.repository.get(requester.id)
    assert erased.name == Erased(subject)
    assert str(erased.bsn) == "[gewist]"
    assert erased.notes == [Erased(subject)]
    # Other subjects are untouched.
    assert app.repository.get(other.id).name.value == "Piet Pietersen"

    # Nothing new is stored under an erased subject, and nothing half-done is left.
    size = app.recorder.ledger_size()
    erased_requester = app.repository.get(requester.id)
    erased_requester.add_note(PersonalData(subject, "nieuw"))
    with pytest.raises(SubjectErased):
        app.save(erased_requester)
    assert app.recorder.ledger_size() == size

    # The ledger, which hashes ciphertext, still verifies; the erasure itself is an entry.
    records = list(app.recorder.records(0, size - 1))
    report = verify_ledger(records, [], [], origin="test", reaches_end=True)
    assert report.ok, [str(f) for f in report.failures]
    assert records[-1].entry.topic.endswith("PersonalDataErasure.Erased")


def test_on_sqlite_the_destroyed_key_leaves_no_bytes_behind(tmp_path):
    url = f"sqlite:///{tmp_path / 'bewijslast.db'}"
    app = open_app(url, MasterKey.generate())
    subject = uuid.uuid4()
    app.save(Requester(PersonalData(subject, NAME), PersonalData(subject, BSN)))
    with sqlite3.connect(tmp_path / "bewijslast.db") as conn:
        (wrapped,) = conn.execute(
            "SELECT wrapped_key FROM subject_keys WHERE subject = ?", (str(subject),)
        ).fetchone()
    assert wrapped in database_bytes(url)
    app.erase_personal_data(
        subject,
        municipality="Leusden",
        ground=ErasureGround.RETENTION_ENDED,
        reference="S-1",
        actor="x",
    )
    assert wrapped not in database_bytes(url)


def test_new_subject_keys_wait_for_another_writer_instead_of_failing(tmp_path):
    """Two processes' key stores on one SQLite file, both creating keys: a transaction that
    read first could not take the write lock after the other's commit ('database is locked')."""
    import threading

    url = f"sqlite:///{tmp_path / 'keys.db'}"
    master = MasterKey.generate()
    ours, theirs = open_key_store(url, master), open_key_store(url, master)
    failures: list[Exception] = []

    def create(store, count: int) -> None:
        try:
            for _ in range(count):
                store.key_for(uuid.uuid4(), create=True)
        except Exception as e:
            failures.append(e)

    other = threading.Thread(target=create, args=(theirs, 400))
    other.start()
    create(ours, 400)
    other.join()
    assert failures == []


def raw_files(path: Path) -> bytes:
    """The main file, the WAL and the shared memory as they lie on disk (no checkpoint)."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_on_sqlite_the_destroyed_key_is_gone_from_the_files_without_waiting(tmp_path):
    """Issue 10: the old page, awaiting a checkpoint, kept the wrapped key in the main file
    (and its frames in the WAL) after the erasure."""
    path = tmp_path / "bewijslast.db"
    url = f"sqlite:///{path}"
    app = open_app(url, MasterKey.generate())
    subject, bystander = uuid.uuid4(), uuid.uuid4()
    app.save(Requester(PersonalData(subject, NAME), PersonalData(subject, BSN)))
    app.save(Requester(PersonalData(bystander, "Piet"), PersonalData(bystander, "111222333")))
    with sqlite3.connect(path) as conn:
        keys = dict(conn.execute("SELECT subject, wrapped_key FROM subject_keys").fetchall())
    wrapped, kept = keys[str(subject)], keys[str(bystander)]
    assert wrapped in raw_files(path)  # the scan does see a key where it lies
    app.erase_personal_data(
        subject,
        municipality="Leusden",
        ground=ErasureGround.RETENTION_ENDED,
        reference="S-1",
        actor="x",
    )
    stored = raw_files(path)
    assert wrapped not in stored
    assert kept in stored or kept in database_bytes(url)


def test_on_postgresql_the_key_table_is_vacuumed_after_an_erasure(pg_database):
    """PostgreSQL cannot overwrite a deleted row; VACUUM at least frees its space for reuse
    (docs/DEPLOYING.md says what remains and for how long)."""
    app = open_app(pg_database.url, MasterKey.generate())
    subject = uuid.uuid4()
    app.save(Requester(PersonalData(subject, NAME), PersonalData(subject, BSN)))

    def vacuumed() -> object:
        with psycopg.connect(pg_database.url, autocommit=True) as conn:
            return conn.execute(
                "SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'subject_keys'"
            ).fetchone()[0]

    assert vacuumed() is None
    app.erase_personal_data(
        subject,
        municipality="Leusden",
        ground=ErasureGround.RETENTION_ENDED,
        reference="S-1",
        actor="x",
    )
    assert vacuumed() is not None


def test_database_files_are_created_mode_600(tmp_path):
    path = tmp_path / "nieuw" / "bewijslast.db"
    app = open_app(f"sqlite:///{path}", MasterKey.generate())
    app.save(Requester(PersonalData(uuid.uuid4(), NAME), PersonalData(uuid.uuid4(), BSN)))
    files = list(path.parent.glob(path.name + "*"))
    assert {p.name for p in files} >= {"bewijslast.db", "bewijslast.db-wal"}
    assert {p.name: p.stat().st_mode & 0o777 for p in files} == {p.name: 0o600 for p in files}
