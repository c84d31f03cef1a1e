"""The verifier: every check of LEDGER.md section 6, over a bundle, a receipt or a live ledger.

It reads a stream of records once, checks each as it passes (leaf and state hashes, the
chain, stream links, dense indices, time), then checks every checkpoint against the tree
rebuilt from the leaves and against each other. Failures are collected, not thrown, so that
a report can name the first bad index and what else is wrong; each failure is one of the
error types of ``ledger.errors``.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ledger.bundle import Bundle, Record
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.entry import CHAIN_START, chain_hash, leaf_hash
from ledger.errors import (
    ChainMismatch,
    InconsistentCheckpoints,
    IndexNotDense,
    LeafHashMismatch,
    ReceiptMismatch,
    RootMismatch,
    StateHashMismatch,
    StreamLinkBroken,
    TimeWentBackwards,
    Truncated,
    VerificationFailure,
)
from ledger.merkle import MemoryTree, consistency_proof, verify_consistency
from ledger.note import NoteVerifier
from ledger.receipt import Receipt, verify_receipt

MAX_FAILURES = 100


@dataclass
class Report:
    origin: str
    first_index: int = 0
    entries: int = 0
    checkpoints: int = 0
    receipts: int = 0
    newest: Checkpoint | None = None
    failures: list[VerificationFailure] = field(default_factory=list)
    found: str = ""  # what the input was recognised as, when it was a file or folder
    last_index: int | None = None  # when the entries are not one run (evidence files)

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, failure: VerificationFailure) -> None:
        if len(self.failures) < MAX_FAILURES:
            self.failures.append(failure)

    def summary(self) -> str:
        last = self.first_index + self.entries - 1 if self.last_index is None else self.last_index
        text = f"{self.origin}: entries {self.first_index}..{last} ({self.entries})"
        text += f", {plural(self.checkpoints, 'checkpoint')}, {plural(self.receipts, 'receipt')}"
        if self.newest is not None:
            text += f", newest checkpoint size {self.newest.size}"
        return text


def plural(count: int, noun: str) -> str:
    """``1 checkpoint``, ``2 checkpoints``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@dataclass
class _StreamHead:
    leaf: bytes
    seq: int


class _EntryChecks:
    """Checks 1-4, one record at a time."""

    def __init__(self, report: Report, first_index: int, chain_before: bytes) -> None:
        self.report = report
        self.next_index = first_index
        self.whole_ledger = first_index == 0
        self.chain = chain_before
        self.recorded_at = ""
        self.streams: dict[str, _StreamHead] = {}
        self.leaves: list[bytes] = []

    def check(self, record: Record) -> None:
        entry, fail = record.entry, self.report.fail
        index = entry.index
        if index != self.next_index:
            fail(
                IndexNotDense(
                    "indices are not dense",
                    index=self.next_index,
                    expected=self.next_index,
                    found=index,
                )
            )
        self.next_index = index + 1
        leaf = leaf_hash(entry.to_bytes())
        if leaf != record.leaf_hash:
            fail(
                LeafHashMismatch(
                    "entry bytes do not hash to the stored leaf hash",
                    index=index,
                    expected=leaf.hex(),
                    found=record.leaf_hash.hex(),
                )
            )
        if record.state is not None:
            digest = hashlib.sha256(record.state).hexdigest()
            if digest != entry.state_sha256:
                fail(
                    StateHashMismatch(
                        "stored state does not hash to state_sha256",
                        index=index,
                        expected=entry.state_sha256,
                        found=digest,
                    )
                )
        chain = chain_hash(self.chain, leaf)
        if chain != record.chain_hash:
            fail(
                ChainMismatch(
                    "chain hash does not follow from the previous one",
                    index=index,
                    expected=chain.hex(),
                    found=record.chain_hash.hex(),
                )
            )
        # Go on from the stored value, so that one break is reported once.
        self.chain = record.chain_hash
        self._check_stream(index, entry.stream, entry.stream_seq, entry.stream_prev, leaf)
        if entry.recorded_at < self.recorded_at:
            fail(
                TimeWentBackwards(
                    "recorded_at decreased",
                    index=index,
                    expected=f">= {self.recorded_at}",
                    found=entry.recorded_at,
                )
            )
        self.recorded_at = max(self.recorded_at, entry.recorded_at)
        self.leaves.append(leaf)
        self.report.entries += 1

    def _check_stream(
        self, index: int, stream: str, seq: int, prev: str | None, leaf: bytes
    ) -> None:
        head = self.streams.get(stream)
        if head is None:
            if self.whole_ledger and prev is not None:
                self.report.fail(
                    StreamLinkBroken(
                        "a stream's first entry links to nothing",
                        index=index,
                        expected=None,
                        found=prev,
                    )
                )
        else:
            if prev != head.leaf.hex():
                self.report.fail(
                    StreamLinkBroken(
                        "stream_prev is not the stream's previous leaf hash",
                        index=index,
                        expected=head.leaf.hex(),
                        found=prev,
                    )
                )
            if seq != head.seq + 1:
                self.report.fail(
                    StreamLinkBroken(
                        "stream_seq does not continue the stream",
                        index=index,
                        expected=head.seq + 1,
                        found=seq,
                    )
                )
        self.streams[stream] = _StreamHead(leaf, seq)


