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
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import MalformedInput, VerificationFailure
from ledger.evidence import verify_evidence_document
from ledger.note import NoteVerifier
from ledger.receipt import HEADER as RECEIPT_HEADER
from ledger.verify import Report, format_report, verify_bundle, verify_receipt_file
from ledger.witness import WitnessPolicy

OK, FAILED, UNREADABLE = 0, 1, 2


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


def run_verification(check: Callable[[], Report]) -> int:
    """Run a verification, print its report, and return the exit status of LEDGER.md 6."""
    try:
        report = check()
    except MalformedInput as e:
        print(f"cannot read the input: {e}", file=sys.stderr)
        return UNREADABLE
    except VerificationFailure as failure:
        print(f"FAILED: {failure}")
        return FAILED
    print(format_report(report))
    return OK if report.ok else FAILED


def read_verifiers(path: Path) -> list[NoteVerifier]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [NoteVerifier.from_vkey(line) for line in lines if line.strip()]


def add_verify_arguments(parser: argparse.ArgumentParser, *, path_required: bool = True) -> None:
    parser.add_argument(
        "path",
        type=Path,
        nargs=None if path_required else "?",
        help="a bundle (a directory or a zip), a receipt, or a reconstruction's or report's JSON",
    )
    parser.add_argument("--vkey", type=Path, required=True, help="trusted verifier keys")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        default=[],
        help="a signed checkpoint kept elsewhere, to catch truncation and forks",
    )
    parser.add_argument(
        "--witness-vkey",
        type=Path,
        action="append",
        default=[],
        help="a witness's verifier key (repeatable): its cosignatures count for the policy",
    )
    parser.add_argument(
        "--min-witnesses",
        type=int,
        metavar="K",
        help="cosignatures of distinct listed witnesses the newest checkpoint needs "
        "(default 1 when witness keys are given)",
    )


@dataclass(frozen=True)
class Trust:
    verifiers: list[NoteVerifier]
    extra_checkpoints: list[str]
    policy: WitnessPolicy | None


def load_trust(args: argparse.Namespace) -> Trust | None:
    """The keys, extra checkpoints and witness policy of the command line; None if
    unreadable."""
    try:
        # python -m ledger.evidence asks for no witness policy.
        witness_vkeys = getattr(args, "witness_vkey", [])
        witnesses = [w for path in witness_vkeys for w in read_verifiers(path)]
        minimum = getattr(args, "min_witnesses", None)
        if minimum is None:
            minimum = 1 if witnesses else 0
        policy = WitnessPolicy(witnesses, minimum) if witnesses or minimum else None
        return Trust(
            read_verifiers(args.vkey),
            [p.read_text(encoding="utf-8") for p in args.checkpoint],
            policy,
        )
    except (OSError, MalformedInput) as e:
        print(f"cannot read the keys or checkpoints: {e}", file=sys.stderr)
        return None


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
