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

``plain`` and ``ledger`` are bench/append_bytes.py's runs.

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

from adapters.persistence.sqlite import INSERT_NODE, SELECT_CHAIN_HEAD, insert_events_sql
from bench.append import STATE_SIZE, TOPIC, make_recorder
from bench.append_bytes import PER_TX, plan, run
from bench.common import median
from ledger.merkle import CompactRange

ENTRY_SIZE = 358  # an entry's bytes (prefix and JCS) with this topic and a stream_prev
RECORDED_AT = "2026-12-03T12:00:00.000000Z"

Work = list[tuple[list[object], list[tuple], list[bytes]]]


def precomputed(transactions: int) -> Work:
    """Per transaction: the event rows' values (in one list, as the recorder's one INSERT
    takes them), the node rows and the inputs of its hashes."""
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
        # Every subtree a leaf completes is hashed (level 1 up); only some are stored.
        hashed = sum((i ^ (i + 1)).bit_length() - 1 for i in range(index - PER_TX, index))
        inputs += [b"\x01" + os.urandom(64) for _ in range(hashed)]
        nodes = [(k[0], k[1], bytearray(h)) for k, h in tree.extend(leaves)]
        work.append(([value for row in rows for value in row], nodes, inputs))
    return work


def raw(directory: str, transactions: int, hashing: bool) -> float:
    """µs per transaction through raw sqlite3, with or without the format's hashes."""
    work = precomputed(transactions)
    with tempfile.TemporaryDirectory(dir=directory) as folder:
        database = os.path.join(folder, "bench.db")
        make_recorder("sqlite", True, database).create_table()  # the ledger's tables, triggers
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
            connection.execute(insert_events_sql(PER_TX), rows)
            connection.execute("COMMIT")
        seconds = time.perf_counter() - started
        connection.close()
    return seconds / transactions * 1e6


def main() -> None:
    rounds, directory, transactions = plan(__doc__.split("\n")[0], 8)
    kinds: dict[str, Callable[[], float]] = {
        "plain": lambda: run(False, directory, transactions)[0],
        "rows": lambda: raw(directory, transactions, False),
        "rows+sha": lambda: raw(directory, transactions, True),
        "ledger": lambda: run(True, directory, transactions)[0],
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    print("round  " + "  ".join(f"{kind + ' µs/tx':>16}" for kind in kinds))
    for r in range(rounds):
        for kind in list(kinds) if r % 2 == 0 else list(reversed(kinds)):
            times[kind].append(kinds[kind]())
        print(f"{r + 1:5d}  " + "  ".join(f"{times[k][-1]:16.0f}" for k in kinds), flush=True)
    print("median µs/tx; ratio: events/s against plain, the median of the rounds' ratios")
    for kind in kinds:
        ratios = [p / t for p, t in zip(times["plain"], times[kind], strict=True)]
        print(f"  {kind:9s} {median(times[kind]):7.0f} µs/tx  ratio {median(ratios):.2f}")


if __name__ == "__main__":
    main()