def verify_ledger(
    records: Iterable[Record],
    checkpoint_notes: Sequence[str],
    verifiers: Sequence[NoteVerifier],
    *,
    origin: str,
    first_index: int = 0,
    last_index: int | None = None,
    chain_before: bytes = CHAIN_START,
    consistency: Mapping[tuple[int, int], list[bytes]] | None = None,
    receipts: Mapping[int, str] | None = None,
    reaches_end: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Verify records ``first_index..last_index`` and the checkpoints over them.

    ``reaches_end`` says the records are the whole ledger as it stands (a live database):
    a checkpoint larger than the ledger then means the ledger was truncated.
    """
    report = Report(origin=origin, first_index=first_index)
    checks = _EntryChecks(report, first_index, chain_before)
    for count, record in enumerate(records, start=1):
        checks.check(record)
        if progress:
            progress(count)
    if last_index is not None and checks.next_index <= last_index:
        report.fail(
            Truncated(
                "entries are missing at the end",
                index=checks.next_index,
                expected=last_index,
                found=checks.next_index - 1,
            )
        )
    checkpoints = _open_checkpoints(report, checkpoint_notes, verifiers, origin)
    tree = MemoryTree(checks.leaves) if first_index == 0 else None
    _check_checkpoints(report, checkpoints, tree, consistency or {}, reaches_end)
    if receipts is not None:
        _check_receipts(report, receipts, verifiers, first_index, checks.leaves)
    return report


def _open_checkpoints(
    report: Report, notes: Sequence[str], verifiers: Sequence[NoteVerifier], origin: str
) -> list[Checkpoint]:
    opened: dict[tuple[int, bytes], Checkpoint] = {}
    for note in notes:
        try:
            checkpoint = open_checkpoint(note, verifiers)
        except VerificationFailure as failure:
            report.fail(failure)
            continue
        if checkpoint.origin != origin:
            report.fail(
                RootMismatch(
                    "checkpoint of another ledger", expected=origin, found=checkpoint.origin
                )
            )
            continue
        opened[(checkpoint.size, checkpoint.root)] = checkpoint
    report.checkpoints = len(opened)
    return sorted(opened.values(), key=lambda c: c.size)


def _check_checkpoints(
    report: Report,
    checkpoints: list[Checkpoint],
    tree: MemoryTree | None,
    consistency: Mapping[tuple[int, int], list[bytes]],
    reaches_end: bool,
) -> None:
    """Check 5: roots against the rebuilt tree, and consistency between successive ones."""
    if checkpoints:
        report.newest = checkpoints[-1]
    size = tree.size if tree is not None else 0
    matched = 0
    for checkpoint in checkpoints:
        if tree is None or checkpoint.size > size:
            if reaches_end and tree is not None:
                report.fail(
                    Truncated(
                        "the ledger is shorter than a signed checkpoint",
                        index=size,
                        expected=f"{checkpoint.size} entries",
                        found=f"{size} entries",
                    )
                )
            continue
        root = tree.root(checkpoint.size)
        if root != checkpoint.root:
            report.fail(
                RootMismatch(
                    f"an entry in {matched}..{checkpoint.size - 1} differs from what was signed",
                    index=matched,
                    expected=checkpoint.root.hex(),
                    found=root.hex(),
                )
            )
        else:
            matched = checkpoint.size
    for old, new in itertools.pairwise(checkpoints):
        if old.size == new.size:
            report.fail(
                InconsistentCheckpoints(
                    f"two checkpoints of size {old.size} with different roots",
                    expected=old.root.hex(),
                    found=new.root.hex(),
                )
            )
            continue
        proof = consistency.get((old.size, new.size))
        if proof is None and tree is not None and new.size <= size:
            proof = consistency_proof(old.size, new.size, tree)
        if proof is None:
            report.fail(
                InconsistentCheckpoints(f"no consistency proof from size {old.size} to {new.size}")
            )
            continue
        try:
            verify_consistency(old.size, new.size, proof, old.root, new.root)
        except VerificationFailure as failure:
            report.fail(
                InconsistentCheckpoints(
                    f"checkpoints {old.size} and {new.size} are not consistent: {failure.message}"
                )
            )


def _check_receipts(
    report: Report,
    receipts: Mapping[int, str],
    verifiers: Sequence[NoteVerifier],
    first_index: int,
    leaves: list[bytes],
) -> None:
    """Check 6: every entry of a partial export is proven in the newest checkpoint."""
    for offset, leaf in enumerate(leaves):
        index = first_index + offset
        text = receipts.get(index)
        if text is None:
            report.fail(ReceiptMismatch("the entry has no receipt", index=index))
            continue
        try:
            entry, checkpoint = verify_receipt(text, verifiers)
        except VerificationFailure as failure:
            failure.index = index
            report.fail(failure)
            continue
        if leaf_hash(entry.to_bytes()) != leaf:
            report.fail(ReceiptMismatch("the receipt proves another entry", index=index))
        elif report.newest is not None and checkpoint != report.newest:
            report.fail(
                ReceiptMismatch(
                    "the receipt is not under the newest checkpoint",
                    index=index,
                    expected=report.newest.size,
                    found=checkpoint.size,
                )
            )
        report.receipts += 1


def verify_bundle(
    path: Path,
    verifiers: Sequence[NoteVerifier],
    *,
    extra_checkpoints: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> Report:
    bundle = Bundle.open(path)
    partial = bundle.first_index > 0 or bundle.last_index + 1 < bundle.tree_size
    return verify_ledger(
        bundle.records(),
        [*bundle.checkpoints, *extra_checkpoints],
        verifiers,
        origin=str(bundle.meta["origin"]),
        first_index=bundle.first_index,
        last_index=bundle.last_index,
        chain_before=bundle.chain_hash_before,
        consistency=bundle.consistency,
        receipts=bundle.receipts if partial else None,
        progress=progress,
    )


def verify_receipt_file(text: str, verifiers: Sequence[NoteVerifier]) -> Report:
    receipt = Receipt.parse(text)
    entry, checkpoint = verify_receipt(text, verifiers)
    report = Report(
        origin=checkpoint.origin,
        first_index=receipt.index,
        entries=1,
        checkpoints=1,
        receipts=1,
        newest=checkpoint,
    )
    assert entry.index == receipt.index
    return report


def format_report(report: Report) -> str:
    """The verifier's words: a summary, then OK or each failure (first one first)."""
    lines = [f"found {report.found}"] if report.found else []
    lines.append(report.summary())
    if report.ok:
        lines.append("OK: every check of LEDGER.md section 6 holds")
    else:
        first = report.failures[0]
        where = f"index {first.index}" if first.index is not None else "the checkpoints"
        findings = plural(len(report.failures), "finding")
        lines.append(f"FAILED at {where}, check {first.check}: {findings}")
        lines += [f"  {failure}" for failure in report.failures]
    return "\n".join(lines)
