"""The ``bewijslast`` command: operators and auditors script against it.

Settings come from ``bewijslast.toml`` in the working directory (``bewijslast init`` writes
it; BEWIJSLAST_CONFIG names another), the environment over it (BEWIJSLAST_DATABASE_URL,
BEWIJSLAST_ORIGIN, BEWIJSLAST_SIGNING_KEY_FILE, BEWIJSLAST_MASTER_KEY_FILE), and
``--database URL`` over both.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import shutil
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from adapters.bootstrap import (
    checkpointer_for,
    master_key_advice,
    open_application,
    signer_of,
    signing_key,
)
from adapters.config import (
    ConfigurationError,
    Settings,
    config_file_from,
    not_configured,
    redact,
    sqlite_file,
    write_config,
)
from adapters.demo import NEXT_COMMANDS, ORGANISATION, record_demo
from adapters.entrypoints import serve
from adapters.entrypoints.cli import apikey, read, relay, retention
from adapters.persistence.key_files import key_files_of
from adapters.persistence.postgres import (
    LedgerPostgresApplicationRecorder,
    grant_application_role,
)
from adapters.persistence.stores import ledger_of, recorder_of
from adapters.persistence.subject_keys import MasterKey
from adapters.services.projection_runner import ProjectionFailed, ReadModelRunner
from adapters.services.receipts import checkpoint_for, checkpoint_size, prove
from adapters.signing_keys import generate_key_files
from adapters.witness import cli as witness_cli
from domain.organisation import DeclareOrganisation, UnknownOwner
from domain.personal_data import PersonalData
from ledger.__main__ import verify_path
from ledger.bundle import export_bundle
from ledger.command_line import add_verify_arguments, load_trust, run_verification
from ledger.errors import LedgerError, MalformedInput
from ledger.note import NoteVerifier
from ledger.verify import Report, format_report, verify_ledger
from projections.catalogue import all_projections


class Progress:
    """A counter on stderr, only when stderr is a terminal."""

    def __init__(self, what: str, total: int | None = None) -> None:
        self.what, self.total = what, total
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int) -> None:
        if self.enabled and (done % 10_000 == 0 or done == self.total):
            of = f"/{self.total}" if self.total else ""
            print(f"\r{self.what}: {done}{of}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


# --- commands --------------------------------------------------------------------------------


def cmd_keys_generate(args: argparse.Namespace, settings: Settings) -> int:
    key_file, vkey_file = generate_key_files(args.origin, args.out)
    print(f"private key: {key_file} (mode 600; keep it outside the database)")
    print(f"verifier key: {vkey_file}")
    print(vkey_file.read_text().strip())
    return 0


def cmd_keys_master(args: argparse.Namespace, settings: Settings) -> int:
    files = key_files_of(settings.database_url)
    if files is not None and files.count("subject_keys"):
        # Data is recorded: a new master key could open none of it.
        raise ConfigurationError(
            f"{_where(settings.database_url)} holds subject keys, wrapped by a master key already; "
            f"not making another. {master_key_advice(settings)}"
        )
    MasterKey.generate_file(args.out)
    print(f"master key: {args.out} (mode 600; set BEWIJSLAST_MASTER_KEY_FILE, keep it elsewhere)")
    return 0


def initialise(
    settings: Settings, config: Path, keys: Path, organisation: DeclareOrganisation | None
) -> Settings:
    """Write ``config`` with these settings, making the keys not configured yet in ``keys``."""
    if config.exists():
        raise ConfigurationError(f"{config} exists: edit it, or remove it to start afresh")
    if settings.signing_key_file is None:
        key_file = keys / "ledger.key"
        if not key_file.exists():
            generate_key_files(settings.origin, keys)
            print(f"made the ledger's signing key {key_file} (and {keys / 'ledger.vkey'})")
        settings = dataclasses.replace(settings, signing_key_file=key_file)
    if settings.master_key_file is None:
        master = keys / "master.key"
        if not master.exists():
            MasterKey.generate_file(master)
            print(f"made the master key {master}")
        settings = dataclasses.replace(settings, master_key_file=master)
    write_config(config, settings, organisation)
    print(f"wrote {config}: every bewijslast command run here reads it")
    return Settings.from_environ(database=settings.database_url, config_file=config)


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    initialise(settings, config_file_from(), args.keys, settings.organisation)
    return 0


def cmd_organisation(args: argparse.Namespace, settings: Settings) -> int:
    app = open_application(settings)
    if args.declare:
        if settings.organisation is None:
            raise ConfigurationError(
                f"{settings.config_file or config_file_from()} declares no organisation: "
                "add [[municipalities]] (name, controllers) and [fg] (name, contact, "
                "municipalities)"
            )
        added = app.declare_organisation(settings.organisation, operator=_operator())
        print(f"recorded {added} declarations from {settings.config_file}")
    organisation = app.organisation()
    if organisation is None:
        print(
            "no organisation declared: 'bewijslast organisation --declare' records the one "
            "in bewijslast.toml"
        )
        return 0 if not args.declare else 1
    for municipality, controllers in sorted(organisation.controllers.items()):
        print(municipality)
        for controller in controllers:
            print(f"  {controller}")
    if organisation.fg_name is not None:
        towns = ", ".join(organisation.fg_municipalities)
        name, contact = (
            value.value if isinstance(value, PersonalData) else str(value)
            for value in (organisation.fg_name, organisation.fg_contact)
        )
        print(f"FG (art. 37(7) AVG): {name} <{contact}>, for {towns}")
    return 0


def _operator() -> str:
    return f"operator:{getpass.getuser()}@{socket.gethostname()}"


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    if settings.config_file is None:
        settings = initialise(settings, config_file_from(), Path("keys"), ORGANISATION)
    app = open_application(settings)
    ledger = ledger_of(app)
    held = ledger.ledger_size()
    if held:
        print(
            f"the ledger in {_where(settings.database_url)} already holds {held} entries: the "
            "demo records only into an empty one (a second copy of its story would double every "
            "figure). Give --database with a new file, or run the demo in a fresh folder.",
            file=sys.stderr,
        )
        return 2
    recorded = record_demo(app)
    print(f"recorded {sum(recorded.values())} events in {settings.database_url}:")
    for kind, count in sorted(recorded.items()):
        print(f"  {count:4d}  {kind}")
    checkpoint, _ = checkpointer_for(settings, app).checkpoint()
    print(f"signed checkpoint {checkpoint.origin} at size {checkpoint.size}")
    signer = signing_key(settings)
    if signer is None:  # initialise() made one
        raise ConfigurationError("the demo needs a signing key")
    report = verify_ledger(
        ledger.records(0, checkpoint.size - 1),
        ledger.signed_checkpoints(),
        [NoteVerifier.from_vkey(signer.vkey())],
        origin=settings.origin,
        reaches_end=True,
    )
    print(format_report(report))
    print("\nnext, in this folder (the settings are in bewijslast.toml):")
    for line in NEXT_COMMANDS:
        print(f"  {line}")
    return 0 if report.ok else 1


def _where(database_url: str) -> str:
    """The database's file, or its URL without the password."""
    file = sqlite_file(database_url)
    return redact(database_url) if file is None else str(file.resolve())


