"""Proofs at 1,000,000 stored entries, on SQLite and PostgreSQL, and receipt verification.

The ledger is filled through the ledger recorder in large transactions. Then, in the same run:
the root, inclusion proofs and consistency proofs from the stored subtrees, each against the
baseline of one indexed SELECT of a leaf hash; and receipt verification against one Ed25519
signature check.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from adapters.persistence.postgres import LedgerPostgresApplicationRecorder
from adapters.persistence.sqlite import LedgerSQLiteApplicationRecorder
from bench.common import arguments, median, percentile, pg_database, timed
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.merkle import consistency_proof, inclusion_proof, tree_root
from ledger.note import NoteSigner, NoteVerifier
from ledger.receipt import Receipt, verify_receipt

SAMPLES = 200


def fill(recorder, size: int) -> float:
    state = os.urandom(300)
    batch = 5000

    def insert() -> None:
        for start in range(0, size, batch):
            count = min(batch, size - start)
            recorder.insert_events(
                [StoredEvent(uuid.uuid4(), 1, "bench:Event", state) for _ in range(count)]
            )

    return timed(insert)


def sample_ms(action, draws) -> tuple[float, float]:
    times = []
    for args in draws:
        started = time.perf_counter()
        action(*args)
        times.append((time.perf_counter() - started) * 1000)
    return median(times), percentile(times, 95)


def measure(name: str, recorder, baseline, size: int) -> None:
    rng = random.Random(1)
    indices = [(rng.randrange(size),) for _ in range(SAMPLES)]
    pairs = [tuple(sorted((rng.randrange(1, size), size))) for _ in range(SAMPLES)]
    base50, base95 = sample_ms(baseline, indices)
    rows = [
        ("one indexed SELECT (baseline)", (base50, base95)),
        ("tree root", sample_ms(lambda: tree_root(size, recorder), [()] * 50)),
        ("inclusion proof", sample_ms(lambda i: inclusion_proof(i, size, recorder), indices)),
        ("consistency proof", sample_ms(lambda m, n: consistency_proof(m, n, recorder), pairs)),
    ]
    for what, (p50, p95) in rows:
        print(
            f"{name:9} {what:30} p50 {p50:7.3f} ms  p95 {p95:7.3f} ms  ratio {p50 / base50:6.1f}x",
            flush=True,
        )


def receipts(recorder, size: int) -> None:
    signer = NoteSigner.generate("bench.example/ledger")
    verifier = NoteVerifier.from_vkey(signer.vkey())
    note = sign_checkpoint(Checkpoint(signer.name, size, tree_root(size, recorder)), signer)
    texts = []
    for index in random.Random(2).sample(range(size), 50):
        record = next(recorder.records(index, index))
        texts.append(
            Receipt(
                record.entry.to_bytes(), index, inclusion_proof(index, size, recorder), note
            ).format()
        )
    body = note.split("\n\n")[0] + "\n"
    blob = signer.private_key.sign(body.encode())
    public = signer.private_key.public_key()
    base50, _ = sample_ms(lambda: public.verify(blob, body.encode()), [()] * 200)
    p50, p95 = sample_ms(lambda t: verify_receipt(t, [verifier]), [(t,) for t in texts] * 4)
    print(f"receipt   {'one Ed25519 verify (baseline)':30} p50 {base50:7.3f} ms")
    print(
        f"receipt   {'verify_receipt':30} p50 {p50:7.3f} ms  p95 {p95:7.3f} ms  "
        f"ratio {p50 / base50:6.1f}x  target <= 1 ms: {'met' if p95 <= 1 else 'MISSED'}"
    )


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    size = 20_000 if args.quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        recorder = LedgerSQLiteApplicationRecorder(SQLiteDatastore(os.path.join(tmp, "p.db")))
        recorder.create_table()
        print(f"sqlite: {size:,} entries appended in {fill(recorder, size):.1f} s", flush=True)
        datastore = recorder.datastore

        def sqlite_select(i: int) -> None:
            with datastore.transaction(commit=False) as c:
                c.execute("SELECT leaf_hash FROM stored_events WHERE rowid = ?", (i + 1,))
                c.fetchone()

        measure("sqlite", recorder, sqlite_select, size)
        receipts(recorder, size)
    with pg_database(args.pg_url) as target:
        recorder = LedgerPostgresApplicationRecorder(
            PostgresDatastore(**target), events_table_name="bench_events"
        )
        recorder.create_table()
        print(f"postgres: {size:,} entries appended in {fill(recorder, size):.1f} s", flush=True)
        pg = recorder.datastore

        def pg_select(i: int) -> None:
            with pg.get_connection() as conn, conn.cursor() as curs:
                curs.execute(
                    "SELECT leaf_hash FROM bench_events WHERE notification_id = %s",
                    (i + 1,),
                    prepare=True,
                )
                curs.fetchone()

        measure("postgres", recorder, pg_select, size)


if __name__ == "__main__":
    main()
