"""A line written as an export writes it is taken from its text, not parsed as JSON.

That shortcut (ledger.verify._Run.check_lines) must never change what the verifier reports: whatever
is done to entries.jsonl, in the export's own layout or any other, the findings are those of
reading every line as JSON (ledger.store.Record.from_json), at the same index, with the same
check, expected and found, wherever the runs are cut and however many processes check them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import ledger.verify
from ledger.entry import ENTRY_PREFIX
from ledger.note import NoteSigner, NoteVerifier
from ledger.store import Record
from ledger.verify import verify_bundle
from tests.ledger.test_bundles import SIZE, export, sample_ledger
from tests.ledger.test_verify_runs import KINDS, findings, tamper

ORIGIN = "ledger.leusden.nl/bewijslast"


def as_exported(line: dict) -> str:
    """A line in the layout Record.to_json writes (json.loads keeps the members' order)."""
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False)


# Edits of one line's text that a JSON reading may or may not accept.
def edit(text: str, kind: str) -> str:
    if kind == "state byte":  # one base64 digit of the state changed: another state
        at = text.index('"state":"') + 10
        return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]
    if kind == "escaped topic":  # the same topic, written with an escape: still valid
        return text.replace('"topic":"d', '"topic":"\\u0064', 1)
    if kind == "upper-case leaf hash":  # read by bytes.fromhex either way: still valid
        at = text.index('"leaf_hash":"') + 13
        return text[:at] + text[at : at + 64].upper() + text[at + 64 :]
    if kind == "upper-case stream":  # not the format: the input cannot be read
        at = text.index('"stream":"') + 10
        return text[:at] + text[at : at + 36].upper() + text[at + 36 :]
    if kind == "leading zero":  # not JSON
        return text.replace('"index":', '"index":0', 1)
    if kind == "leading zero in stream_seq":
        return text.replace('"stream_seq":', '"stream_seq":0', 1)
    if kind == "negative seq":
        return text.replace('"stream_seq":', '"stream_seq":-', 1)
    if kind == "space":  # JSON with a space: the layout is not the export's, still valid
        return text.replace('"v":1,', '"v": 1,', 1)
    if kind == "recorded_at without fraction":
        at = text.index('"recorded_at":"') + 15 + len("YYYY-MM-DDTHH:MM:SS")
        return text[:at] + text[at + 1 :]
    if kind == "state null":  # an export without the state: still valid
        return text[: text.index('"state":') + 8] + "null}"
    if kind == "tab in chain hash":  # bytes.fromhex would skip it, JSON does not allow it
        at = text.index('"chain_hash":"') + 14
        return text[:at] + "\t\t" + text[at + 2 :]
    if kind == "unquoted stream_prev":  # not JSON, whatever its hex
        at = text.index('"stream_prev":"') + 14
        return text[:at] + "'" + text[at + 1 : at + 65] + "'" + text[at + 66 :]
    if kind == "unquoted state":
        at = text.index('"state":"') + 8
        return text[:at] + text[at:].replace('"', "'")
    if kind == "upper-case state_sha256":
        at = text.index('"state_sha256":"') + 16
        return text[:at] + text[at : at + 64].upper() + text[at + 64 :]
    if kind == "upper-case state_sha256, state null":
        return edit(edit(text, "upper-case state_sha256"), "state null")
    if kind == "tab in topic":  # a control character is not JSON
        return text.replace('"topic":"domain:', '"topic":"domain:\t', 1)
    if kind == "recorded_at with a space":  # as long as a valid one
        at = text.index('"recorded_at":"') + 15 + len("YYYY-MM-DD")
        return text[:at] + " " + text[at + 1 :]
    if kind == "upper-case stream_prev":  # not the format, even where it links
        at = text.index('"stream_prev":"') + 15
        return text[:at] + text[at : at + 64].upper() + text[at + 64 :]
    if kind == "zero leaf hash":  # the chain hash still follows from the true leaf
        at = text.index('"leaf_hash":"') + 13
        return text[:at] + "0" * 64 + text[at + 64 :]
    if kind == "carriage return in topic":  # two lines, as bytes.splitlines reads them
        return text.replace('"topic":"domain:', '"topic":"domain:\r', 1)
    if kind == "blank line after":  # skipped, but counted as a line
        return text + "\n"
    if kind == "stray character in state":  # skipped by base64 decoding unless strict
        at = text.index('"state":"') + 10
        return text[:at] + "*" + text[at:]
    raise AssertionError(kind)


