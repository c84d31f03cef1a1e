"""Append throughput: the plain eventsourcing recorder against the ledger recorder.

PostgreSQL and SQLite; 1 and 4 writer processes; 1 and 10 events per transaction. Runs are
interleaved (plain, ledger, plain, ledger, ...) and the median of the rounds is reported, with
the ledger/plain ratio from the same run. Every ledger run is verified afterwards.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from adapters.persistence.postgres import LedgerPostgresApplicationRecorder
from adapters.persistence.sqlite import LedgerSQLiteApplicationRecorder
from bench.common import arguments, median, pg_database
from ledger.verify import verify_ledger

STATE = os.urandom(500)


def make_recorder(database: str, ledger: bool, target):
    if database == "postgres":
        store = PostgresDatastore(**target, pool_size=2, max_overflow=2)
        cls = LedgerPostgresApplicationRecorder if ledger else PostgresApplicationRecorder
        return cls(store, events_table_name="bench_events")
    store = SQLiteDatastore(target, lock_timeout=60)
    cls = LedgerSQLiteApplicationRecorder if ledger else SQLiteApplicationRecorder
    return cls(store)


def writer(database, ledger, target, transactions, per_tx, barrier, results) -> None:
    recorder = make_recorder(database, ledger, target)
    stream = uuid.uuid4()
    batches = [
        [StoredEvent(stream, t * per_tx + i + 1, "bench:Event", STATE) for i in range(per_tx)]
        for t in range(transactions)
    ]
    barrier.wait()
    started = time.perf_counter()
    for batch in batches:
        recorder.insert_events(batch)
    results.put((started, time.perf_counter()))


def run(database, ledger, target, writers, per_tx, transactions) -> float:
    """Events per second, from the first writer's start to the last writer's end."""
    make_recorder(database, ledger, target).create_table()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(writers), context.Queue()
    processes = [
        context.Process(
            target=writer, args=(database, ledger, target, transactions, per_tx, barrier, results)
        )
        for _ in range(writers)
    ]
    for p in processes:
        p.start()
    spans = [results.get() for _ in processes]
    for p in processes:
        p.join()
        assert p.exitcode == 0
    seconds = max(end for _, end in spans) - min(start for start, _ in spans)
    if ledger:
        recorder = make_recorder(database, True, target)
        size = recorder.ledger_size()
        report = verify_ledger(
            recorder.records(0, size - 1), [], [], origin="bench", reaches_end=True
        )
        assert report.ok, report.failures[:3]
        assert size == writers * per_tx * transactions
    return writers * per_tx * transactions / seconds


def fresh_target(database, admin_url, stack):
    if database == "postgres":
        return stack.enter_context(pg_database(admin_url))
    directory = stack.enter_context(tempfile.TemporaryDirectory())
    return os.path.join(directory, "bench.db")


def main() -> None:
    from contextlib import ExitStack

    args = arguments(__doc__.split("\n")[0])
    rounds = 1 if args.quick else 5
    print(
        f"{'database':10} {'writers':>7} {'ev/tx':>5} {'plain ev/s':>11} {'ledger ev/s':>11} "
        f"{'ratio':>6}"
    )
    for database in ("postgres", "sqlite"):
        for writers in (1, 4):
            for per_tx in (1, 10):
                transactions = (40 if args.quick else 400) // writers
                if per_tx == 10:
                    transactions //= 2
                plain, chained = [], []
                for _ in range(rounds):
                    for ledger, out in ((False, plain), (True, chained)):
                        with ExitStack() as stack:
                            target = fresh_target(database, args.pg_url, stack)
                            out.append(run(database, ledger, target, writers, per_tx, transactions))
                p, c = median(plain), median(chained)
                print(
                    f"{database:10} {writers:7d} {per_tx:5d} {p:11,.0f} {c:11,.0f} {c / p:6.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