def cmd_checkpoint(args: argparse.Namespace, settings: Settings) -> int:
    app = open_application(settings)
    checkpointer = checkpointer_for(settings, app)
    _, note = checkpointer.checkpoint()
    print(note, end="", flush=True)
    if args.every is None:
        return 0
    # Keep signing while entries are added, until stopped (Ctrl-C or SIGTERM).
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    checkpointer.start(interval=args.every)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        checkpointer.stop()
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    _empty_folder(args.out, force=args.force)
    app = open_application(settings)
    keys = [line for line in _vkeys(args, settings)]
    if settings.signing_key_file is not None:
        checkpointer_for(settings, app).checkpoint()
    last = args.to
    progress = Progress("exported")
    meta = export_bundle(
        ledger_of(app),
        args.out,
        origin=settings.origin,
        verifier_keys=keys,
        first=args.from_,
        last=last,
        with_state=not args.without_state,
        progress=progress,
    )
    progress.close()
    print(
        f"exported entries {meta['first_index']}..{meta['last_index']} "
        f"under checkpoint size {meta['tree_size']} to {args.out}"
    )
    return 0


def _empty_folder(out: Path, *, force: bool) -> None:
    """A bundle goes into an empty folder: proofs left from an earlier export beside it
    would read as part of it."""
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not force:
        raise MalformedInput(
            f"{out} is not empty: export into a new folder, or add --force to empty it first"
        )
    if out.resolve() in (Path.cwd(), *Path.cwd().parents):
        raise MalformedInput(f"{out} holds the working directory: --force will not empty it")
    for item in out.iterdir():
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()


