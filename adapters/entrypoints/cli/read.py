"""The ``bewijslast`` commands that read: the report, audit reconstruction, register exports."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from adapters.bootstrap import open_application, signer_of
from adapters.config import Settings
from adapters.persistence.stores import ledger_of
from adapters.services.accountability_report import Report, build_report, render_html, report_at
from adapters.services.projection_runner import ReadModelRunner
from adapters.services.receipts import checkpoint_size
from adapters.services.reconstruction import events_upto, index_at, reconstruct, replayed
from domain.application import Bewijslast
from domain.organisation import RegisterContacts
from domain.reporting import ReportKind
from ledger.errors import MalformedInput
from projections.base import ReadModel
from projections.catalogue import all_projections
from projections.register import (
    ProcessingRegister,
    current_register,
    published,
    register_as_of,
    vng_csv,
)
from projections.report import Period


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"written to {out}", file=sys.stderr)


def _projection(name: str) -> ReadModel:
    found = {p.name: p for p in all_projections()}
    if name not in found:
        raise MalformedInput(f"no read model {name!r}; there are: {', '.join(found)}")
    return found[name]


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    app = open_application(settings)
    app.check_owner(args.municipality, args.controller)
    if args.to < args.from_:
        raise MalformedInput("the period ends before it starts")
    period = Period(args.from_, args.to)
    sent: dict[str, Any] = {}
    if args.kind is None:
        report = build_report(
            app, args.municipality, args.controller, period, sign=signer_of(settings, app)
        )
    else:
        report, sent = _report_to_send(app, settings, args, period)
    if args.format == "json":
        text = json.dumps(report.to_json() | sent, indent=2, ensure_ascii=False) + "\n"
    else:
        text = render_html(report, args.lang)
    _write(text, args.out)
    return 0


def _report_to_send(
    app: Bewijslast, settings: Settings, args: argparse.Namespace, period: Period
) -> tuple[Report, dict[str, Any]]:
    """A report of a reporting duty, built at a signed checkpoint (a fresh one by default),
    with what its recording as sent names: the checkpoint's size and the report's digest."""
    kind = REPORT_KINDS[args.kind]
    size = args.checkpoint
    if size is None:
        sign = signer_of(settings, app)
        if sign is None:
            raise MalformedInput("no signing key: give --checkpoint, the size of a signed one")
        size = checkpoint_size(sign())
    found = report_at(app, kind, args.municipality, args.controller, period, size)
    if found is None:
        raise MalformedInput(f"no signed checkpoint has size {size}")
    report, digest = found
    print(f"checkpoint_size {size} report_digest {digest}", file=sys.stderr)
    return report, {"kind": kind.value, "checkpoint_size": size, "report_digest": digest}


# The reporting duties by the names the command line gives them.
REPORT_KINDS = {
    "fg-annual-report": ReportKind.FG_ANNUAL_REPORT,
    "breach-register-evaluation": ReportKind.BREACH_REGISTER_EVALUATION,
    "ciso-quarterly-report": ReportKind.CISO_QUARTERLY_REPORT,
}


def cmd_reconstruct(args: argparse.Namespace, settings: Settings) -> int:
    app = open_application(settings)
    if args.index is None and args.as_recorded_at is None and args.as_of is None:
        raise MalformedInput("give --as-of, --as-recorded-at or --index")
    rebuilt = reconstruct(
        app,
        _projection(args.projection),
        upto=_cut_off(app, args),
        record=args.record,
        as_of=args.as_of,
        sign=signer_of(settings, app),
    )
    _write(json.dumps(rebuilt.to_json(), indent=2, ensure_ascii=False) + "\n", args.out)
    return 0


def _cut_off(app: Bewijslast, args: argparse.Namespace) -> int:
    """The last ledger index to take in: ``--index``, the last recorded at
    ``--as-recorded-at``, or the whole ledger."""
    ledger = ledger_of(app)
    if args.index is not None:
        return int(args.index)
    if args.as_recorded_at is None:
        return ledger.ledger_size() - 1
    upto = index_at(ledger, args.as_recorded_at)
    if upto < 0:
        raise MalformedInput("the ledger held nothing yet at that moment (as recorded)")
    return upto


def cmd_register(args: argparse.Namespace, settings: Settings) -> int:
    app = open_application(settings)
    app.check_owner(args.municipality)
    register = ProcessingRegister()
    if args.as_recorded_at is None:
        runner = ReadModelRunner(app, [register])
        runner.catch_up(register)
        with runner.db.transaction() as cursor:
            text = _register_text(args, cursor, app.register_contacts(args.municipality))
    else:
        # What the ledger knew then: the register replayed from the entries recorded by then.
        args.index = None
        events = events_upto(app, register, _cut_off(app, args))
        contacts = app.register_contacts(args.municipality)
        text = _register_text(args, replayed(register, events), contacts)
    _write(text, args.out)
    return 0


def _register_text(args: argparse.Namespace, cursor: Any, contacts: RegisterContacts) -> str:
    town = args.municipality
    if args.as_of is not None:
        rows = register_as_of(cursor, town, args.as_of)
    else:
        rows = current_register(cursor, town)
    if args.format == "vng":
        return vng_csv(rows, contacts)
    return json.dumps(published(rows, contacts), indent=2, ensure_ascii=False) + "\n"


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            "give the moment with its offset, e.g. 2026-03-01T12:00+01:00"
        )
    return moment


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    report = commands.add_parser(
        "report", parents=[common], help="the accountability report of a controller and period"
    )
    report.add_argument("--municipality", required=True)
    report.add_argument(
        "--controller", required=True, help="e.g. 'college van burgemeester en wethouders'"
    )
    report.add_argument(
        "--from", dest="from_", type=date.fromisoformat, required=True, metavar="DATE"
    )
    report.add_argument(
        "--to", type=date.fromisoformat, required=True, metavar="DATE", help="inclusive"
    )
    report.add_argument("--format", choices=["html", "json"], default="html")
    report.add_argument("--lang", choices=["nl", "en"], default="nl")
    report.add_argument("--out", type=Path)
    report.add_argument(
        "--kind",
        choices=sorted(REPORT_KINDS),
        help="a reporting duty's report, as it is to be sent: its checkpoint size and digest "
        "are printed, to record it as sent",
    )
    report.add_argument(
        "--checkpoint",
        type=int,
        metavar="SIZE",
        help="with --kind: build it at this signed checkpoint (default: sign one now)",
    )
    report.set_defaults(run=cmd_report)

    rebuild = commands.add_parser(
        "reconstruct",
        parents=[common],
        help="a record or a register as of a ledger index or a moment, with receipts",
    )
    rebuild.add_argument("projection", help="e.g. incident_register, processing_register")
    rebuild.add_argument("--record", help="one record's id (default: the whole register)")
    _two_times(rebuild, with_index=True)
    rebuild.add_argument("--out", type=Path)
    rebuild.set_defaults(run=cmd_reconstruct)

    export = commands.add_parser(
        "register", parents=[common], help="export the register of processing activities"
    )
    export.add_argument("--municipality", required=True)
    export.add_argument(
        "--format",
        choices=["public", "vng"],
        default="public",
        help="public: JSON for publication; vng: CSV in the VNG/IBD model register's columns",
    )
    _two_times(export, with_index=False)
    export.add_argument("--out", type=Path)
    export.set_defaults(run=cmd_register)


def _two_times(parser: argparse.ArgumentParser, *, with_index: bool) -> None:
    """Every entry has two times (stated: when it happened; recorded: when the ledger learnt
    it), so a question "as it stood then" has two forms, which may be combined."""
    recorded = parser.add_mutually_exclusive_group()
    if with_index:
        recorded.add_argument(
            "--index", type=int, help="the last ledger index to take into account"
        )
    recorded.add_argument(
        "--as-recorded-at",
        "--at",
        dest="as_recorded_at",
        type=_moment,
        metavar="MOMENT",
        help="what the ledger knew then: only entries recorded by then (ISO 8601 with offset)",
    )
    parser.add_argument(
        "--as-of",
        type=_moment,
        metavar="MOMENT",
        help="what was in force then, by stated time (ISO 8601 with offset)",
    )
