"""What witnesses' cosignatures add to a decision's checkpoint, on SQLite and PostgreSQL.

A decision signs a checkpoint right after its event is committed (``on_decision``); with
witnesses configured the checkpointer then sends it to each of them and stores their
cosignatures. Sample by sample, interleaved on the same ledger: one event appended, then
``Checkpointer.checkpoint()`` timed, alone (the baseline), with one witness, and with two (asked
in parallel). Each witness is a ``bewijslast witness serve`` process of its own on this host,
with its own SQLite store (synced commits), reached over HTTP. Every cosignature is checked.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from adapters.persistence.postgres import LedgerPostgresApplicationRecorder
from adapters.persistence.sqlite import LedgerSQLiteApplicationRecorder
from adapters.services.checkpointer import Checkpointer
from adapters.services.cosigning import Cosigning, Witness
from adapters.signing_keys import write_key_files
from bench.common import machine, median, parser, percentile, pg_database, timed
from ledger.checkpoint import Checkpoint
from ledger.note import COSIGNATURE_V1, NoteSigner, NoteVerifier, split_note
from ledger.witness import WitnessPolicy

ORIGIN = "bench.example/ledger"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_witness(folder: Path, name: str, ledger_vkey: Path) -> tuple[subprocess.Popen, Witness]:
    signer = NoteSigner.generate(name, COSIGNATURE_V1)
    key_file, _ = write_key_files(signer, folder / name.split("/")[0], "witness")
    port = free_port()
    command = [str(Path(sys.executable).with_name("bewijslast")), "witness", "serve"]
    command += ["--key", str(key_file), "--store", str(key_file.with_suffix(".db"))]
    command += ["--log", str(ledger_vkey), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/checkpoints", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        raise RuntimeError(f"witness {name} did not start")
    return process, Witness(url, NoteVerifier.from_vkey(signer.vkey()))


def run(recorder, folder: Path, samples: int) -> dict[str, list[float]]:
    signer = NoteSigner.generate(ORIGIN)
    vkey = folder / "ledger.vkey"
    vkey.write_text(signer.vkey() + "\n")
    started = [
        start_witness(folder, "fg.bench.example/witness", vkey),
        start_witness(folder, "buur.bench.example/witness", vkey),
    ]
    witnesses = [w for _, w in started]
    state = folder / "state"
    cells = {
        "alone": Checkpointer(recorder, signer, state_file=state),
        "1 witness": Checkpointer(
            recorder, signer, state_file=state, on_signed=Cosigning(recorder, witnesses[:1]).collect
        ),
        "2 witnesses": Checkpointer(
            recorder, signer, state_file=state, on_signed=Cosigning(recorder, witnesses).collect
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in cells}
    stream, version = uuid.uuid4(), 0
    try:
        for i in range(samples + 10):
            for name, checkpointer in cells.items():
                version += 1
                recorder.insert_events([StoredEvent(stream, version, "bench:Decision", b"x" * 300)])
                seconds = timed(checkpointer.checkpoint)
                if i >= 10:  # warm-up: connections, prepared statements
                    times[name].append(seconds)
        newest = recorder.latest_signed_checkpoint()
        policy = WitnessPolicy([w.verifier for w in witnesses], 2)
        assert policy.check([newest], Checkpoint.parse(split_note(newest)[0]))
    finally:
        for process, _ in started:
            process.terminate()
            process.wait()
    return times


def report(database: str, times: dict[str, list[float]]) -> None:
    base50, base95 = median(times["alone"]), percentile(times["alone"], 95)
    print(f"\n{database}: checkpoint after one decision, {len(times['alone'])} samples per cell")
    print(f"  {'cell':<12} {'p50 ms':>8} {'p95 ms':>8} {'p50 ratio':>10} {'p95 ratio':>10} "
          f"{'added p50 ms':>13}")  # fmt: skip
    for name, values in times.items():
        p50, p95 = median(values), percentile(values, 95)
        print(
            f"  {name:<12} {p50 * 1e3:8.2f} {p95 * 1e3:8.2f} {p50 / base50:10.2f} "
            f"{p95 / base95:10.2f} {(p50 - base50) * 1e3:13.2f}"
        )


def main() -> None:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=300)
    args = p.parse_args()
    samples = 30 if args.quick else args.samples
    print(machine(args.pg_url))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sqlite"
        folder.mkdir()
        datastore = SQLiteDatastore(str(folder / "ledger.db"), lock_timeout=30)
        recorder = LedgerSQLiteApplicationRecorder(datastore)
        recorder.create_table()
        report("SQLite", run(recorder, folder, samples))
        with pg_database(args.pg_url) as kwargs:
            folder = Path(tmp) / "postgres"
            folder.mkdir()
            datastore = PostgresDatastore(**kwargs, pool_size=5)
            pg = LedgerPostgresApplicationRecorder(datastore, events_table_name="bench_events")
            pg.create_table()
            report("PostgreSQL", run(pg, folder, samples))
            datastore.close()


if __name__ == "__main__":
    main()
