"""Every kind of tampering with the stored ledger is caught, and located.

The protections (triggers, privileges) are removed first, as a database superuser could.
Each test names the first bad index and the check the verifier must report.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.services.checkpointer import Checkpointer
from ledger.entry import Entry, chain_hash
from ledger.note import NoteSigner, NoteVerifier
from ledger.verify import Report, verify_ledger
from tests.persistence.stores import postgres_recorder, sqlite_recorder
from tests.persistence.tampering import PostgresTamperer, SQLiteTamperer

ORIGIN = "ledger.test.example/bewijslast"
SIZE = 30


@pytest.fixture(params=["postgres", "sqlite"])
def ledger(request, tmp_path):
    if request.param == "postgres":
        db = request.getfixturevalue("pg_database")
        recorder = postgres_recorder(db)
        tamperer = PostgresTamperer(db.url, recorder)
    else:
        path = str(request.getfixturevalue("sqlite_path"))
        recorder = sqlite_recorder(path)
        tamperer = SQLiteTamperer(path)
    streams = [uuid.uuid4() for _ in range(4)]
    for i in range(SIZE):
        stream = streams[i % 4]
        recorder.insert_events(
            [StoredEvent(stream, i // 4 + 1, f"domain:Event{i % 3}", f"state {i}".encode())]
        )
    signer = NoteSigner.generate(ORIGIN)
    Checkpointer(recorder, signer, state_file=tmp_path / "state").checkpoint()
    return recorder, tamperer, NoteVerifier.from_vkey(signer.vkey())


def verify(recorder, verifier) -> Report:
    size = recorder.ledger_size()
    return verify_ledger(
        recorder.records(0, size - 1),
        recorder.signed_checkpoints(),
        [verifier],
        origin=ORIGIN,
        reaches_end=True,
    )


def assert_caught(report: Report, index: int, check: str) -> None:
    assert not report.ok
    first = report.failures[0]
    assert (first.index, first.check) == (index, check), [str(f) for f in report.failures]
    assert first.expected is not None
    assert first.found is not None


def test_the_untouched_ledger_verifies(ledger):
    recorder, _, verifier = ledger
    report = verify(recorder, verifier)
    assert report.ok, [str(f) for f in report.failures]
    assert report.entries == SIZE


def test_a_flipped_byte_in_a_state_is_caught(ledger):
    recorder, tamperer, verifier = ledger
    tamperer.run("UPDATE {events} SET state = ? WHERE ledger_index = 7", (b"state 8",))
    assert_caught(verify(recorder, verifier), 7, "state-hash")


def test_an_edited_topic_is_caught(ledger):
    recorder, tamperer, verifier = ledger
    tamperer.run("UPDATE {events} SET topic = 'domain:Forged' WHERE ledger_index = 9")
    assert_caught(verify(recorder, verifier), 9, "leaf-hash")


def test_a_deleted_row_is_caught(ledger):
    recorder, tamperer, verifier = ledger
    tamperer.run("DELETE FROM {events} WHERE ledger_index = 12")
    assert_caught(verify(recorder, verifier), 12, "dense-index")


def test_two_swapped_rows_are_caught(ledger):
    recorder, tamperer, verifier = ledger
    for old, new in ((5, 1000001), (6, 5), (1000001, 6)):
        tamperer.run(
            "UPDATE {events} SET {id} = ?, ledger_index = ? WHERE {id} = ?", (new, new - 1, old)
        )
    assert_caught(verify(recorder, verifier), 4, "leaf-hash")


def test_a_truncated_tail_is_caught(ledger):
    recorder, tamperer, verifier = ledger
    tamperer.run("DELETE FROM {events} WHERE ledger_index >= 25")
    assert_caught(verify(recorder, verifier), 25, "truncation")


def test_a_naively_forged_row_is_caught(ledger):
    recorder, tamperer, verifier = ledger
    entry = Entry(
        SIZE,
        str(uuid.uuid4()),
        1,
        None,
        "domain:Forged",
        hashlib.sha256(b"x").hexdigest(),
        "2030-01-01T00:00:00.000000Z",
    )
    _insert_row(tamperer, entry, state=b"x", chain=b"\x01" * 32)
    assert_caught(verify(recorder, verifier), SIZE, "chain")


def test_a_forged_row_with_recomputed_hashes_inside_signed_history_is_caught(ledger):
    """The forger renumbers and rehashes everything after index 10: only the signature stops it."""
    recorder, tamperer, verifier = ledger
    records = list(recorder.records(0, SIZE - 1))
    tamperer.run("DELETE FROM {events} WHERE ledger_index >= 10")
    forged = Entry(
        10,
        str(uuid.uuid4()),
        1,
        None,
        "domain:Forged",
        hashlib.sha256(b"forged").hexdigest(),
        records[9].entry.recorded_at,
    )
    chain = records[9].chain_hash
    rewritten = [(forged, b"forged")]
    for record in records[10:]:
        e = record.entry
        rewritten.append(
            (
                Entry(
                    e.index + 1,
                    e.stream,
                    e.stream_seq,
                    e.stream_prev,
                    e.topic,
                    e.state_sha256,
                    e.recorded_at,
                ),
                record.state,
            )
        )
    # Stream links of later entries pointed at leaves that changed: recompute those too.
    leaves: dict[str, str] = {}
    for record in records[:10]:
        leaves[record.entry.stream] = record.leaf_hash.hex()
    for entry, state in rewritten:
        entry = Entry(
            entry.index,
            entry.stream,
            entry.stream_seq,
            leaves.get(entry.stream),
            entry.topic,
            entry.state_sha256,
            entry.recorded_at,
        )
        chain = chain_hash(chain, entry.leaf_hash())
        _insert_row(tamperer, entry, state=state, chain=chain)
        leaves[entry.stream] = entry.leaf_hash().hex()
    report = verify(recorder, verifier)
    # Checks 1-4 hold for the forgery; the signed root does not.
    assert [f.check for f in report.failures] == ["checkpoint-root"]
    assert report.failures[0].index == 0


def _insert_row(tamperer, entry: Entry, *, state: bytes, chain: bytes) -> None:
    columns = (
        "originator_id, originator_version, topic, state, ledger_index, leaf_hash, "
        "chain_hash, stream_prev, state_sha256, recorded_at"
    )
    stream = uuid.UUID(entry.stream)
    values = (
        str(stream) if isinstance(tamperer, PostgresTamperer) else stream.hex,
        entry.stream_seq,
        entry.topic,
        state,
        entry.index,
        entry.leaf_hash(),
        chain,
        None if entry.stream_prev is None else bytes.fromhex(entry.stream_prev),
        bytes.fromhex(entry.state_sha256),
        entry.recorded_at,
    )
    id_column = "notification_id" if isinstance(tamperer, PostgresTamperer) else "rowid"
    marks = ", ".join(["?"] * 10)
    sql = f"INSERT INTO {{events}} ({id_column}, {columns}) VALUES ({entry.index + 1}, {marks})"
    tamperer.run(sql, values)
