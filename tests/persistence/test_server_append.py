"""On PostgreSQL the server builds each entry (adapters/persistence/schema.py, migration 3)
from the members the client rendered: its bytes are exactly the ones the offline verifier
builds in Python, whatever the topic, and a recorder of the release before appends to the
same ledger at the same time (a rolling upgrade)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tarfile
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.entry import Entry
from ledger.merkle import MemoryTree, StridedNodes, tree_root
from tests.persistence.stores import postgres_recorder, verify_store

ROOT = Path(__file__).parents[2]
# The last release whose recorder computed the entries in Python under the lock.
CLIENT_SIDE_RELEASE = "7787e281f2cb358b2b82b06aba2a4e7fb37e6b8b"

# A topic of every kind JSON escapes or passes: quotes, backslashes, each control character
# (PostgreSQL text holds no NUL), DEL, line and paragraph separators, a BOM, combining and
# right-to-left letters, private use, and planes beyond the BMP.
ADVERSARIAL_TOPICS = [
    'quote"d:Topic',
    "back\\slash:\\u0041",
    "".join(chr(c) for c in range(1, 0x20)) + "\x7f",
    "line\u2028paragraph\u2029",
    "\ufeffbom:é\u0301",
    "שלום:مرحبا",
    "\ue000private\U000f0000",
    "emoji:😀\U0001f3f3\ufe0f\u200d\U0001f308",
    "/slash</script>",
    "",
]


def entries_as_python_builds_them(recorder) -> None:
    """Every stored leaf hash is the hash of the bytes Python builds from the stored row."""
    size = recorder.ledger_size()
    for record in recorder.records(0, size - 1):
        assert record.leaf_hash == Entry.leaf_hash(record.entry), record.entry
    report = verify_store(recorder)
    assert report.ok, [str(f) for f in report.failures]


def test_adversarial_topics_are_hashed_as_the_verifier_hashes_them(pg_database):
    recorder = postgres_recorder(pg_database)
    stream = uuid.uuid4()
    events = [
        StoredEvent(stream, version, topic, topic.encode() + b"\x00state")
        for version, topic in enumerate(ADVERSARIAL_TOPICS, start=1)
    ]
    recorder.insert_events(events[:1])  # a stream's first entry: stream_prev null
    recorder.insert_events(events[1:])  # the rest in one append, each after the one before
    stored = list(recorder.records(0, len(events) - 1))
    assert [r.entry.topic for r in stored] == ADVERSARIAL_TOPICS
    assert stored[0].entry.stream_prev is None
    assert stored[1].entry.stream_prev == stored[0].leaf_hash.hex()
    entries_as_python_builds_them(recorder)


def test_any_topic_is_hashed_as_the_verifier_hashes_it(pg_database):
    recorder = postgres_recorder(pg_database)

    @settings(max_examples=40, deadline=None)
    @given(
        st.lists(
            st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")),
            min_size=1,
            max_size=8,
        )
    )
    def appended(topics: list[str]) -> None:
        recorder.insert_events([StoredEvent(uuid.uuid4(), 1, t, b"state") for t in topics])

    appended()
    entries_as_python_builds_them(recorder)


def test_the_server_stamps_recorded_at_in_the_format_and_never_earlier(pg_database):
    recorder = postgres_recorder(pg_database)
    stream = uuid.uuid4()
    recorder.insert_events([StoredEvent(stream, 1, "t:E", b"server clock")])
    later = datetime(2999, 1, 2, 3, 4, 5, tzinfo=UTC)  # whole seconds: six zero digits
    recorder.clock = lambda: later
    recorder.insert_events([StoredEvent(stream, 2, "t:E", b"injected clock")])
    recorder.clock = lambda: later - timedelta(days=1)  # the clock steps back
    recorder.insert_events([StoredEvent(stream, 3, "t:E", b"never earlier")])
    stamped = [r.entry.recorded_at for r in recorder.records(0, 2)]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamped[0])
    assert stamped[0] <= datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert stamped[1:] == ["2999-01-02T03:04:05.000000Z"] * 2
    entries_as_python_builds_them(recorder)


def test_the_subtrees_the_server_stores_are_those_of_the_tree(pg_database):
    """Across the stored levels 4 and 8: appends of 1, 7 and 10 events up to 600 leaves."""
    recorder = postgres_recorder(pg_database)
    streams = [uuid.uuid4() for _ in range(3)]
    versions = dict.fromkeys(streams, 0)
    size = 0
    for per_append in [1, 7, 10] * 30 + [1] * 60:
        batch = []
        for n in range(per_append):
            stream = streams[(size + n) % 3]
            versions[stream] += 1
            batch.append(StoredEvent(stream, versions[stream], "t:E", b"%d" % (size + n)))
        recorder.insert_events(batch)
        size += per_append
    assert size == 600
    leaves = [r.leaf_hash for r in recorder.records(0, size - 1)]
    memory = MemoryTree(leaves)
    for n in (16, 255, 256, 257, 512, 600):
        assert tree_root(n, StridedNodes(recorder)) == memory.root(n)
    entries_as_python_builds_them(recorder)


OLD_WRITER = """
import sys, uuid
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore
from adapters.persistence.postgres import LedgerPostgresApplicationRecorder
name, host, port, user, saves = sys.argv[1:]
store = PostgresDatastore(dbname=name, host=host, port=port, user=user, password="")
recorder = LedgerPostgresApplicationRecorder(store, events_table_name="bewijslast_events")
stream = uuid.uuid4()
for version in range(1, int(saves) + 1):
    recorder.insert_events([
        StoredEvent(stream, 2 * version - 1, "old:A", b"old %d" % version),
        StoredEvent(stream, 2 * version, "old:B", b"old second"),
    ])
