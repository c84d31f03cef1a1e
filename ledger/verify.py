"""The verifier: every check of LEDGER.md section 6, over a bundle, a receipt or a live ledger.

It reads a stream of records once, checks each as it passes (leaf and state hashes, the
chain, stream links, dense indices, time), then checks every checkpoint against the tree
rebuilt from the leaves and against each other. Failures are collected, not thrown, so that
a report can name the first bad index and what else is wrong; each failure is one of the
error types of ``ledger.errors``.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import multiprocessing
import os
import threading
from binascii import a2b_base64
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path

from ledger.bundle import Bundle, EntryPart, read_entry_part
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.entry import (
    CHAIN_START,
    HEX32,
    RECORDED_AT,
    UUID,
    chain_hash,
    entry_bytes,
    leaf_hash,
    topic_of_json,
)
from ledger.errors import (
    ChainMismatch,
    InconsistentCheckpoints,
    IndexNotDense,
    LeafHashMismatch,
    MalformedInput,
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
from ledger.store import LineText, Record, line_text
from ledger.witness import CosignatureFailure, WitnessPolicy

MAX_FAILURES = 100
RUN_RECORDS = 65_536  # records of a live ledger checked as one run
RUN_BYTES = 16 * 2**20  # bytes of entries.jsonl checked as one run, at least
RUNS_PER_WORKER = 2  # a file is cut into this many runs per worker, at most
MAX_WORKERS = 8


@dataclass
class Report:
    origin: str
    first_index: int = 0
    entries: int = 0
    checkpoints: int = 0
    receipts: int = 0
    newest: Checkpoint | None = None
    cosigned_by: list[str] | None = None  # under a witness policy: who cosigned the newest
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
        if self.cosigned_by:
            text += f", cosigned by {', '.join(self.cosigned_by)}"
        return text

    def apply_policy(
        self, policy: WitnessPolicy | None, notes: Sequence[str], checkpoint: Checkpoint | None
    ) -> None:
        """LEDGER.md 7: the newest checkpoint relied on carries the cosignatures asked for."""
        if policy is None:
            return
        if checkpoint is None:
            if policy.minimum > 0:
                self.fail(CosignatureFailure("there is no signed checkpoint to be cosigned"))
            return
        try:
            self.cosigned_by = policy.check(notes, checkpoint)
        except VerificationFailure as failure:
            self.fail(failure)


# The order in which one entry's findings are reported (dense index first, time last).
_INDEX, _LEAF, _STATE, _CHAIN, _PREV, _SEQ, _TIME = range(7)


@dataclass(slots=True)
class _Stream:
    """A stream within one run: how it starts (checked against the runs before) and ends."""

    first_line: int
    first_index: int
    first_seq: int
    first_prev: str | None
    last_leaf: bytes
    last_seq: int
    last_leaf_hex: str = ""  # made when the stream's next entry needs it

    def hex(self) -> str:
        if not self.last_leaf_hex:
            self.last_leaf_hex = self.last_leaf.hex()
        return self.last_leaf_hex

    def __reduce__(self) -> tuple[type[_Stream], tuple[int, int, int, str | None, bytes, int]]:
        # A run's streams go back from a worker by the ten thousand: as plain tuples.
        return _Stream, (
            self.first_line,
            self.first_index,
            self.first_seq,
            self.first_prev,
            self.last_leaf,
            self.last_seq,
        )


def plural(count: int, noun: str) -> str:
    """``1 checkpoint``, ``2 checkpoints``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@dataclass