def _vkeys(args: argparse.Namespace, settings: Settings) -> list[str]:
    signer = signing_key(settings)
    return [] if signer is None else [signer.vkey()]


def cmd_receipt(args: argparse.Namespace, settings: Settings) -> int:
    app = open_application(settings)
    ledger = ledger_of(app)
    size = ledger.ledger_size()
    if not 0 <= args.index < size:
        raise MalformedInput(f"index {args.index} is not in the ledger (size {size})")
    note = checkpoint_for(ledger, args.index, signer_of(settings, app))
    receipt = prove(ledger, [args.index], note)[args.index].receipt
    args.out.write_text(receipt.format(), encoding="utf-8")
    print(
        f"receipt for entry {args.index} under checkpoint size {checkpoint_size(note)}: {args.out}"
    )
    return 0


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    trust = load_trust(args)
    if trust is None:
        return 2
    verifiers, extra = trust.verifiers, trust.extra_checkpoints
    progress = Progress("verified")
    if args.path is not None:
        status = run_verification(
            lambda: verify_path(
                args.path,
                verifiers,
                extra_checkpoints=extra,
                progress=progress,
                policy=trust.policy,
            )
        )
        progress.close()
        return status
    if args.database is None:
        print("verify needs a bundle, a receipt, or --database URL", file=sys.stderr)
        return 2
    if args.database.startswith("sqlite:") and not _sqlite_file_exists(args.database):
        print(f"cannot read the input: no database at {args.database}", file=sys.stderr)
        return 2
    app = open_application(settings)
    ledger = ledger_of(app)

    def check() -> Report:
        size = ledger.ledger_size()
        progress.total = size
        notes = [*ledger.signed_checkpoints(), *extra]
        return verify_ledger(
            ledger.records(0, size - 1),
            notes,
            verifiers,
            origin=settings.origin,
            reaches_end=True,
            progress=progress,
            policy=trust.policy,
        )

    status = run_verification(check)
    progress.close()
    return status


def _sqlite_file_exists(url: str) -> bool:
    file = sqlite_file(url)
    return file is not None and file.exists()


def cmd_project(args: argparse.Namespace, settings: Settings) -> int:
    app = open_application(settings)
    runner = ReadModelRunner(app, all_projections())
    names = {p.name: p for p in runner.projections}
    if args.rebuild is not None:
        chosen = list(names) if args.rebuild == "all" else [args.rebuild]
        unknown = [n for n in chosen if n not in names]
        if unknown:
            print(f"no projection {unknown[0]!r}; there are: {', '.join(names)}", file=sys.stderr)
            return 2
        for name in chosen:
            print(f"{name}: rebuilt from index 0, {runner.rebuild(names[name])} events")
        return 0
    for name, count in runner.catch_up_all().items():
        print(f"{name}: {count} new events, at position {runner.position(names[name])}")
    if args.follow:
        signal.signal(signal.SIGTERM, lambda *_: runner.stop())
        try:
            runner.run(interval=args.interval)
        except KeyboardInterrupt:
            runner.stop()
    return 0


def cmd_db_grant(args: argparse.Namespace, settings: Settings) -> int:
    # The owner makes the ledger tables only: a key store or key file table made here would be
    # the owner's, and the application role could not keep its subject keys in it.
    ledger_only = dataclasses.replace(settings, master_key_file=None, signing_key_file=None)
    app = open_application(ledger_only)
    recorder = recorder_of(app)
    if not isinstance(recorder, LedgerPostgresApplicationRecorder):
        raise ConfigurationError("db grant is for PostgreSQL: the database is a SQLite file")
    grant_application_role(recorder, args.role)
    print(f"role {args.role} may SELECT and INSERT on the ledger tables, nothing more")
    return 0


