"""SQLite append, one writer, ten events per transaction: how close to the plain recorder a
ledger can come in CPython. Alternated in one process, each on a fresh file in
``$BEWIJSLAST_BENCH_TMP``:

- ``plain``: the library's recorder (bench/append.py's);
- ``rows``: the ledger's statements through raw ``sqlite3`` (BEGIN IMMEDIATE, the chain
  head's SELECT, the INSERT of ten ledger rows, a ``ledger_nodes`` row where the tree completes
  a stored subtree, COMMIT) with every row computed beforehand: no Python per event at all;
- ``rows+sha``: the same, plus the SHA-256 calls the format asks for (LEDGER.md: the state's
  digest, the leaf and the chain per entry, and the tree's nodes), on inputs made beforehand;
- ``ledger``: the ledger recorder (verified afterwards).

``rows`` and ``rows+sha`` write rows of the ledger's widths with made-up hashes: they measure
what no implementation in Python can avoid, they are not a ledger."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from eventsourcing.persistence import StoredEvent

from adapters.persistence.sqlite import INSERT_EVENT, INSERT_NODE, SELECT_CHAIN_HEAD
from bench.append import STATE_SIZE, TOPIC, batches, make_recorder, verify_store
from bench.common import machine, median, parser
from ledger.merkle import CompactRange, is_stored_level

PER_TX = 10
ENTRY_SIZE = 358  # an entry's bytes (prefix and JCS) with this topic and a stream_prev
RECORDED_AT = "2026-12-03T12:00:00.000000Z"

Work = list[tuple[list[tuple], list[tuple], list[bytes]]]


def precomputed(transactions: int) -> Work:
    """Per transaction: the event rows, the node rows and the inputs of its hashes."""
    stream = uuid.uuid4()
    tree = CompactRange()
    work: Work = []
    index = 0
    for t in range(transactions):
        rows, inputs = [], []
        leaves = [os.urandom(32) for _ in range(PER_TX)]
        for i, leaf in enumerate(leaves):
            state = os.urandom(STATE_SIZE)
            version = t * PER_TX + i + 1
            prev = None if index == 0 else os.urandom(32)
            rows.append(
                (
                    index + 1,
                    stream.hex,
                    version,
                    TOPIC,
                    state,
                    index,
                    bytearray(leaf),
                    bytearray(os.urandom(32)),
                    None if prev is None else bytearray(prev),
                    bytearray(os.urandom(32)),
                    RECORDED_AT,
                )
            )
            inputs += [state, b"\x00" + os.urandom(ENTRY_SIZE), os.urandom(64)]
            index += 1
        completed = tree.extend(leaves)
        inputs += [b"\x01" + os.urandom(64) for _ in completed]  # every node is hashed
        nodes = [(k[0], k[1], bytearray(h)) for k, h in completed if is_stored_level(k[0])]
        work.append((rows, nodes, inputs))
    return work


def raw(database: str, work: Work, hashing: bool) -> float:
    """Seconds for the appends through raw sqlite3, with or without the format's hashes."""
    make_recorder("sqlite", True, database).create_table()  # the ledger's tables and triggers
    connection = sqlite3.connect(database, isolation_level=None, cached_statements=128)
    sha256 = hashlib.sha256
    started = time.perf_counter()
    for rows, nodes, inputs in work:
        if hashing:
            for data in inputs:
                sha256(data).digest()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(SELECT_CHAIN_HEAD).fetchone()
        if nodes:
            connection.executemany(INSERT_NODE, nodes)
        connection.executemany(INSERT_EVENT, rows)
        connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def recorder(database: str, ledger: bool, transactions: int) -> float:
    make_recorder("sqlite", ledger, database).create_table()
    store = make_recorder("sqlite", ledger, database)
    todo = batches(transactions, PER_TX, False)
    store.insert_events([StoredEvent(uuid.uuid4(), 1, "bench:WarmUp", os.urandom(50))])
    started = time.perf_counter()
    for batch in todo:
        store.insert_events(batch)
    seconds = time.perf_counter() - started
    if ledger:
        verify_store(make_recorder("sqlite", True, database), transactions * PER_TX + 1)
    return seconds


def main() -> None:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=8, help="alternated rounds")
    args = p.parse_args()
    directory = os.environ.get("BEWIJSLAST_BENCH_TMP") or tempfile.gettempdir()
    transactions = 200 if args.quick else 2400
    print(machine())
    print(f"{directory}: {args.rounds} rounds of {transactions} transactions of {PER_TX}")
    kinds: dict[str, Callable[[str], float]] = {
        "plain": lambda db: recorder(db, False, transactions),
        "rows": lambda db: raw(db, precomputed(transactions), False),
        "rows+sha": lambda db: raw(db, precomputed(transactions), True),
        "ledger": lambda db: recorder(db, True, transactions),
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    print("round  " + "  ".join(f"{kind + ' µs/tx':>16}" for kind in kinds))
    for r in range(args.rounds):
        order = list(kinds) if r % 2 == 0 else list(reversed(kinds))
        for kind in order:
            with tempfile.TemporaryDirectory(dir=directory) as folder:
                seconds = kinds[kind](os.path.join(folder, "bench.db"))
            times[kind].append(seconds / transactions * 1e6)
        print(f"{r + 1:5d}  " + "  ".join(f"{times[k][-1]:16.0f}" for k in kinds), flush=True)
    print("median µs/tx; ratio: events/s against plain, the median of the rounds' ratios")
    for kind in kinds:
        ratios = [p / t for p, t in zip(times["plain"], times[kind], strict=True)]
        print(f"  {kind:9s} {median(times[kind]):7.0f} µs/tx  ratio {median(ratios):.2f}")


if __name__ == "__main__":
    main()
