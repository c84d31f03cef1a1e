"""``bewijslast retention``: run the destruction of what is due (Selectielijst), and list what
is due, held and destroyed, as the FG's oversight does."""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
from typing import Any

from adapters.bootstrap import open_application
from adapters.config import Settings
from adapters.persistence.personal_data import opened
from adapters.services.projection_runner import ReadModelRunner
from adapters.services.retention import retention_actor, run_retention
from domain.errors import NotConfigured
from projections.retention import (
    RetentionRegister,
    retention_destroyed,
    retention_due,
    retention_held,
)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    app = open_application(settings)
    name = f"bewijslast retention run ({getpass.getuser()}@{socket.gethostname()})"
    run = run_retention(app, args.municipality, retention_actor(name, args.municipality))
    if run is None:
        print(f"nothing is due for destruction in {args.municipality} today")
        return 0
    print(
        json.dumps({"run": str(run), "destroyed": app.repository.get(run).destroyed}, default=str)
    )
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    app = open_application(settings)
    if app.retention is None:
        raise NotConfigured("no master key is configured: retention needs the key store")
    runner = ReadModelRunner(app, [RetentionRegister()])
    runner.catch_up_all()
    towns = [args.municipality]
    with runner.db.transaction() as cursor:
        found: list[dict[str, Any]]
        if args.what == "due":
            found = retention_due(cursor, towns, app.clock(), app.retention)
        elif args.what == "held":
            found = retention_held(cursor, towns, app.retention)
        else:
            found = retention_destroyed(cursor, towns)
    json.dump(opened(app, found), sys.stdout, indent=2, ensure_ascii=False, default=str)
    print()
    return 0


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    retention = commands.add_parser(
        "retention", help="destruction at the end of the retention period (Selectielijst 2020)"
    ).add_subparsers(dest="retention_command", required=True)
    run = retention.add_parser(
        "run", parents=[common], help="destroy what is due today and record it in the ledger"
    )
    run.add_argument("--municipality", required=True)
    run.set_defaults(run=cmd_run)
    for what, text in (
        ("due", "records whose retention period has ended and no legal hold keeps"),
        ("held", "records under a legal hold"),
        ("destroyed", "records destroyed, under which category and run"),
    ):
        listing = retention.add_parser(what, parents=[common], help=text)
        listing.add_argument("--municipality", required=True)
        listing.set_defaults(run=cmd_list, what=what)