# --- parsing -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database", help="sqlite:///path or postgresql://... (overrides env)")
    parser = argparse.ArgumentParser(prog="bewijslast", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    keys = commands.add_parser("keys", help="signing keys").add_subparsers(
        dest="keys_command", required=True
    )
    generate = keys.add_parser("generate", parents=[common], help="make a new ledger key")
    generate.add_argument("--origin", required=True, help="e.g. ledger.bunschoten.nl/bewijslast")
    generate.add_argument("--out", type=Path, required=True)
    generate.set_defaults(run=cmd_keys_generate)
    master = keys.add_parser(
        "master", parents=[common], help="make the master key that wraps subject keys"
    )
    master.add_argument("--out", type=Path, required=True)
    master.set_defaults(run=cmd_keys_master)

    init = commands.add_parser(
        "init",
        parents=[common],
        help="write bewijslast.toml here (database, origin, key files), making missing keys",
    )
    init.add_argument("--keys", type=Path, default=Path("keys"), help="where new keys go")
    init.set_defaults(run=cmd_init)
    organisation = commands.add_parser(
        "organisation",
        parents=[common],
        help="the declared municipalities, their controllers and the FG",
    )
    organisation.add_argument(
        "--declare",
        action="store_true",
        help="first record what bewijslast.toml declares and the ledger does not know yet",
    )
    organisation.set_defaults(run=cmd_organisation)
    commands.add_parser(
        "demo",
        parents=[common],
        help="record a sample history into an empty ledger (runs init when there is no "
        "bewijslast.toml)",
    ).set_defaults(run=cmd_demo)
    checkpoint = commands.add_parser("checkpoint", parents=[common], help="sign a checkpoint")
    checkpoint.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="then keep signing at this interval while entries are added (at most 60)",
    )
    checkpoint.set_defaults(run=cmd_checkpoint)

    export = commands.add_parser("export", parents=[common], help="write an export bundle")
    export.add_argument("--out", type=Path, required=True, help="a directory, or a .zip")
    export.add_argument("--from", dest="from_", type=int, default=0, metavar="I")
    export.add_argument("--to", type=int, default=None, metavar="J")
    export.add_argument("--without-state", action="store_true", help="leave states out")
    export.add_argument(
        "--force", action="store_true", help="empty the --out folder first if it holds anything"
    )
    export.set_defaults(run=cmd_export)

    receipt = commands.add_parser("receipt", parents=[common], help="a receipt for one entry")
    receipt.add_argument("index", type=int)
    receipt.add_argument("--out", type=Path, required=True)
    receipt.set_defaults(run=cmd_receipt)

    verify = commands.add_parser("verify", parents=[common], help="verify a ledger")
    add_verify_arguments(verify, path_required=False)
    verify.set_defaults(run=cmd_verify)

    project = commands.add_parser("project", parents=[common], help="bring the read models up")
    project.add_argument("--rebuild", metavar="NAME|all", help="rebuild from index 0")
    project.add_argument("--follow", action="store_true", help="then keep following the ledger")
    project.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    project.set_defaults(run=cmd_project)

    db = commands.add_parser("db", help="database administration").add_subparsers(
        dest="db_command", required=True
    )
    grant = db.add_parser(
        "grant",
        parents=[common],
        help="give an application role INSERT and SELECT only (PostgreSQL)",
    )
    grant.add_argument("role")
    grant.set_defaults(run=cmd_db_grant)
    read.register(commands, common)
    apikey.register(commands, common)
    serve.register(commands, common)
    relay.register(commands, common)
    retention.register(commands, common)
    witness_cli.register(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace, Settings], int] = args.run
    try:
        settings = Settings.from_environ(
            database=getattr(args, "database", None), config_file=config_file_from()
        )
        return run(args, settings)
    except (MalformedInput, UnknownOwner) as e:
        print(f"cannot do that: {e}", file=sys.stderr)
        return 2
    except LedgerError as e:
        print(f"ledger problem: {e}", file=sys.stderr)
        return 1
    except Exception as e:
        missing = not_configured(e)
        if missing is not None:
            print(f"configuration: {missing}", file=sys.stderr)
            return 2
        if isinstance(e, ProjectionFailed):
            print(f"read models: {e}", file=sys.stderr)
            return 1
        raise