EDITS = [
    "state byte",
    "escaped topic",
    "upper-case leaf hash",
    "upper-case stream",
    "leading zero",
    "leading zero in stream_seq",
    "negative seq",
    "space",
    "recorded_at without fraction",
    "state null",
    "upper-case state_sha256",
    "upper-case state_sha256, state null",
    "tab in topic",
    "recorded_at with a space",
    "stray character in state",
    "upper-case stream_prev",
    "zero leaf hash",
    "carriage return in topic",
    "blank line after",
    "tab in chain hash",
    "unquoted stream_prev",
    "unquoted state",
]
# The entry members as a line writes them (the test's own reading, not the verifier's).
MEMBER = re.compile(
    r'"(index|stream|stream_seq|stream_prev|topic|state_sha256|recorded_at)":'
    r'("(?:[^"\\]|\\.)*"|[^,}]*)'
)


def rehashed(text: str, chain_before: str | None = None) -> str:
    """The line with the leaf hash of its entry members hashed as they are written, as a
    writer that does not check the format would: only checking the members finds it out.
    Given the chain hash before it, its chain hash follows on from the new leaf hash."""
    members = dict(MEMBER.findall(text[: text.index(',"leaf_hash"')]))
    jcs = "{" + ",".join(f'"{k}":{members[k]}' for k in sorted(members)) + ',"v":1}'
    leaf = hashlib.sha256(b"\x00" + ENTRY_PREFIX + jcs.encode()).digest()
    at = text.index('"leaf_hash":"') + 13
    text = text[:at] + leaf.hex() + text[at + 64 :]
    if chain_before is None:
        return text
    chain = hashlib.sha256(bytes.fromhex(chain_before) + leaf).hexdigest()
    at = text.index('"chain_hash":"') + 14
    return text[:at] + chain + text[at + 64 :]


CHAIN = re.compile(r'"chain_hash":"([^"]*)"')
REHASH = ["nothing", "the leaf", "the leaf and chain"]


def rechained(texts: list[str]) -> list[str]:
    """Every line's leaf hash hashed from its members as written and the chain made again
    from them, as a writer that hashes whatever it was given would: what the entries say
    (links, indices, time) is all that is left to check."""
    chain = "00" * 32
    out = []
    for text in texts:
        with contextlib.suppress(ValueError):
            text = rehashed(text, chain)
        found = CHAIN.search(text)
        chain = found.group(1) if found else chain
        out.append(text)
    return out


def write(
    bundle: Path, lines: list[dict], edits: list[tuple[str, int, str]], rechain: bool = False
) -> None:
    texts = [as_exported(line) for line in lines]
    for kind, at, rehash in edits:
        at %= len(texts)
        try:
            text = edit(texts[at], kind)
            if rehash == "the leaf and chain":
                before = CHAIN.search(texts[at - 1]) if at else None
                text = rehashed(text, before.group(1) if before else "00" * 32)
            elif rehash == "the leaf":
                text = rehashed(text)
        except ValueError:  # an earlier edit took away what this one changes
            continue
        texts[at] = text
    if rechain:
        texts = rechained(texts)
    (bundle / "entries.jsonl").write_text("".join(text + "\n" for text in texts))


