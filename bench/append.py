"""Append throughput: the plain eventsourcing recorder against the ledger recorder.

PostgreSQL and SQLite; 1 and 4 writers (OS processes, each with its own datastore and
recorder on the same database); 1 and 10 events per transaction; states of 500 bytes. By
default each writer appends successive versions of one aggregate (``--new-aggregates``: each
transaction a new aggregate). Every run starts on a fresh database; plain and ledger runs are
interleaved (ABBA order) and the median of the rounds is reported, with the ledger/plain ratio
from the same run. Every ledger run is verified afterwards (``verify_ledger``, report.ok).
``--profile`` then profiles one in-process writer of each kind with cProfile.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from adapters.persistence.postgres import LedgerPostgresApplicationRecorder
from adapters.persistence.sqlite import LedgerSQLiteApplicationRecorder
from bench.common import machine, median, parser, pg_database, profile
from ledger.verify import verify_ledger

STATE_SIZE = 500
TOPIC = "domain.incidents:Incident.Reported"
TIMEOUT = 600


def make_recorder(database: str, ledger: bool, target):
    if database == "postgres":
        store = PostgresDatastore(**target, pool_size=1, max_overflow=1, lock_timeout=60)
        cls = LedgerPostgresApplicationRecorder if ledger else PostgresApplicationRecorder
        return cls(store, events_table_name="bench_events")
    store = SQLiteDatastore(target, lock_timeout=60)
    cls = LedgerSQLiteApplicationRecorder if ledger else SQLiteApplicationRecorder
    return cls(store)


def batches(transactions: int, per_tx: int, new_aggregates: bool) -> list[list[StoredEvent]]:
    """The writer's transactions, built before the clock starts."""
    stream = uuid.uuid4()
    out = []
    for t in range(transactions):
        if new_aggregates:
            stream = uuid.uuid4()
            versions = range(1, per_tx + 1)
        else:
            versions = range(t * per_tx + 1, (t + 1) * per_tx + 1)
        out.append([StoredEvent(stream, v, TOPIC, os.urandom(STATE_SIZE)) for v in versions])
    return out


def writer(database, ledger, target, work, barrier, results) -> None:
    transactions, per_tx, new_aggregates = work
    recorder = make_recorder(database, ledger, target)
    todo = batches(transactions, per_tx, new_aggregates)
    # One warm-up append: connections opened, statements prepared, before the clock starts.
    recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "bench:WarmUp", os.urandom(50))])
    barrier.wait(timeout=TIMEOUT)
    started = time.perf_counter()
    for batch in todo:
        recorder.insert_events(batch)
    results.put((started, time.perf_counter()))


def run(database, ledger, target, writers, per_tx, transactions, new_aggregates) -> float:
    """Events per second, from the first writer's start to the last writer's end."""
    make_recorder(database, ledger, target).create_table()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(writers), context.Queue()
    work = (transactions, per_tx, new_aggregates)
    processes = [
        context.Process(target=writer, args=(database, ledger, target, work, barrier, results))
        for _ in range(writers)
    ]
    for p in processes:
        p.start()
    try:
        spans = [results.get(timeout=TIMEOUT) for _ in processes]
    finally:
        for p in processes:
            p.join(timeout=TIMEOUT)
    assert all(p.exitcode == 0 for p in processes), [p.exitcode for p in processes]
    seconds = max(end for _, end in spans) - min(start for start, _ in spans)
    events = writers * per_tx * transactions
    if ledger:
        verify_store(make_recorder(database, True, target), events + writers)
    return events / seconds


def verify_store(recorder, expected_size: int) -> None:
    size = recorder.ledger_size()
    assert size == expected_size, (size, expected_size)
    report = verify_ledger(recorder.records(0, size - 1), [], [], origin="bench", reaches_end=True)
    assert report.ok, report.failures[:3]
    assert report.entries == size, (report.entries, size)


