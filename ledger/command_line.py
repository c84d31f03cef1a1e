"""The verifier's command line, shared by ``python -m ledger``, ``python -m ledger.evidence``
and ``bewijslast verify``: the trusted keys and policy it reads, and the exit status of
LEDGER.md section 6 (0 everything holds, 1 a check failed, 2 the input cannot be read).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import MalformedInput, VerificationFailure
from ledger.note import NoteVerifier
from ledger.verify import Report, format_report
from ledger.witness import WitnessPolicy

OK, FAILED, UNREADABLE = 0, 1, 2


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