print(stream)
"""


def released_code(directory: Path) -> Path:
    """The packages of the release before, as git keeps them."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", CLIENT_SIDE_RELEASE, "adapters", "domain", "ledger"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        # Extraction filters came with Python 3.11.4 (Debian 12 has 3.11.2); the archive is
        # this repository's own, so without them it is extracted as it is.
        if hasattr(tarfile, "data_filter"):
            tar.extractall(directory, filter="data")
        else:
            tar.extractall(directory)
    return directory


def test_old_and_new_recorders_appending_at_once_make_one_verifiable_ledger(pg_database, tmp_path):
    recorder = postgres_recorder(pg_database)  # migrated: the function is there
    old = released_code(tmp_path / "released")
    saves = 60
    command = [sys.executable, "-c", OLD_WRITER, pg_database.name, pg_database.host]
    command += [str(pg_database.port), pg_database.user, str(saves)]
    writers = [
        subprocess.Popen(
            command, cwd=old, env={"PYTHONPATH": str(old)}, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    new_streams: dict[uuid.UUID, int] = {}

    def append_new() -> None:
        """From before the old writers start to after they end."""
        stream, version = uuid.uuid4(), 0
        while version < saves or any(w.poll() is None for w in writers):
            version += 1
            recorder.insert_events([StoredEvent(stream, version, "new:E", b"new %d" % version)])
        new_streams[stream] = version

    threads = [threading.Thread(target=append_new) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    old_streams = []
    for writer in writers:
        out, _ = writer.communicate(timeout=300)
        assert writer.returncode == 0
        old_streams.append(out.strip())
    size = recorder.ledger_size()
    assert size == 2 * saves * 2 + sum(new_streams.values())
    records = list(recorder.records(0, size - 1))
    by_stream: dict[str, list[int]] = {}
    for record in records:
        by_stream.setdefault(record.entry.stream, []).append(record.entry.index)
    assert set(by_stream) == set(old_streams) | {str(s) for s in new_streams}
    # Interleaved, not one after the other: some old entry lies between two new ones.
    new_indices = by_stream[str(next(iter(new_streams)))]
    old_indices = {i for s in old_streams for i in by_stream[s]}
    assert any(new_indices[0] < i < new_indices[-1] for i in old_indices)
    entries_as_python_builds_them(recorder)
    assert (
        tree_root(size, StridedNodes(recorder)) == MemoryTree([r.leaf_hash for r in records]).root()
    )