class _Run:
    """Checks 1-4 over a run of consecutive records, as far as the run alone can tell.

    What links a run to the ones before it — the first record's index and chain hash, each
    stream's first entry, recorded_at against the earlier maximum — is left to ``_Join``, so
    that runs can be checked apart (by two processes) and still report exactly what one pass
    over the whole ledger would. Findings carry (line, rank) so they can be put in that order.
    """

    count: int = 0
    lines: int = 0
    unreadable: tuple[int, str] | None = None  # (line, why): the run stops there
    first_line: int = 0
    first_index: int = 0
    next_index: int = 0
    first_leaf: bytes = b""
    first_chain: bytes = b""
    chain: bytes = b""
    recorded_at: str = ""
    leaves: bytearray = field(default_factory=bytearray)
    streams: dict[str, _Stream] = field(default_factory=dict)
    findings: list[tuple[int, int, VerificationFailure]] = field(default_factory=list)
    # recorded_at: entries below the run's own maximum so far (line, index, that maximum,
    # value), and the first entries that set a new maximum (line, index, value). The latter
    # rise, so those below an earlier run's maximum are a prefix of them.
    went_back: list[tuple[int, int, str, str]] = field(default_factory=list)
    rises: list[tuple[int, int, str]] = field(default_factory=list)

    def note(self, line: int, rank: int, failure: VerificationFailure) -> None:
        if len(self.findings) <= MAX_FAILURES:
            self.findings.append((line, rank, failure))

    def check_line(self, line: int, data: bytes) -> None:
        """A line of entries.jsonl: taken straight from its text when it is written exactly as
        an export writes it and holds no finding of its own (the common case, and cheap), else
        read as JSON and checked in full by ``check``, which says what is wrong."""
        try:
            text = line_text(data.decode())
        except UnicodeDecodeError:
            text = None
        if (text is None or not self._take(line, text)) and data.strip():
            self.check(line, Record.from_json(data))

    def _take(self, line: int, text: LineText) -> bool:
        """Follow on with a line whose layout is the export's, if its members are valid and
        its leaf and state hash to what it says; False (nothing noted) otherwise.

        Entry bytes built from the line's own text hash to its leaf hash, so the line is what
        was hashed; what hashing cannot prove (the members' formats, as ``Entry.from_object``
        demands them) is checked here, each value once per run where it repeats.
        """
        index_text, stream, seq_text, prev_json, topic, state_sha256 = text[:6]
        recorded_at, leaf_hex, chain_hex, state_json = text[6:]
        try:
            index, seq = int(index_text), int(seq_text)
        except ValueError:
            return False
        if str(index) != index_text or str(seq) != seq_text or index < 0 or seq < 0:
            return False
        if topic_of_json(topic) is None:
            return False
        head = self.streams.get(stream)
        if head is None and not UUID.match(stream):
            return False
        prev = None if prev_json == "null" else prev_json[1:-1]
        # A link to the stream's previous leaf is valid hex: that leaf's hex.
        linked = prev is None or (head is not None and prev == head.hex())
        if not linked and not HEX32.match(prev or ""):
            return False
        if recorded_at != self.recorded_at and not RECORDED_AT.match(recorded_at):
            return False
        try:
            stored_leaf, stored_chain = bytes.fromhex(leaf_hex), bytes.fromhex(chain_hex)
            state = None if state_json == "null" else a2b_base64(state_json[1:-1], strict_mode=True)
        except ValueError:
            return False
        if len(stored_leaf) != 32 or len(stored_chain) != 32:
            return False
        if state is None:
            if not HEX32.match(state_sha256):
                return False
        elif sha256(state).hexdigest() != state_sha256:
            return False
        entry = entry_bytes(
            index_text, recorded_at, state_sha256, stream, prev_json, seq_text, topic
        )
        leaf = leaf_hash(entry)
        if leaf != stored_leaf:
            return False
        self._follow(line, index, leaf, stored_chain, stream, seq, prev, recorded_at)
        return True

    def check(self, line: int, record: Record) -> None:
        entry = record.entry
        leaf = leaf_hash(entry.to_bytes())
        if leaf != record.leaf_hash:
            self.note(
                line,
                _LEAF,
                LeafHashMismatch(
                    "entry bytes do not hash to the stored leaf hash",
                    index=entry.index,
                    expected=leaf.hex(),
                    found=record.leaf_hash.hex(),
                ),
            )
        if record.state is not None:
            digest = sha256(record.state).hexdigest()
            if digest != entry.state_sha256:
                self.note(
                    line,
                    _STATE,
                    StateHashMismatch(
                        "stored state does not hash to state_sha256",
                        index=entry.index,
                        expected=entry.state_sha256,
                        found=digest,
                    ),
                )
        self._follow(
            line,
            entry.index,
            leaf,
            record.chain_hash,
            entry.stream,
            entry.stream_seq,
            entry.stream_prev,
            entry.recorded_at,
        )

    def _follow(
        self,
        line: int,
        index: int,
        leaf: bytes,
        stored_chain: bytes,
        stream: str,
        seq: int,
        prev: str | None,
        recorded_at: str,
    ) -> None:
        """The checks that link an entry to the ones before it (and note where it ends)."""
        if self.count == 0:
            self.first_line, self.first_index = line, index
        elif index != self.next_index:
            self.note(
                line,
                _INDEX,
                IndexNotDense(
                    "indices are not dense",
                    index=self.next_index,
                    expected=self.next_index,
                    found=index,
                ),
            )
        self.next_index = index + 1
        if self.count == 0:
            self.first_leaf, self.first_chain = leaf, stored_chain
        else:
            chain = sha256(self.chain + leaf).digest()
            if chain != stored_chain:
                self.note(line, _CHAIN, _chain_broken(index, chain, stored_chain))
        # Go on from the stored value, so that one break is reported once.
        self.chain = stored_chain
        self._check_stream(line, index, stream, seq, prev, leaf)
        if recorded_at < self.recorded_at:
            if len(self.went_back) <= MAX_FAILURES:
                self.went_back.append((line, index, self.recorded_at, recorded_at))
        else:
            if len(self.rises) <= MAX_FAILURES:
                self.rises.append((line, index, recorded_at))
            self.recorded_at = recorded_at
        self.leaves += leaf
        self.count += 1

    def _check_stream(
        self, line: int, index: int, stream: str, seq: int, prev: str | None, leaf: bytes
    ) -> None:
        head = self.streams.get(stream)
        if head is None:
            self.streams[stream] = _Stream(line, index, seq, prev, leaf, seq)
            return
        _check_link(self.note, line, index, head.hex(), head.last_seq, prev, seq)
        head.last_leaf, head.last_seq, head.last_leaf_hex = leaf, seq, ""


