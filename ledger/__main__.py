"""``python -m ledger verify PATH --vkey FILE``: the verifier on its own, for auditors.

PATH is an export bundle (a directory or a zip), a receipt (a tlog-proof file), or a
reconstruction's or a report's JSON with its evidence: recognised by content, whatever its name.
With ``--witness-vkey FILE`` (repeatable) and ``--min-witnesses K`` the newest checkpoint must
also carry K valid cosignatures of those witnesses (LEDGER.md section 7).
Exit status: 0 everything holds, 1 a check failed, 2 the input cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ledger.command_line import UNREADABLE, add_verify_arguments, load_trust, run_verification
from ledger.errors import MalformedInput
from ledger.evidence import verify_evidence_document
from ledger.note import NoteVerifier
from ledger.receipt import HEADER as RECEIPT_HEADER
from ledger.verify import Report, verify_bundle, verify_receipt_file
from ledger.witness import WitnessPolicy


def verify_path(
    path: Path,
    verifiers: Sequence[NoteVerifier],
    *,
    extra_checkpoints: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
    policy: WitnessPolicy | None = None,
) -> Report:
    """A bundle (directory or zip), a receipt, or a reconstruction's or report's JSON, told
    apart by what they hold: a file's name may have been changed on its way to the auditor."""
    if path.is_dir() or zipfile.is_zipfile(path):
        report = verify_bundle(
            path,
            verifiers,
            extra_checkpoints=extra_checkpoints,
            progress=progress,
            policy=policy,
        )
        report.found = "a bundle (a directory)" if path.is_dir() else "a bundle (a zip)"
        return report
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise MalformedInput(f"cannot read {path}: {e}") from None
    if text.startswith(RECEIPT_HEADER + "\n"):
        report = verify_receipt_file(text, verifiers, policy)
        report.found = "a receipt"
        return report
    try:
        document = json.loads(text)
    except ValueError:
        raise MalformedInput(
            f"{path} is neither a bundle (a directory or a zip), a receipt (it starts with "
            f"{RECEIPT_HEADER}) nor a reconstruction's or report's JSON"
        ) from None
    return verify_evidence_document(document, verifiers)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add_verify_arguments(
        commands.add_parser("verify", help="a bundle, a receipt, a reconstruction or a report")
    )
    args = parser.parse_args(argv)
    trust = load_trust(args)
    if trust is None:
        return UNREADABLE
    return run_verification(
        lambda: verify_path(
            args.path,
            trust.verifiers,
            extra_checkpoints=trust.extra_checkpoints,
            policy=trust.policy,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
