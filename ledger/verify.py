"""The verifier: every check of LEDGER.md section 6, over a bundle, a receipt or a live ledger.

It reads a stream of records once, checks each as it passes (leaf and state hashes, the
chain, stream links, dense indices, time), then checks every checkpoint against the tree
rebuilt from the leaves and against each other. Failures are collected, not thrown, so that
a report can name the first bad index and what else is wrong; each failure is one of the
error types of ``ledger.errors``.
"""

from __future__ import annotations

import binascii
import collections
import contextlib
import hashlib
import itertools
import multiprocessing
import os
import re
import threading
from binascii import a2b_base64, a2b_hex, b2a_hex
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ledger.bundle import Bundle, EntryPart, read_entry_part
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.entry import (
    CHAIN_START,
    FORMAT_VERSION,
    HEX32,
    RECORDED_AT,
    UUID,
    Entry,
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
from ledger.merkle import (
    HASH_SIZE,
    AssembledTree,
    NodeKey,
    NodeReader,
    consistency_proof,
    subtree_hashes,
    tree_root,
    verify_consistency,
)
from ledger.note import NoteVerifier, split_note
from ledger.receipt import Receipt, verify_receipt
from ledger.store import Record
from ledger.witness import CosignatureFailure, WitnessPolicy

MAX_FAILURES = 100
RUN_RECORDS = 65_536  # records of a live ledger checked as one run
RUN_BYTES = 16 * 2**20  # bytes of entries.jsonl checked as one run, at least
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


def plural(count: int, noun: str) -> str:
    """``1 checkpoint``, ``2 checkpoints``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# A line of entries.jsonl exactly as an export writes it (Record.to_json), its members cut out:
# index, stream, stream_seq, stream_prev (as written, and its hex), topic (as written),
# state_sha256, recorded_at, leaf hash, chain hash, state (its base64, None for null). The
# pattern proves the layout and the integers' formats; ``_Run.check_blocks`` checks the rest
# before taking the line.
_LINE = re.compile(
    rb'\{"entry":\{"v":%d,"index":(0|[1-9][0-9]*),"stream":"(.{36})",'
    rb'"stream_seq":(0|[1-9][0-9]*),"stream_prev":(null|"(.{64})"),"topic":("[^"\\]*"),'
    rb'"state_sha256":"(.{64})","recorded_at":"(.{27})"\},'
    rb'"leaf_hash":"(.{64})","chain_hash":"(.{64})","state":(?:null|"(.*)")\}\n' % FORMAT_VERSION
)
# The leaf hash's input from a line's members (entry_bytes with each member a %s), in one %.
_LEAF_INPUT = b"\x00" + entry_bytes(*["%s"] * 7)
_UUID, _HEX32, _RECORDED_AT = (re.compile(p.pattern.encode()) for p in (UUID, HEX32, RECORDED_AT))


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
    # The streams of the run, by the UUID's bytes: how each starts (line, index, stream_seq,
    # stream_prev), to be linked to the runs before, and how it ends (leaf hash as lowercase
    # hex bytes, stream_seq).
    starts: dict[bytes, tuple[int, int, int, str | None]] = field(default_factory=dict)
    ends: dict[bytes, tuple[bytes, int]] = field(default_factory=dict)
    topics: set[bytes] = field(default_factory=set)  # JSON texts known to be entry topics
    nodes: dict[NodeKey, bytes] | None = None  # subtree_hashes of the leaves, when made
    findings: list[tuple[int, int, VerificationFailure]] = field(default_factory=list)
    # recorded_at: entries below the run's own maximum so far (line, index, that maximum,
    # value), and the first entries that set a new maximum (line, index, value). The latter
    # rise, so those below an earlier run's maximum are a prefix of them.
    went_back: list[tuple[int, int, str, str]] = field(default_factory=list)
    rises: list[tuple[int, int, str]] = field(default_factory=list)

    def note(self, line: int, rank: int, failure: VerificationFailure) -> None:
        if len(self.findings) <= MAX_FAILURES:
            self.findings.append((line, rank, failure))

    def check_blocks(self, blocks: Iterable[bytes]) -> None:
        """Blocks of whole lines of entries.jsonl that follow on. A line written exactly as an
        export writes it, with valid members, whose hashes follow and link to the line
        before, is taken straight from its text (the common case, and cheap); any other line
        (a run's first among them: its chain goes on from another run) is read as JSON and
        checked in full by ``check``, which says what is wrong.

        Entry bytes built from the line's own text hash to its leaf hash, so the line is what
        was hashed; what hashing cannot prove (the members' formats, as ``Entry.from_object``
        demands them) is checked here, each value once per run where it repeats: a stream by
        being known, stream_prev by equality with the stream's last leaf hash, recorded_at
        with the highest so far, the topic by being known.
        """
        match, ends, starts, topics = _LINE.match, self.ends, self.starts, self.topics
        leaves, sha256, hexlify = self.leaves, hashlib.sha256, b2a_hex
        line, count, next_index, chain = self.lines, self.count, self.next_index, self.chain
        high, rises = self.recorded_at.encode(), self.rises
        rising = len(rises) <= MAX_FAILURES
        for block in blocks:
            at, size = 0, len(block)
            while at < size:
                found = match(block, at)
                if found is not None:
                    (
                        index_text,
                        stream,
                        seq_text,
                        prev_json,
                        prev,
                        topic,
                        state_sha256,
                        recorded_at,
                        leaf_hex,
                        chain_hex,
                        state,
                    ) = found.groups()
                    index, seq = int(index_text), int(seq_text)
                    end = ends.get(stream)
                    try:
                        valid = (
                            index == next_index
                            and (
                                _starts_validly(stream, prev)
                                if end is None
                                else prev == end[0] and seq == end[1] + 1
                            )
                            and (topic in topics or self._learn_topic(topic))
                            and (recorded_at == high or _RECORDED_AT.match(recorded_at) is not None)
                            and (
                                _HEX32.match(state_sha256) is not None
                                if state is None
                                else hexlify(sha256(a2b_base64(state, strict_mode=True)).digest())
                                == state_sha256
                            )
                        )
                    except binascii.Error:  # the state is not strict base64
                        valid = False
                    if valid:
                        leaf = sha256(
                            _LEAF_INPUT
                            % (
                                index_text,
                                recorded_at,
                                state_sha256,
                                stream,
                                prev_json,
                                seq_text,
                                topic,
                            )
                        ).digest()
                        linked = sha256(chain + leaf).digest()
                        if hexlify(leaf) == leaf_hex and hexlify(linked) == chain_hex:
                            # _time inline (high is self.recorded_at as bytes): where each
                            # transaction has one event, recorded_at rises on every line.
                            if recorded_at < high:
                                self.recorded_at = high.decode()
                                self._time(line + 1, index, recorded_at.decode())
                            else:
                                if rising:
                                    rises.append((line + 1, index, recorded_at.decode()))
                                    rising = len(rises) <= MAX_FAILURES
                                high = recorded_at
                            if end is None:
                                first_prev = None if prev is None else prev.decode()
                                starts[stream] = (line + 1, index, seq, first_prev)
                            ends[stream] = (leaf_hex, seq)
                            leaves += leaf
                            chain, next_index, count = linked, index + 1, count + 1
                            line, at = line + 1, found.end()
                            continue
                # Any other line, split as bytes.splitlines splits (a blank line is one).
                stop = block.find(b"\n", at)
                stop = size if stop < 0 else stop
                self.count, self.next_index, self.chain = count, next_index, chain
                self.recorded_at = high.decode()
                for data in block[at:stop].splitlines() or [b""]:
                    line = self.lines = line + 1
                    if data.strip():
                        self.check(line, Record.from_json(data))
                count, next_index, chain = self.count, self.next_index, self.chain
                high, rising = self.recorded_at.encode(), len(rises) <= MAX_FAILURES
                at = stop + 1
        self.lines, self.count, self.next_index, self.chain = line, count, next_index, chain
        self.recorded_at = high.decode()

    def _learn_topic(self, topic: bytes) -> bool:
        """Whether a topic's JSON text is as an entry writes it (then known from here on)."""
        try:
            valid = topic_of_json(topic.decode()) is not None
        except UnicodeDecodeError:
            return False
        if valid:
            self.topics.add(topic)
        return valid

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
            digest = hashlib.sha256(record.state).hexdigest()
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
        self._follow(line, entry, leaf, record.chain_hash)

    def _follow(self, line: int, entry: Entry, leaf: bytes, stored_chain: bytes) -> None:
        """The checks that link an entry to the ones before it (and note where it ends)."""
        index = entry.index
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
            chain = hashlib.sha256(self.chain + leaf).digest()
            if chain != stored_chain:
                self.note(line, _CHAIN, _chain_broken(index, chain, stored_chain))
        # Go on from the stored value, so that one break is reported once.
        self.chain = stored_chain
        key, seq = entry.stream.encode(), entry.stream_seq
        end = self.ends.get(key)
        if end is None:
            self.starts[key] = (line, index, seq, entry.stream_prev)
        else:
            _check_link(self.note, line, index, end[0].decode(), end[1], entry.stream_prev, seq)
        self.ends[key] = (leaf.hex().encode(), seq)
        self._time(line, index, entry.recorded_at)
        self.leaves += leaf
        self.count += 1

    def _time(self, line: int, index: int, recorded_at: str) -> None:
        if recorded_at < self.recorded_at:
            if len(self.went_back) <= MAX_FAILURES:
                self.went_back.append((line, index, self.recorded_at, recorded_at))
        else:
            if len(self.rises) <= MAX_FAILURES:
                self.rises.append((line, index, recorded_at))
            self.recorded_at = recorded_at


def _starts_validly(stream: bytes, prev: bytes | None) -> bool:
    """A stream first met in a run: a valid UUID, linked to nothing or to valid hex (what it
    links to is checked when the runs are joined)."""
    return _UUID.match(stream) is not None and (prev is None or _HEX32.match(prev) is not None)


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

    def __init__(self, report: Report, heads: Heads, cuts: tuple[int, ...] | None) -> None:
        self.report = report
        self.heads = heads
        # The leaves, and the tree over them when one is wanted (``cuts`` not None).
        self.tree = AssembledTree(cuts or ())
        self.hashed = cuts is not None
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
        # A run's subtrees are the tree's where its first index is its place in the tree.
        nodes = run.nodes if run.first_index == self.tree.size else None
        self.tree.add(run.leaves, nodes if self.hashed else {})
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
        ends = run.ends
        for key, (line, index, seq, prev) in run.starts.items():
            stream = key.decode()
            head = streams.get(stream)
            if head is None:
                if heads.every_stream and prev is not None:
                    note(
                        line,
                        _PREV,
                        StreamLinkBroken(
                            "a stream's first entry links to nothing",
                            index=index,
                            expected=None,
                            found=prev,
                        ),
                    )
            else:
                _check_link(note, line, index, head[0].hex(), head[1], prev, seq)
            last_leaf, last_seq = ends[key]
            streams[stream] = (a2b_hex(last_leaf), last_seq)
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
    join = _Join(report, heads, tree_cuts(checkpoint_notes, first_index))
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
    tree = join.tree if first_index == 0 and checkpoints else None
    _check_checkpoints(report, checkpoints, tree, consistency or {}, reaches_end)
    report.apply_policy(
        policy, notes.get(report.newest, []) if report.newest else [], report.newest
    )
    if receipts is not None:
        _check_receipts(report, receipts, verifiers, first_index, join.tree.leaves)
    return report


def tree_cuts(notes: Sequence[str], first_index: int) -> tuple[int, ...] | None:
    """Where the checkpoints say the tree is cut (what their sizes claim; checked later), when
    the entries start the ledger and a tree will be wanted; else None."""
    if first_index != 0 or not notes:
        return None
    sizes = set()
    for note in notes:
        with contextlib.suppress(MalformedInput):
            sizes.add(Checkpoint.parse(split_note(note)[0]).size)
    return tuple(sorted(sizes))


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
    tree: AssembledTree | None,
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


def root_differs(checkpoint: Checkpoint, tree: NodeReader, matched: int) -> RootMismatch | None:
    """Check 5: the checkpoint signs the tree of the entries; ``matched`` entries are known to
    be signed already (by a smaller checkpoint), so the difference lies after them."""
    root = tree_root(checkpoint.size, tree)
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
    leaves: bytes | bytearray,
) -> None:
    """Check 6: every entry of a partial export is proven in the newest checkpoint."""
    for offset in range(0, len(leaves), HASH_SIZE):
        index, leaf = first_index + offset // HASH_SIZE, leaves[offset : offset + HASH_SIZE]
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

    By default a run is a worker's share of the file, one long run each: a stream that goes on
    within a run is linked there, only its first entry in each run is linked afterwards by this
    process, so every further run costs a pass over the streams it meets (two runs per worker
    took 2-3 % longer at 1M entries and 50,000 streams, docs/BENCHMARKS.md). A zip's runs are
    read here and sent, so they stay small.
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
        share = -(-size // max(workers, 1))
        run_bytes = max(RUN_BYTES, share) if path.is_dir() else RUN_BYTES
    parts = bundle.entry_parts(run_bytes)
    notes = [*bundle.checkpoints, *extra_checkpoints]
    cuts = tree_cuts(notes, bundle.first_index)
    with contextlib.ExitStack() as stack:
        runs: Iterable[_Run]
        if workers > 0:
            context = multiprocessing.get_context("fork" if alone else "spawn")
            pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=context))
            runs = _in_order(pool, parts, cuts, ahead=2 * workers)
        else:
            runs = (_check_part(part, cuts) for part in parts)
        return _verify_runs(
            runs,
            notes,
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


def _check_part(part: EntryPart, cuts: tuple[int, ...] | None) -> _Run:
    """One run of a bundle's entries.jsonl, read and checked, and its subtrees hashed when a
    tree is wanted (in a worker process)."""
    run = _Run()
    try:
        run.check_blocks(read_entry_part(part))
    except MalformedInput as e:
        run.unreadable = (run.lines, str(e))
        return run
    if cuts is not None:
        run.nodes = subtree_hashes(run.first_index, run.leaves, cuts)
    return run


def _in_order(
    pool: Executor, parts: Iterator[EntryPart], cuts: tuple[int, ...] | None, ahead: int
) -> Iterator[_Run]:
    """The runs in ledger order, with at most ``ahead`` parts read ahead (memory stays flat)."""
    pending: collections.deque[Future[_Run]] = collections.deque()
    for part in parts:
        pending.append(pool.submit(_check_part, part, cuts))
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