def _chain_broken(index: int, chain: bytes, stored: bytes) -> ChainMismatch:
    return ChainMismatch(
        "chain hash does not follow from the previous one",
        index=index,
        expected=chain.hex(),
        found=stored.hex(),
    )


def _check_link(
    note: Callable[[int, int, VerificationFailure], None],
    line: int,
    index: int,
    previous_leaf: str,
    previous_seq: int,
    prev: str | None,
    seq: int,
) -> None:
    if prev != previous_leaf:
        note(
            line,
            _PREV,
            StreamLinkBroken(
                "stream_prev is not the stream's previous leaf hash",
                index=index,
                expected=previous_leaf,
                found=prev,
            ),
        )
    if seq != previous_seq + 1:
        note(
            line,
            _SEQ,
            StreamLinkBroken(
                "stream_seq does not continue the stream",
                index=index,
                expected=previous_seq + 1,
                found=seq,
            ),
        )


@dataclass
class Heads:
    """Where the entries verified so far end: what the next one must follow on from.

    A verifier that keeps the ledger as it grows (a witness) checks each new run from the
    heads the run before left; ``verify_ledger`` moves them on to the end of its records.
    """

    size: int = 0  # the next entry's index
    chain: bytes = CHAIN_START  # the chain hash of the entry before it
    recorded_at: str = ""  # the highest recorded_at so far
    streams: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # last leaf hash, seq
    # Whether ``streams`` holds every stream begun before ``size``, so that one not in it
    # must start afresh (a partial export does not know the streams before it).
    every_stream: bool = True