def read_as_json_only(bundle: Path, signer) -> list[str]:
    """What the verifier reports when every line is parsed as JSON and checked in full."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ledger.verify, "_LINE", re.compile(b"(?!)"))
        return findings(bundle, signer, workers=0, run_bytes=2**30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(KINDS), st.integers(0, SIZE - 3), st.integers(0, SIZE - 3)),
        max_size=3,
    ),
    edits=st.lists(
        st.tuples(st.sampled_from(EDITS), st.integers(0, SIZE - 1), st.sampled_from(REHASH)),
        max_size=3,
    ),
    rechain=st.booleans(),
)
# Each shortcut, found out at least once whatever the draw: an index that is not the next, a
# stream_prev that is not the stream's last leaf, a stream's first line in a run linked
# in a format the entry refuses, a stream_seq that does not continue, a recorded_at not in the
# format, a stream_seq with a leading zero (each hashed as written), a leaf hash that is not the
# entry's, and time that goes back across a cut to equal values (each must be noted, though
# equal to the run's highest).
@example(
    changes=[],
    edits=[("upper-case stream_prev", at, "the leaf and chain") for at in range(6, 9)],
    rechain=False,
)
@example(changes=[("delete", 12, 0)], edits=[], rechain=True)
@example(changes=[("prev", 12, 3)], edits=[], rechain=True)
@example(changes=[("seq", 12, 14)], edits=[], rechain=True)
@example(changes=[], edits=[("recorded_at with a space", 12, "the leaf and chain")], rechain=False)
@example(changes=[], edits=[("zero leaf hash", 12, "nothing")], rechain=False)
@example(changes=[], edits=[("leading zero in stream_seq", 12, "the leaf")], rechain=True)
@example(changes=[("earlier", i, 5) for i in range(20, 24)], edits=[], rechain=True)
def test_a_line_taken_from_its_text_reports_what_reading_it_as_json_reports(
    tmp_path_factory, changes, edits, rechain
):
    signer = NoteSigner.generate(ORIGIN)
    bundle = export(sample_ledger(signer), signer, tmp_path_factory.mktemp("b") / "b")
    lines = [json.loads(line) for line in (bundle / "entries.jsonl").read_text().splitlines()]
    for kind, at, other in changes:
        tamper(lines, kind, at, other)
    write(bundle, lines, edits, rechain)

    expected = read_as_json_only(bundle, signer)
    for run_bytes in (1, 1000, 2**30):
        assert findings(bundle, signer, workers=0, run_bytes=run_bytes) == expected


def test_an_exported_bundle_is_read_parsing_only_the_first_line_of_each_run(tmp_path, monkeypatch):
    """A run's first line is read as JSON: its chain hash goes on from the run before."""
    signer = NoteSigner.generate(ORIGIN)
    bundle = export(sample_ledger(signer), signer, tmp_path / "b")
    texts = (bundle / "entries.jsonl").read_bytes().splitlines()
    parsed: list[bytes] = []
    from_json = Record.from_json
    monkeypatch.setattr(Record, "from_json", lambda line: parsed.append(line) or from_json(line))

    for run_bytes, firsts in ((2**30, [0]), (cut_before(bundle, 20), [0, 20])):
        parsed.clear()
        report = verify_bundle(
            bundle, [NoteVerifier.from_vkey(signer.vkey())], workers=0, run_bytes=run_bytes
        )
        assert report.ok, [str(f) for f in report.failures]
        assert report.entries == SIZE
        assert parsed == [texts[line] for line in firsts]


def cut_before(bundle: Path, line: int) -> int:
    """``run_bytes`` that makes the second run of two start at ``line`` (0-based)."""
    texts = (bundle / "entries.jsonl").read_bytes().splitlines(keepends=True)
    return sum(map(len, texts[:line])) - 1


def test_failures_beside_the_cut_between_two_processes_are_named_exactly(tmp_path):
    """Two workers, the second run starting at line 20; five streams, so entries 15..19 are the
    last of each stream in the first run and 20..24 the first in the second."""
    signer = NoteSigner.generate(ORIGIN)
    bundle = export(sample_ledger(signer), signer, tmp_path / "b")
    lines = [json.loads(line) for line in (bundle / "entries.jsonl").read_text().splitlines()]
    good = {i: dict(line, entry=dict(line["entry"])) for i, line in enumerate(lines)}
    lines[19]["chain_hash"] = lines[18]["chain_hash"]  # last of the first run
    lines[20]["entry"]["stream_prev"] = lines[14]["leaf_hash"]  # first of the second run
    lines[22], lines[23] = lines[23], lines[22]  # reordered in the second run
    write(
        bundle,
        lines,
        [("state byte", 18, "nothing"), ("space", 21, "nothing"), ("escaped topic", 26, "nothing")],
    )
    run_bytes = cut_before(bundle, 20)

    report = verify_bundle(
        bundle, [NoteVerifier.from_vkey(signer.vkey())], workers=2, run_bytes=run_bytes
    )
    found = [(f.index, f.check, f.expected, f.found) for f in report.failures]
    # The state whose byte changed, by its hash; the chain hash copied from line 18.
    assert found[0][:3] == (18, "state-hash", good[18]["entry"]["state_sha256"])
    assert found[0][3] != good[18]["entry"]["state_sha256"]
    assert found[1] == (19, "chain", good[19]["chain_hash"], good[18]["chain_hash"])
    # The first entry of a stream in the second run, linked to the wrong leaf.
    assert (20, "stream-link", good[15]["leaf_hash"], good[14]["leaf_hash"]) in found
    assert (22, "dense-index", 22, 23) in found
    # Lines 21 and 26 are valid, though not in the export's layout.
    assert not [f for f in found if f[0] in (21, 26)]
    expected = read_as_json_only(bundle, signer)
    assert [str(f) for f in report.failures] == expected[:-1]
    for workers, cut in ((0, run_bytes), (2, cut_before(bundle, 21)), (2, 2**30)):
        assert findings(bundle, signer, workers=workers, run_bytes=cut) == expected
