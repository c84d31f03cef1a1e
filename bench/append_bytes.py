"""SQLite append, one writer, ten events per transaction: the ledger's extra time split into
CPU and I/O. Plain and ledger recorders (bench/append.py's) alternate in one process on fresh
files in ``$BEWIJSLAST_BENCH_TMP``; per transaction it prints the time, the bytes the process
wrote (``/proc/self/io``) and the database's growth. On tmpfs (``BEWIJSLAST_BENCH_TMP=/dev/shm``)
fsync costs nothing, so the difference there is the ledger's CPU; on the disk the rest is its
I/O. Every ledger run is verified afterwards."""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from eventsourcing.persistence import StoredEvent

from bench.append import batches, make_recorder, verify_store
from bench.common import machine, median, parser

PER_TX = 10


def written_bytes() -> int:
    """What this process has made the kernel write to storage so far."""
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    raise RuntimeError("/proc/self/io has no write_bytes")


def run(ledger: bool, directory: str, transactions: int) -> tuple[float, float, float]:
    """µs, bytes written and bytes of database per transaction."""
    with tempfile.TemporaryDirectory(dir=directory) as folder:
        database = os.path.join(folder, "bench.db")
        make_recorder("sqlite", ledger, database).create_table()
        recorder = make_recorder("sqlite", ledger, database)
        todo = batches(transactions, PER_TX, False)
        recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "bench:WarmUp", os.urandom(50))])
        written = written_bytes()
        started = time.perf_counter()
        for batch in todo:
            recorder.insert_events(batch)
        seconds = time.perf_counter() - started
        written = written_bytes() - written
        with sqlite3.connect(database) as connection:
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        if ledger:
            verify_store(make_recorder("sqlite", True, database), transactions * PER_TX + 1)
    return seconds / transactions * 1e6, written / transactions, pages * page_size / transactions


def plan(description: str, rounds: int) -> tuple[int, str, int]:
    """The rounds, the folder and the transactions of each run, from the command line of a
    script that appends to SQLite files alternated (this one, bench/append_floor.py); printed
    with the machine."""
    p = parser(description)
    p.add_argument("--rounds", type=int, default=rounds, help="alternated rounds")
    args = p.parse_args()
    directory = os.environ.get("BEWIJSLAST_BENCH_TMP") or tempfile.gettempdir()
    transactions = 200 if args.quick else 2400
    print(machine())
    print(f"{directory}: {args.rounds} rounds of {transactions} transactions of {PER_TX}")
    return args.rounds, directory, transactions


def main() -> None:
    rounds, directory, transactions = plan(__doc__.split("\n")[0], 12)
    print(
        f"{'round':>5} {'plain µs/tx':>11} {'ledger µs/tx':>12} {'ratio':>6}  "
        "written KB/tx, growth KB/tx"
    )
    plain, chained = [], []
    for r in range(rounds):
        order = [(False, plain), (True, chained)]
        for ledger, out in order if r % 2 == 0 else reversed(order):
            out.append(run(ledger, directory, transactions))
        (p_us, p_written, p_grown), (l_us, l_written, l_grown) = plain[-1], chained[-1]
        print(
            f"{r + 1:5d} {p_us:11.0f} {l_us:12.0f} {p_us / l_us:6.2f}  "
            f"plain {p_written / 1e3:.1f}, {p_grown / 1e3:.1f}; "
            f"ledger {l_written / 1e3:.1f}, {l_grown / 1e3:.1f}",
            flush=True,
        )
    ratios = [p[0] / c[0] for p, c in zip(plain, chained, strict=True)]
    print(
        f"median: plain {median([p[0] for p in plain]):.0f} µs/tx, "
        f"ledger {median([c[0] for c in chained]):.0f} µs/tx, "
        f"ratio (events/s, ledger against plain) {median(ratios):.2f}; written KB/tx "
        f"plain {median([p[1] for p in plain]) / 1e3:.1f}, "
        f"ledger {median([c[1] for c in chained]) / 1e3:.1f}"
    )


if __name__ == "__main__":
    main()