class _Join:
    """Links runs in ledger order: the checks that cross from one run into the next."""

    def __init__(self, report: Report, heads: Heads) -> None:
        self.report = report
        self.heads = heads
        self.leaves: list[bytes] = []
        self.lines = 0
        self.findings: list[tuple[int, int, VerificationFailure]] = []

    def add(self, run: _Run) -> None:
        base = self.lines
        if run.unreadable is not None:
            line, why = run.unreadable
            raise MalformedInput(f"entries.jsonl line {base + line}: {why}")
        findings = [(base + line, rank, failure) for line, rank, failure in run.findings]

        def note(line: int, rank: int, failure: VerificationFailure) -> None:
            findings.append((base + line, rank, failure))

        if run.count:
            self._link(run, note)
        findings.sort(key=lambda finding: finding[:2])
        self.findings += findings[: MAX_FAILURES + 1]
        self.lines += run.lines
        leaves = bytes(run.leaves)
        self.leaves += [leaves[i : i + 32] for i in range(0, len(leaves), 32)]
        self.report.entries += run.count

    def _link(self, run: _Run, note: Callable[[int, int, VerificationFailure], None]) -> None:
        heads, first_line = self.heads, run.first_line
        if run.first_index != heads.size:
            note(
                first_line,
                _INDEX,
                IndexNotDense(
                    "indices are not dense",
                    index=heads.size,
                    expected=heads.size,
                    found=run.first_index,
                ),
            )
        heads.size = run.next_index
        chain = chain_hash(heads.chain, run.first_leaf)
        if chain != run.first_chain:
            note(first_line, _CHAIN, _chain_broken(run.first_index, chain, run.first_chain))
        heads.chain = run.chain
        streams = heads.streams
        for stream, ends in run.streams.items():
            head = streams.get(stream)
            if head is None:
                if heads.every_stream and ends.first_prev is not None:
                    note(
                        ends.first_line,
                        _PREV,
                        StreamLinkBroken(
                            "a stream's first entry links to nothing",
                            index=ends.first_index,
                            expected=None,
                            found=ends.first_prev,
                        ),
                    )
            else:
                leaf, seq = head
                _check_link(
                    note,
                    ends.first_line,
                    ends.first_index,
                    leaf.hex(),
                    seq,
                    ends.first_prev,
                    ends.first_seq,
                )
            streams[stream] = (ends.last_leaf, ends.last_seq)
        earlier = heads.recorded_at
        for line, index, highest, found in run.went_back:
            note(line, _TIME, _went_back(index, max(earlier, highest), found))
        for line, index, found in run.rises:
            if found >= earlier:
                break
            note(line, _TIME, _went_back(index, earlier, found))
        heads.recorded_at = max(earlier, run.recorded_at)

    def report_findings(self) -> None:
        for _, _, failure in sorted(self.findings, key=lambda finding: finding[:2]):
            self.report.fail(failure)


def _went_back(index: int, highest: str, found: str) -> TimeWentBackwards:
    return TimeWentBackwards(
        "recorded_at decreased", index=index, expected=f">= {highest}", found=found
    )


def verify_ledger(
    records: Iterable[Record],
    checkpoint_notes: Sequence[str],
    verifiers: Sequence[NoteVerifier],
    *,
    origin: str,
    first_index: int = 0,
    last_index: int | None = None,
    chain_before: bytes = CHAIN_START,
    heads: Heads | None = None,
    consistency: Mapping[tuple[int, int], list[bytes]] | None = None,
    receipts: Mapping[int, str] | None = None,
    reaches_end: bool = False,
    progress: Callable[[int], None] | None = None,
    policy: WitnessPolicy | None = None,
) -> Report:
    """Verify records ``first_index..last_index`` and the checkpoints over them (and, given
    a witness ``policy``, the cosignatures on the newest).

    Records that follow on from entries verified before start from their ``heads`` (in
    place of ``first_index`` and ``chain_before``), which are moved on to the records' end.
    ``reaches_end`` says the records are the whole ledger as it stands (a live database):
    a checkpoint larger than the ledger then means the ledger was truncated.
    """
    if heads is None:
        heads = Heads(first_index, chain_before, every_stream=first_index == 0)
    return _verify_runs(
        _runs_of(records),
        checkpoint_notes,
        verifiers,
        origin=origin,
        last_index=last_index,
        heads=heads,
        consistency=consistency,
        receipts=receipts,
        reaches_end=reaches_end,
        progress=progress,
        policy=policy,
    )


def _runs_of(records: Iterable[Record], size: int = RUN_RECORDS) -> Iterator[_Run]:
    run = _Run()
    for record in records:
        run.lines += 1
        run.check(run.lines, record)
        if run.count == size:
            yield run
            run = _Run()
    yield run


