"""Export bundles: written, read back, verified, and every tampering with the files caught."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.bundle import export_bundle
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.entry import ChainHead, NewEvent, extend_chain
from ledger.merkle import MemoryTree
from ledger.note import NoteSigner, NoteVerifier
from ledger.store import Record
from ledger.verify import verify_bundle

ORIGIN = "ledger.leusden.nl/bewijslast"
SIZE = 40


class MemoryLedger:
    """A ledger store in memory, appended to the way the recorders do it."""

    def __init__(self, signer: NoteSigner) -> None:
        self.signer = signer
        self.records_: list[Record] = []
        self.states: list[bytes] = []
        self.tree = MemoryTree()
        self.notes: list[str] = []
        self.streams: dict[str, bytes] = {}
        self.seqs: dict[str, int] = {}

    def append(self, stream: str, state: bytes, now: datetime) -> None:
        head = ChainHead(
            len(self.records_),
            self.records_[-1].chain_hash if self.records_ else bytes(32),
            self.records_[-1].entry.recorded_at if self.records_ else None,
        )
        seq = self.seqs.get(stream, 0) + 1
        (link,) = extend_chain(head, [NewEvent(stream, seq, "domain:E", state)], now, self.streams)
        self.seqs[stream] = seq
        self.streams[stream] = link.leaf_hash
        self.records_.append(Record(link.entry, link.leaf_hash, link.chain_hash, state))
        self.tree.append(link.leaf_hash)

    def checkpoint(self) -> None:
        cp = Checkpoint(ORIGIN, self.tree.size, self.tree.root())
        self.notes.append(sign_checkpoint(cp, self.signer))

    def ledger_size(self) -> int:
        return len(self.records_)

    def records(self, first: int, last: int):
        yield from self.records_[first : last + 1]

    def signed_checkpoints(self) -> list[str]:
        return list(self.notes)

    def read_nodes(self, keys):
        return self.tree.read_nodes(keys)


@pytest.fixture
def signer():
    return NoteSigner.generate(ORIGIN)


@pytest.fixture
def source(signer):
    return sample_ledger(signer)


def sample_ledger(signer: NoteSigner) -> MemoryLedger:
    """SIZE entries over five streams, signed at 10, 25 and SIZE."""
    ledger = MemoryLedger(signer)
    streams = [str(uuid.uuid4()) for _ in range(5)]
    start = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    for i in range(SIZE):
        ledger.append(streams[i % 5], f"state {i}".encode(), start + timedelta(seconds=i))
        if i in (9, 24, SIZE - 1):
            ledger.checkpoint()
    return ledger


def export(source, signer, out: Path, **kwargs) -> Path:
    export_bundle(source, out, origin=ORIGIN, verifier_keys=[signer.vkey()], **kwargs)
    return out


def verify(path: Path, signer):
    return verify_bundle(path, [NoteVerifier.from_vkey(signer.vkey())])


@pytest.mark.parametrize(
    ("name", "kwargs", "receipts"),
    [
        ("full", {}, 0),
        ("full.zip", {}, 0),
        ("nostate", {"with_state": False}, 0),
        ("partial", {"first": 12, "last": 30}, 19),
        ("head", {"first": 0, "last": 15}, 16),
    ],
)
def test_exports_verify(source, signer, tmp_path, name, kwargs, receipts):
    report = verify(export(source, signer, tmp_path / name, **kwargs), signer)
    assert report.ok, [str(f) for f in report.failures]
    assert report.receipts == receipts
    assert report.newest is not None
    assert report.newest.size == SIZE


def edit_lines(bundle: Path, change) -> None:
    path = bundle / "entries.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    change(lines)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def first_failure(bundle: Path, signer):
    report = verify(bundle, signer)
    assert not report.ok
    return report.failures[0]


def test_a_state_changed_in_the_bundle_is_caught(source, signer, tmp_path):
    bundle = export(source, signer, tmp_path / "b")
    edit_lines(bundle, lambda lines: lines[6].update(state="eA=="))
    failure = first_failure(bundle, signer)
    assert (failure.check, failure.index) == ("state-hash", 6)


def test_a_deleted_line_is_caught(source, signer, tmp_path):
    bundle = export(source, signer, tmp_path / "b")
    edit_lines(bundle, lambda lines: lines.pop(17))
    failure = first_failure(bundle, signer)
    assert (failure.check, failure.index) == ("dense-index", 17)


def test_swapped_lines_are_caught(source, signer, tmp_path):
    bundle = export(source, signer, tmp_path / "b")

    def swap(lines):
        lines[20], lines[21] = lines[21], lines[20]

    edit_lines(bundle, swap)
    failure = first_failure(bundle, signer)
    assert (failure.check, failure.index) == ("dense-index", 20)


def test_a_broken_stream_link_is_caught(source, signer, tmp_path):
    bundle = export(source, signer, tmp_path / "b")

    def relink(lines):
        entry = lines[12]["entry"]
        entry["stream_prev"] = "00" * 32

    edit_lines(bundle, relink)
    failures = verify(bundle, signer).failures
    assert ("stream-link", 12) in [(f.check, f.index) for f in failures]


def test_time_going_backwards_is_caught(source, signer, tmp_path):
    bundle = export(source, signer, tmp_path / "b")
    edit_lines(
        bundle, lambda lines: lines[30]["entry"].update(recorded_at="2020-01-01T00:00:00.000000Z")
    )
    failures = verify(bundle, signer).failures
    assert ("recorded-at", 30) in [(f.check, f.index) for f in failures]


def test_a_changed_chain_hash_is_caught(source, signer, tmp_path):
    bundle = export(source, signer, tmp_path / "b")
    edit_lines(bundle, lambda lines: lines[8].update(chain_hash="ab" * 32))
    failure = first_failure(bundle, signer)
    assert (failure.check, failure.index) == ("chain", 8)


def test_a_checkpoint_signed_by_another_key_is_caught(source, signer, tmp_path):
    bundle = export(source, signer, tmp_path / "b")
    forger = NoteSigner.generate(ORIGIN)
    (bundle / "checkpoints" / "10.txt").write_text(
        sign_checkpoint(Checkpoint(ORIGIN, 10, source.tree.root(10)), forger)
    )
    assert first_failure(bundle, signer).check == "signature"


def test_a_second_checkpoint_of_the_same_size_is_a_fork(source, signer, tmp_path):
    bundle = export(source, signer, tmp_path / "b")
    fork = sign_checkpoint(Checkpoint(ORIGIN, 25, bytes(32)), signer)
    report = verify_bundle(
        bundle, [NoteVerifier.from_vkey(signer.vkey())], extra_checkpoints=[fork]
    )
    checks = [f.check for f in report.failures]
    assert "consistency" in checks
    assert "checkpoint-root" in checks


def test_a_removed_receipt_of_a_partial_export_is_caught(source, signer, tmp_path):
    bundle = export(source, signer, tmp_path / "p", first=5, last=14)
    (bundle / "proofs" / "9.tlog-proof").unlink()
    failure = first_failure(bundle, signer)
    assert (failure.check, failure.index) == ("receipt", 9)


def test_a_missing_tail_is_caught(source, signer, tmp_path):
    bundle = export(source, signer, tmp_path / "b")
    edit_lines(bundle, lambda lines: lines.pop())
    failure = first_failure(bundle, signer)
    assert (failure.check, failure.index) == ("truncation", SIZE - 1)
