"""Full verification of a 1,000,000-entry bundle, against merely SHA-256-hashing its bytes.

Builds the bundle once (entries from the ledger's own chain code, states of 300-600 bytes,
signed checkpoints along the way), then times ``verify_bundle`` with states and without, and
the baseline of hashing the same files, in the same run.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import arguments, timed
from ledger.bundle import Record, export_bundle
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.entry import ChainHead, NewEvent, extend_chain
from ledger.merkle import MemoryTree
from ledger.note import NoteSigner, NoteVerifier
from ledger.verify import verify_bundle

ORIGIN = "bench.example/ledger"


class Generated:
    """An in-memory ledger source of ``size`` entries."""

    def __init__(self, size: int, signer: NoteSigner) -> None:
        self.items: list[Record] = []
        self.tree = MemoryTree()
        self.notes: list[str] = []
        streams = [str(uuid.uuid4()) for _ in range(max(1, size // 20))]
        seqs: dict[str, int] = {}
        heads: dict[str, bytes] = {}
        head = ChainHead.empty()
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        batch = 1000
        for start in range(0, size, batch):
            events = []
            for i in range(start, min(size, start + batch)):
                stream = streams[i % len(streams)]
                seqs[stream] = seqs.get(stream, 0) + 1
                state = os.urandom(150 + i % 150) * 2
                events.append(
                    NewEvent(stream, seqs[stream], "domain.incidents:Incident.Reported", state)
                )
            links = extend_chain(head, events, moment + timedelta(seconds=start), heads)
            for link, new in zip(links, events, strict=True):
                self.items.append(Record(link.entry, link.leaf_hash, link.chain_hash, new.state))
                self.tree.append(link.leaf_hash)
                heads[new.stream] = link.leaf_hash
            head = ChainHead(len(self.items), links[-1].chain_hash, links[-1].entry.recorded_at)
            if len(self.items) % (size // 4 or 1) == 0 or len(self.items) == size:
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


def sha256_baseline(bundle: Path) -> None:
    """Hash every byte of the entry file once, and every state once."""
    with (bundle / "entries.jsonl").open("rb") as f:
        digest = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    size = 20_000 if args.quick else 1_000_000
    signer = NoteSigner.generate(ORIGIN)
    verifiers = [NoteVerifier.from_vkey(signer.vkey())]
    built: list[Generated] = []
    build = timed(lambda: built.append(Generated(size, signer)))
    source = built.pop()
    with tempfile.TemporaryDirectory() as tmp:
        full, bare = Path(tmp) / "full", Path(tmp) / "bare"
        export_seconds = timed(
            lambda: export_bundle(source, full, origin=ORIGIN, verifier_keys=[signer.vkey()])
        )
        export_bundle(source, bare, origin=ORIGIN, verifier_keys=[signer.vkey()], with_state=False)
        mib = (full / "entries.jsonl").stat().st_size / 2**20
        print(
            f"{size:,} entries; generated in {build:.1f} s, exported in {export_seconds:.1f} s "
            f"({mib:,.0f} MiB of entries.jsonl with states)"
        )
        baseline = min(timed(lambda: sha256_baseline(full)) for _ in range(3))
        results = {}
        for name, path in (("with states", full), ("without states", bare)):
            reports: list = []
            seconds = timed(lambda p=path, out=reports: out.append(verify_bundle(p, verifiers)))
            assert reports[0].ok, reports[0].failures[:3]
            results[name] = seconds
        print(f"baseline: SHA-256 of entries.jsonl once   {baseline:7.2f} s")
        for name, seconds in results.items():
            print(
                f"verify_bundle, {name:15}       {seconds:7.2f} s  ratio {seconds / baseline:5.1f}x"
                f"  ({seconds / size * 1e6:.1f} us/entry)  target <= 30 s: "
                f"{'met' if seconds <= 30 else 'MISSED'}"
            )


if __name__ == "__main__":
    main()