def _verify_runs(
    runs: Iterable[_Run],
    checkpoint_notes: Sequence[str],
    verifiers: Sequence[NoteVerifier],
    *,
    origin: str,
    last_index: int | None,
    heads: Heads,
    consistency: Mapping[tuple[int, int], list[bytes]] | None,
    receipts: Mapping[int, str] | None,
    reaches_end: bool,
    progress: Callable[[int], None] | None,
    policy: WitnessPolicy | None,
) -> Report:
    first_index = heads.size
    report = Report(origin=origin, first_index=first_index)
    join = _Join(report, heads)
    for run in runs:
        join.add(run)
        if progress:
            progress(report.entries)
    join.report_findings()
    if last_index is not None and heads.size <= last_index:
        report.fail(
            Truncated(
                "entries are missing at the end",
                index=heads.size,
                expected=last_index,
                found=heads.size - 1,
            )
        )
    notes: dict[Checkpoint, list[str]] = {}
    checkpoints = _open_checkpoints(report, checkpoint_notes, verifiers, origin, notes)
    tree = MemoryTree(join.leaves) if first_index == 0 and checkpoints else None
    _check_checkpoints(report, checkpoints, tree, consistency or {}, reaches_end)
    report.apply_policy(
        policy, notes.get(report.newest, []) if report.newest else [], report.newest
    )
    if receipts is not None:
        _check_receipts(report, receipts, verifiers, first_index, join.leaves)
    return report


def _open_checkpoints(
    report: Report,
    notes: Sequence[str],
    verifiers: Sequence[NoteVerifier],
    origin: str,
    notes_of: dict[Checkpoint, list[str]],
) -> list[Checkpoint]:
    """The distinct checkpoints signed by a trusted key, smallest first; ``notes_of`` gets
    every note of each (copies may carry different cosignatures)."""
    opened: dict[tuple[int, bytes], Checkpoint] = {}
    for note in notes:
        try:
            checkpoint = open_checkpoint(note, verifiers)
        except VerificationFailure as failure:
            report.fail(failure)
            continue
        foreign = of_another_ledger(checkpoint, origin)
        if foreign is not None:
            report.fail(foreign)
            continue
        opened[(checkpoint.size, checkpoint.root)] = checkpoint
        notes_of.setdefault(checkpoint, []).append(note)
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
        differs = root_differs(checkpoint, tree, matched)
        if differs is not None:
            report.fail(differs)
        else:
            matched = checkpoint.size
    for old, new in itertools.pairwise(checkpoints):
        proof = consistency.get((old.size, new.size))
        if proof is None and tree is not None and old.size < new.size <= size:
            proof = consistency_proof(old.size, new.size, tree)
        inconsistent = not_consistent(old, new, proof)
        if inconsistent is not None:
            report.fail(inconsistent)


# --- the checks on one checkpoint, for whoever keeps the ledger as it grows (a witness) ------


def of_another_ledger(checkpoint: Checkpoint, origin: str) -> RootMismatch | None:
    if checkpoint.origin == origin:
        return None
    return RootMismatch("checkpoint of another ledger", expected=origin, found=checkpoint.origin)


def root_differs(checkpoint: Checkpoint, tree: MemoryTree, matched: int) -> RootMismatch | None:
    """Check 5: the checkpoint signs the tree of the entries; ``matched`` entries are known to
    be signed already (by a smaller checkpoint), so the difference lies after them."""
    root = tree.root(checkpoint.size)
    if root == checkpoint.root:
        return None
    return RootMismatch(
        f"an entry in {matched}..{checkpoint.size - 1} differs from what was signed",
        index=matched,
        expected=checkpoint.root.hex(),
        found=root.hex(),
    )