def fresh_target(database, admin_url, stack):
    if database == "postgres":
        return stack.enter_context(pg_database(admin_url))
    directory = stack.enter_context(tempfile.TemporaryDirectory())
    return os.path.join(directory, "bench.db")


def events_per_run(database: str, per_tx: int, quick: bool) -> int:
    """Sized so that one run takes 1-3 s on this machine (SQLite is ~3x faster)."""
    if quick:
        return 100 if per_tx == 1 else 400
    base = 1200 if per_tx == 1 else 8000
    return base * (3 if database == "sqlite" else 1)


def profile_writer(database: str, admin_url: str, per_tx: int, transactions: int) -> None:
    """cProfile one in-process writer, plain then ledger, on fresh databases."""
    for ledger in (False, True):
        with ExitStack() as stack:
            target = fresh_target(database, admin_url, stack)
            recorder = make_recorder(database, ledger, target)
            recorder.create_table()
            todo = batches(transactions, per_tx, False)
            recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "bench:WarmUp", b"x")])
            started = time.perf_counter()

            def append_all(rec=recorder, work=todo) -> None:
                for batch in work:
                    rec.insert_events(batch)

            text = profile(append_all, top=14)
            seconds = time.perf_counter() - started
            kind = "ledger" if ledger else "plain"
            print(
                f"\n--- profile: {database}, {kind}, 1 writer, {per_tx} ev/tx, "
                f"{transactions} transactions, {seconds:.2f} s under cProfile "
                f"({seconds / transactions * 1e3:.3f} ms/tx) ---"
            )
            print(text, flush=True)


def main() -> None:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5)")
    p.add_argument(
        "--new-aggregates",
        action="store_true",
        help="each transaction a new aggregate (default: successive versions of one per writer)",
    )
    p.add_argument("--profile", action="store_true", help="also cProfile one writer of each kind")
    p.add_argument(
        "--databases", default="postgres,sqlite", help="comma-separated: postgres,sqlite"
    )
    args = p.parse_args()
    rounds = args.rounds or (1 if args.quick else 5)
    print(machine(args.pg_url))
    streams = "a new aggregate per transaction" if args.new_aggregates else "one per writer"
    print(f"{rounds} interleaved round(s) per cell; states {STATE_SIZE} B; aggregates: {streams}")
    print(
        f"{'database':10} {'writers':>7} {'ev/tx':>5} {'events':>7} {'plain ev/s':>11} "
        f"{'ledger ev/s':>11} {'ratio':>6}  {'ratio per round'}"
    )
    started = time.perf_counter()
    for database in args.databases.split(","):
        for writers in (1, 4):
            for per_tx in (1, 10):
                events = events_per_run(database, per_tx, args.quick)
                transactions = events // per_tx // writers
                plain, chained = [], []
                for r in range(rounds):
                    order = ((False, plain), (True, chained))
                    for ledger, out in order if r % 2 == 0 else reversed(order):
                        with ExitStack() as stack:
                            target = fresh_target(database, args.pg_url, stack)
                            out.append(
                                run(
                                    database,
                                    ledger,
                                    target,
                                    writers,
                                    per_tx,
                                    transactions,
                                    args.new_aggregates,
                                )
                            )
                pm, cm = median(plain), median(chained)
                per_round = " ".join(f"{c / q:.2f}" for q, c in zip(plain, chained, strict=True))
                print(
                    f"{database:10} {writers:7d} {per_tx:5d} {transactions * per_tx * writers:7d} "
                    f"{pm:11,.0f} {cm:11,.0f} {cm / pm:6.2f}  {per_round}",
                    flush=True,
                )
    print(f"all cells in {time.perf_counter() - started:.0f} s; every ledger run verified OK")
    if args.profile:
        n = 300 if args.quick else 1500
        for database in args.databases.split(","):
            profile_writer(database, args.pg_url, 1, n)
            profile_writer(database, args.pg_url, 10, n // 2)


if __name__ == "__main__":
    main()
