"""Checking evidence offline: receipts for a set of entries, with their stored states.

Audit reconstructions and accountability reports hand out, for what they claim, the entries
it rests on, each with a receipt and its state bytes. This checks them with nothing but the
verifier keys: every receipt verifies, all under one checkpoint, every state matches its
entry's ``state_sha256``, and, for one record, the entries are its whole stream so far (the
stream links close, and any entry after the cut-off links on from the last one).

``python -m ledger.evidence FILE --vkey KEYS`` checks a reconstruction or a report's JSON
and exits like ``python -m ledger verify``: 0 it holds, 1 a check failed, 2 unreadable.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.command_line import UNREADABLE, load_trust, run_verification
from ledger.entry import Entry
from ledger.errors import MalformedInput, ReceiptMismatch, StateHashMismatch, StreamLinkBroken
from ledger.note import NoteVerifier
from ledger.receipt import verify_receipt
from ledger.verify import Report

RECONSTRUCTION = "a reconstruction"
REPORT = "an accountability report's evidence"


def verify_evidence(
    receipts: Mapping[int, str],
    states: Mapping[int, bytes],
    verifiers: Sequence[NoteVerifier],
) -> tuple[list[Entry], Checkpoint]:
    """The proven entries, in index order, and the one checkpoint they are proven under."""
    entries: list[Entry] = []
    checkpoint: Checkpoint | None = None
    for index in sorted(receipts):
        entry, under = verify_receipt(receipts[index], verifiers)
        if entry.index != index:
            raise ReceiptMismatch(
                "the receipt proves another entry", index=index, expected=index, found=entry.index
            )
        if checkpoint is not None and under != checkpoint:
            raise ReceiptMismatch(
                "receipts under different checkpoints",
                index=index,
                expected=checkpoint.size,
                found=under.size,
            )
        checkpoint = under
        if index in states:
            found = hashlib.sha256(states[index]).hexdigest()
            if found != entry.state_sha256:
                raise StateHashMismatch(
                    "state differs from its entry",
                    index=index,
                    expected=entry.state_sha256,
                    found=found,
                )
        entries.append(entry)
    if checkpoint is None:
        raise ReceiptMismatch("no receipts", index=None, expected=None, found=None)
    return entries, checkpoint


def verify_whole_stream(entries: Sequence[Entry], following: Entry | None) -> None:
    """``entries`` are one stream from its first entry with none left out; ``following``, the
    stream's next entry after them if there is one, shows where the stream went on."""
    previous: Entry | None = None
    for entry in [*entries, *([following] if following else [])]:
        expected_prev = None if previous is None else previous.leaf_hash().hex()
        expected_seq = 1 if previous is None else previous.stream_seq + 1
        if previous is not None and entry.stream != previous.stream:
            raise StreamLinkBroken(
                "entry of another stream",
                index=entry.index,
                expected=previous.stream,
                found=entry.stream,
            )
        if entry.stream_prev != expected_prev or entry.stream_seq != expected_seq:
            raise StreamLinkBroken(
                "the stream has a gap or a fork here",
                index=entry.index,
                expected=expected_prev,
                found=entry.stream_prev,
            )
        previous = entry


def evidence_kind(document: object) -> str | None:
    """What a JSON document is, by its members: a reconstruction, a report, or neither."""
    if not isinstance(document, dict):
        return None
    if {"projection", "as_of_index", "entries", "checkpoint"} <= document.keys():
        return RECONSTRUCTION
    if {"sections", "evidence", "checkpoint"} <= document.keys():
        return REPORT
    return None


def verify_evidence_document(document: object, verifiers: Sequence[NoteVerifier]) -> Report:
    """Every receipt of a reconstruction or a report, under the document's own checkpoint;
    a record's reconstruction is, besides, its whole stream up to the cut-off."""
    kind = evidence_kind(document)
    if kind is None or not isinstance(document, dict):
        raise MalformedInput("neither a reconstruction nor a report (JSON with its evidence)")
    if not isinstance(document["checkpoint"], str):
        raise MalformedInput("the checkpoint is not a signed note")
    checkpoint = open_checkpoint(document["checkpoint"], verifiers)
    following: Any = None
    try:
        if kind == RECONSTRUCTION:
            items = list(document["entries"])
            receipts = {int(e["index"]): str(e["receipt"]) for e in items}
            states = {
                int(e["index"]): base64.b64decode(e["state"], validate=True)
                for e in items
                if e["state"] is not None
            }
            following = document.get("following_entry")
            upto = int(document["as_of_index"])
        else:
            receipts = {int(i): str(e["receipt"]) for i, e in dict(document["evidence"]).items()}
            states, upto = {}, checkpoint.size - 1
    except (KeyError, TypeError, ValueError, binascii.Error) as e:
        raise MalformedInput(f"{kind} without its evidence in the expected form: {e}") from None
    report = Report(origin=checkpoint.origin, checkpoints=1, newest=checkpoint, found=kind)
    if not receipts:
        return report  # nothing cited: the signed checkpoint is all there is to check
    entries, under = verify_evidence(receipts, states, verifiers)
    if under != checkpoint:
        raise ReceiptMismatch(
            "receipts under another checkpoint than the document's",
            index=None,
            expected=checkpoint.size,
            found=under.size,
        )
    if entries[-1].index > upto:
        raise ReceiptMismatch(
            "evidence after the cut-off", index=entries[-1].index, expected=upto, found=None
        )
    if kind == RECONSTRUCTION and document.get("record") is not None:
        after = None
        if following is not None:
            proven, _ = verify_evidence(
                {int(following["index"]): str(following["receipt"])}, {}, verifiers
            )
            after = proven[0]
        verify_whole_stream(entries, after)
    report.first_index, report.last_index = entries[0].index, entries[-1].index
    report.entries = report.receipts = len(entries)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ledger.evidence",
        description="check a reconstruction or a report's evidence (JSON) offline",
    )
    parser.add_argument("path", type=Path, help="the reconstruction's or the report's JSON")
    parser.add_argument("--vkey", type=Path, required=True, help="trusted verifier keys")
    parser.add_argument("--checkpoint", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    trust = load_trust(args)
    if trust is None:
        return UNREADABLE

    def check() -> Report:
        try:
            document = json.loads(args.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise MalformedInput(f"{args.path} is not readable JSON: {e}") from None
        return verify_evidence_document(document, trust.verifiers)

    return run_verification(check)


if __name__ == "__main__":
    sys.exit(main())
