"""Full verification of a 1,000,000-entry bundle, against merely SHA-256-hashing its bytes.

Builds the ledger once in memory with the ledger's own chain code (``extend_chain`` in batches
of 1,000; 50,000 streams of 20 events; JSON states of 300-600 bytes; signed checkpoints at
every quarter, the last at the end), writes it with ``export_bundle`` twice (with states, and
with states null as ``--without-state`` does), then times ``verify_bundle`` on both. Baseline,
in the same run and interleaved with the verifications: read ``entries.jsonl`` and SHA-256 it,
plus SHA-256 each state once. ``--profile`` then runs the verifier once more under cProfile
(in one process, so that the per-line work shows).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import host_speed, machine, median, parser, profile
from ledger.bundle import export_bundle
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.entry import ChainHead, NewEvent, extend_chain
from ledger.merkle import MemoryTree
from ledger.note import NoteSigner, NoteVerifier
from ledger.store import Record
from ledger.verify import verify_bundle

ORIGIN = "bench.example/ledger"
TARGET_SECONDS = 10.0  # per 1M entries, issue 15
TOPICS = [
    "domain.incidents:Incident.Reported",
    "domain.incidents:Incident.Triaged",
    "domain.incidents:Incident.Classified",
    "domain.requests:Request.Received",
    "domain.requests:Request.IdentityVerified",
    "domain.requests:Request.Decided",
    "domain.processing:Activity.Registered",
]
WORDS = [
    "gemeente",
    "verzoek",
    "inzage",
    "betrokkene",
    "besluit",
    "termijn",
    "incident",
    "datalek",
    "melding",
    "autoriteit",
    "persoonsgegevens",
    "verwerking",
    "grondslag",
    "bewaartermijn",
    "functionaris",
    "gegevensbescherming",
    "rectificatie",
    "wissing",
    "beperking",
    "bezwaar",
    "overdraagbaarheid",
]


def state_bodies(count: int, rng: random.Random) -> list[bytes]:
    """JSON-ish event bodies; with the per-event head below a state is 300-600 bytes."""
    bodies = []
    for _ in range(count):
        length = rng.randrange(170, 470)
        text = ""
        while len(text) < length:
            text += rng.choice(WORDS) + " "
        fields = {
            "description": text[:length],
            "impact": rng.choice(["low", "medium", "high"]),
            "decided_by": f"{rng.choice(WORDS)}@nijkerk.nl",
        }
        bodies.append(json.dumps(fields, separators=(",", ":"))[1:].encode())
    return bodies


class Generated:
    """An in-memory ledger of ``size`` entries (what an export reads of a ``LedgerStore``)."""

    def __init__(self, size: int, signer: NoteSigner) -> None:
        rng = random.Random(7)
        bodies = state_bodies(4096, rng)
        self.items: list[Record] = []
        self.tree = MemoryTree()
        self.notes: list[str] = []
        streams = [
            str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(size // 20 or 1)
        ]
        seqs: dict[str, int] = {}
        heads: dict[str, bytes] = {}
        head = ChainHead.empty()
        moment = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        batch = 1000
        quarter = max(batch, size // 4 // batch * batch)
        for start in range(0, size, batch):
            events = []
            now = moment + timedelta(milliseconds=37 * start)
            for i in range(start, min(size, start + batch)):
                stream = streams[rng.randrange(len(streams))]
                seq = seqs[stream] = seqs.get(stream, 0) + 1
                state = (
                    b'{"originator_id":"%s","originator_version":%d,"timestamp":"%s",'
                    % (stream.encode(), seq, now.isoformat().encode())
                    + bodies[i % len(bodies)]
                )
                events.append(NewEvent(stream, seq, TOPICS[i % len(TOPICS)], state))
            links = extend_chain(head, events, now, heads)
            for link, new in zip(links, events, strict=True):
                self.items.append(Record(link.entry, link.leaf_hash, link.chain_hash, new.state))
                self.tree.append(link.leaf_hash)
                heads[new.stream] = link.leaf_hash
            head = ChainHead(len(self.items), links[-1].chain_hash, links[-1].entry.recorded_at)
            if len(self.items) % quarter == 0 or len(self.items) == size:
                cp = Checkpoint(ORIGIN, len(self.items), self.tree.root())
                self.notes.append(sign_checkpoint(cp, signer))

    def ledger_size(self) -> int:
        return len(self.items)

    def records(self, first: int, last: int):
        yield from self.items[first : last + 1]

    def signed_checkpoints(self) -> list[str]:
        return list(self.notes)

    def read_nodes(self, keys):
        return self.tree.read_nodes(keys)


def sha256_baseline(bundle: Path, states: list[bytes]) -> tuple[float, float, float]:
    """Read and hash every byte of entries.jsonl once, then hash every state once.

    Returns wall seconds for the file alone, wall seconds in all, CPU seconds in all."""
    started, cpu = time.perf_counter(), time.process_time()
    with (bundle / "entries.jsonl").open("rb") as f:
        digest = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    file_seconds = time.perf_counter() - started
    sha256 = hashlib.sha256
    for state in states:
        sha256(state).digest()
    return file_seconds, time.perf_counter() - started, time.process_time() - cpu


def cpu_seconds() -> float:
    """CPU time of this process and of its ended children (the verifier's workers)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def verify_once(path: Path, verifiers: list[NoteVerifier], size: int) -> tuple[float, float]:
    """Wall and CPU seconds (workers included) of one full verification, which must pass."""
    started, cpu = time.perf_counter(), cpu_seconds()
    report = verify_bundle(path, verifiers)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    assert report.ok, report.failures[:3]
    assert report.entries == size, report.summary()
    assert report.checkpoints >= 2, report.summary()
    return seconds, cpu


def main() -> None:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=None, help="entries (default 1,000,000)")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3)")
    p.add_argument("--profile", action="store_true", help="cProfile one more verification")
    args = p.parse_args()
    size = args.size or (20_000 if args.quick else 1_000_000)
    rounds = args.rounds or (1 if args.quick else 3)
    print(machine())
    signer = NoteSigner.generate(ORIGIN)
    verifiers = [NoteVerifier.from_vkey(signer.vkey())]
    started = time.perf_counter()
    source = Generated(size, signer)
    build = time.perf_counter() - started
    states = [r.state for r in source.items]
    with tempfile.TemporaryDirectory(dir=os.environ.get("BEWIJSLAST_BENCH_TMP")) as tmp:
        full, bare = Path(tmp) / "full", Path(tmp) / "bare"
        keys = [signer.vkey()]
        started = time.perf_counter()
        export_bundle(source, full, origin=ORIGIN, verifier_keys=keys)
        export_full = time.perf_counter() - started
        started = time.perf_counter()
        export_bundle(source, bare, origin=ORIGIN, verifier_keys=keys, with_state=False)
        export_bare = time.perf_counter() - started
        del source
        gc.collect()
        mib_full = (full / "entries.jsonl").stat().st_size / 2**20
        mib_bare = (bare / "entries.jsonl").stat().st_size / 2**20
        state_mib = sum(map(len, states)) / 2**20
        print(
            f"{size:,} entries, {len(list((full / 'checkpoints').iterdir()))} signed checkpoints; "
            f"generated in {build:.1f} s; export_bundle {export_full:.1f} s with states "
            f"(entries.jsonl {mib_full:,.0f} MiB; states {state_mib:,.0f} MiB, "
            f"mean {state_mib * 2**20 / size:.0f} B), {export_bare:.1f} s without "
            f"({mib_bare:,.0f} MiB)",
            flush=True,
        )
        base, base_cpu, base_file = [], [], []
        with_state: list[tuple[float, float]] = []
        without_state: list[tuple[float, float]] = []
        for r in range(rounds):
            file_s, total_s, total_cpu = sha256_baseline(full, states)
            base.append(total_s)
            base_cpu.append(total_cpu)
            base_file.append(file_s)
            runs = [(full, with_state), (bare, without_state)]
            for path, out in runs if r % 2 == 0 else reversed(runs):
                out.append(verify_once(path, verifiers, size))
            print(
                f"  round {r + 1}: baseline {total_s:.2f} s, with states {with_state[-1][0]:.2f} s "
                f"(CPU {with_state[-1][1]:.2f} s), without states {without_state[-1][0]:.2f} s "
                f"(CPU {without_state[-1][1]:.2f} s); load average {os.getloadavg()[0]:.2f}, "
                f"{host_speed()}",
                flush=True,
            )
        b, b_cpu = median(base), median(base_cpu)
        print(f"\nmedians of {rounds} interleaved round(s); wall time (CPU time of this process):")
        print(
            f"baseline: SHA-256 of entries.jsonl + of each state  {b:7.2f} s "
            f"(CPU {b_cpu:.2f} s; the file alone {median(base_file):.2f} s)"
        )
        for name, runs in (("with states", with_state), ("without states", without_state)):
            s, s_cpu = median([w for w, _ in runs]), median([c for _, c in runs])
            target = "met" if s <= TARGET_SECONDS * size / 1_000_000 else "MISSED"
            print(
                f"verify_bundle, {name:15}                {s:7.2f} s  (CPU {s_cpu:.2f} s)  "
                f"ratio {s / b:5.1f}x (CPU {s_cpu / b_cpu:.1f}x)  {s / size * 1e6:.1f} us/entry  "
                f"target <= {TARGET_SECONDS:g} s per 1M: {target}",
                flush=True,
            )
        if args.profile:
            # In one process: the workers' per-line work is what a profile has to show.
            print(
                "\n--- profile: verify_bundle with states, workers=0 "
                "(cProfile; own time, then cumulative) ---"
            )
            text = profile(
                lambda: verify_bundle(full, verifiers, workers=0),
                top=25,
                sorts=("tottime", "cumulative"),
            )
            print(text)


if __name__ == "__main__":
    main()
