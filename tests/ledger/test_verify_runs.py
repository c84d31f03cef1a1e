"""A bundle checked in runs, by two processes, reports exactly what one pass reports.

The verifier reads entries.jsonl in runs and links them afterwards (ledger.verify._Join);
whatever the tampering, the findings must not depend on where the runs are cut.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger.bundle as bundle_module
from ledger.errors import MalformedInput
from ledger.note import NoteSigner, NoteVerifier
from ledger.verify import verify_bundle
from tests.ledger.test_bundles import SIZE, export, sample_ledger

ORIGIN = "ledger.leusden.nl/bewijslast"


def findings(path: Path, signer, **kwargs) -> list[str]:
    try:
        report = verify_bundle(path, [NoteVerifier.from_vkey(signer.vkey())], **kwargs)
    except MalformedInput as e:
        return [f"unreadable: {e}"]
    return [str(failure) for failure in report.failures] + [f"entries {report.entries}"]


# What an attacker or a broken copy can do to a line of entries.jsonl.
def tamper(lines: list[dict], kind: str, at: int, other: int) -> None:
    entry = lines[at]["entry"]
    if kind == "state":
        lines[at]["state"] = "eA=="
    elif kind == "delete":
        lines.pop(at)
    elif kind == "swap":
        lines[at], lines[other] = lines[other], lines[at]
    elif kind == "duplicate":
        lines.insert(at, dict(lines[other]))
    elif kind == "prev":
        entry["stream_prev"] = lines[other]["leaf_hash"]
    elif kind == "unlinked":
        entry["stream_prev"] = None
    elif kind == "seq":
        entry["stream_seq"] += other - at
    elif kind == "earlier":
        entry["recorded_at"] = lines[other]["entry"]["recorded_at"]
    elif kind == "chain":
        lines[at]["chain_hash"] = lines[other]["chain_hash"]
    elif kind == "index":
        entry["index"] = other


def tamper_bundle(bundle: Path, changes: list[tuple[str, int, int]]) -> None:
    path = bundle / "entries.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for kind, at, other in changes:
        tamper(lines, kind, at, other)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


KINDS = [
    "state",
    "delete",
    "swap",
    "duplicate",
    "prev",
    "unlinked",
    "seq",
    "earlier",
    "chain",
    "index",
]
tamperings = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, SIZE - 3),
        st.integers(0, SIZE - 3),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=tamperings)
def test_the_findings_do_not_depend_on_where_the_runs_are_cut(tmp_path_factory, changes):
    signer = NoteSigner.generate(ORIGIN)
    bundle = export(sample_ledger(signer), signer, tmp_path_factory.mktemp("b") / "b")
    tamper_bundle(bundle, changes)

    whole = findings(bundle, signer, workers=0, run_bytes=2**30)
    for run_bytes in (1, 300, 1000, 4000):
        assert findings(bundle, signer, workers=0, run_bytes=run_bytes) == whole


@pytest.mark.parametrize("read_bytes", [1, 90, 1000, 5000])
def test_the_findings_do_not_depend_on_how_much_of_a_run_is_read_at_a_time(
    tmp_path, monkeypatch, read_bytes
):
    """A run is read in blocks of whole lines (ledger.bundle.READ_BYTES, then to the line's
    end): a line longer than a block, or one cut anywhere, is still read whole, once."""
    signer = NoteSigner.generate(ORIGIN)
    bundle = export(sample_ledger(signer), signer, tmp_path / "b")
    tamper_bundle(bundle, [("state", 5, 0), ("swap", 17, 18), ("earlier", 30, 2)])
    whole = findings(bundle, signer, workers=0, run_bytes=2**30)
    assert len(whole) > 3

    monkeypatch.setattr(bundle_module, "READ_BYTES", read_bytes)
    for run_bytes in (700, 2**30):
        assert findings(bundle, signer, workers=0, run_bytes=run_bytes) == whole


def test_two_processes_report_what_one_pass_reports_for_a_folder_and_a_zip(tmp_path):
    signer = NoteSigner.generate(ORIGIN)
    bundle = export(sample_ledger(signer), signer, tmp_path / "b")
    tamper_bundle(bundle, [("earlier", 30, 2), ("prev", 12, 3), ("delete", 20, 0)])
    zipped = tmp_path / "b.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for file in bundle.rglob("*"):
            if file.is_file():
                archive.write(file, file.relative_to(bundle).as_posix())

    whole = findings(bundle, signer, workers=0, run_bytes=2**30)
    assert "recorded-at" in " ".join(whole)
    assert "stream-link" in " ".join(whole)
    assert findings(bundle, signer, workers=2, run_bytes=500) == whole
    assert findings(zipped, signer, workers=2, run_bytes=500) == whole


@pytest.mark.parametrize(("before", "number"), [("", 27), ("\r", 28)])
def test_an_unreadable_line_is_named_by_its_number_in_the_whole_file(tmp_path, before, number):
    """Lines are counted as bytes.splitlines counts them: a carriage return ends one."""
    signer = NoteSigner.generate(ORIGIN)
    bundle = export(sample_ledger(signer), signer, tmp_path / "b")
    path = bundle / "entries.jsonl"
    lines = path.read_text().splitlines()
    lines[20] = before + lines[20]
    lines[26] = lines[26][:-5]
    path.write_text("\n".join(lines) + "\n")
    for workers, run_bytes in ((0, 2**30), (0, 700), (2, 700)):
        with pytest.raises(MalformedInput, match=f"entries.jsonl line {number}:"):
            verify_bundle(
                bundle,
                [NoteVerifier.from_vkey(signer.vkey())],
                workers=workers,
                run_bytes=run_bytes,
            )