def not_consistent(
    old: Checkpoint, new: Checkpoint, proof: list[bytes] | None
) -> InconsistentCheckpoints | None:
    """Check 5: a checkpoint is consistent with a smaller one (by ``proof``) and equals one
    of its own size."""
    if old.size == new.size:
        if old.root == new.root:
            return None
        return InconsistentCheckpoints(
            f"two checkpoints of size {old.size} with different roots",
            expected=old.root.hex(),
            found=new.root.hex(),
        )
    if proof is None:
        return InconsistentCheckpoints(f"no consistency proof from size {old.size} to {new.size}")
    try:
        verify_consistency(old.size, new.size, proof, old.root, new.root)
    except VerificationFailure as failure:
        return InconsistentCheckpoints(
            f"checkpoints {old.size} and {new.size} are not consistent: {failure.message}"
        )
    return None


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
    policy: WitnessPolicy | None = None,
    workers: int | None = None,
    run_bytes: int | None = None,
) -> Report:
    """Verify a bundle; its entries are checked in runs of ``run_bytes`` of entries.jsonl, by
    ``workers`` processes (by default one per core when there are several runs; 0: none).

    By default a run is a share of the file, so that each worker checks few and long runs: a
    stream that goes on within a run is linked there, only its first entry in each run is
    linked afterwards by this process. A zip's runs are read here and sent, so they stay small.
    """
    bundle = Bundle.open(path)
    partial = bundle.first_index > 0 or bundle.last_index + 1 < bundle.tree_size
    size = bundle.entries_size
    # Forking is quick and needs no importable main module, but is unsafe beside threads:
    # there, only processes asked for are started, by spawning.
    alone = threading.active_count() == 1
    if workers is None:
        several = alone and size > RUN_BYTES
        workers = min(os.cpu_count() or 1, MAX_WORKERS) if several else 0
    if run_bytes is None:
        share = -(-size // (RUNS_PER_WORKER * max(workers, 1)))
        run_bytes = max(RUN_BYTES, share) if path.is_dir() else RUN_BYTES
    parts = bundle.entry_parts(run_bytes)
    with contextlib.ExitStack() as stack:
        runs: Iterable[_Run]
        if workers > 0:
            context = multiprocessing.get_context("fork" if alone else "spawn")
            pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=context))
            runs = _in_order(pool, parts, ahead=2 * workers)
        else:
            runs = map(_check_part, parts)
        return _verify_runs(
            runs,
            [*bundle.checkpoints, *extra_checkpoints],
            verifiers,
            origin=str(bundle.meta["origin"]),
            last_index=bundle.last_index,
            heads=Heads(
                bundle.first_index, bundle.chain_hash_before, every_stream=bundle.first_index == 0
            ),
            consistency=bundle.consistency,
            receipts=bundle.receipts if partial else None,
            reaches_end=False,
            progress=progress,
            policy=policy,
        )


def _check_part(part: EntryPart) -> _Run:
    """One run of a bundle's entries.jsonl, read and checked (in a worker process)."""
    run = _Run()
    try:
        for line in read_entry_part(part):
            run.lines += 1
            run.check_line(run.lines, line)
    except MalformedInput as e:
        run.unreadable = (run.lines, str(e))
    return run


def _in_order(pool: Executor, parts: Iterator[EntryPart], ahead: int) -> Iterator[_Run]:
    """The runs in ledger order, with at most ``ahead`` parts read ahead (memory stays flat)."""
    pending: collections.deque[Future[_Run]] = collections.deque()
    for part in parts:
        pending.append(pool.submit(_check_part, part))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def verify_receipt_file(
    text: str, verifiers: Sequence[NoteVerifier], policy: WitnessPolicy | None = None
) -> Report:
    receipt = Receipt.parse(text)
    # verify_receipt refuses an entry whose index is not the receipt's (ReceiptMismatch).
    _, checkpoint = verify_receipt(text, verifiers)
    report = Report(
        origin=checkpoint.origin,
        first_index=receipt.index,
        entries=1,
        checkpoints=1,
        receipts=1,
        newest=checkpoint,
    )
    report.apply_policy(policy, [receipt.checkpoint], checkpoint)
    return report


def format_report(report: Report) -> str:
    """The verifier's words: a summary, then OK or each failure (first one first)."""
    lines = [f"found {report.found}"] if report.found else []
    lines.append(report.summary())
    if report.ok:
        lines.append("OK: every check of LEDGER.md section 6 holds")
        if report.cosigned_by is not None:
            lines.append("OK: the witness policy of LEDGER.md section 7 holds")
    else:
        first = report.failures[0]
        where = f"index {first.index}" if first.index is not None else "the checkpoints"
        findings = plural(len(report.failures), "finding")
        lines.append(f"FAILED at {where}, check {first.check}: {findings}")
        lines += [f"  {failure}" for failure in report.failures]
    return "\n".join(lines)
