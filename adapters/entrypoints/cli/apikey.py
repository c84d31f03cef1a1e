"""``bewijslast apikey``: create, revoke, list."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from adapters.bootstrap import api_keys_of, open_application
from adapters.config import Settings
from adapters.persistence.api_keys import ApiKeys, parse_grant
from domain.application import Bewijslast
from domain.authorization import Actor, NotAuthorised, check_independence
from domain.labels import role_code


@contextmanager
def _keys(settings: Settings) -> Iterator[tuple[Bewijslast, ApiKeys]]:
    # Held until the keys are done with: a collected application closes its connections.
    app = open_application(settings)
    yield app, api_keys_of(app)


def cmd_apikey_create(args: argparse.Namespace, settings: Settings) -> int:
    try:
        grants = [parse_grant(g) for g in args.grant]
        check_independence(grants)
    except (ValueError, KeyError, NotAuthorised) as e:
        print(f"cannot do that: {e}")
        return 2
    with _keys(settings) as (app, keys):
        for grant in grants:
            app.check_owner(grant.municipality, grant.controller)
        token = keys.create(Actor.with_grants(args.actor, grants))
    print(token)  # shown once: only its hash is stored
    return 0


def cmd_apikey_revoke(args: argparse.Namespace, settings: Settings) -> int:
    with _keys(settings) as (_, keys):
        revoked = keys.revoke(args.key_id)
    if not revoked:
        print(f"no active key {args.key_id}")
        return 1
    print(f"revoked {args.key_id}")
    return 0


def cmd_apikey_list(args: argparse.Namespace, settings: Settings) -> int:
    with _keys(settings) as (_, keys):
        listed = keys.all()
    for key in listed:
        grants = ", ".join(
            f"{role_code(g.role)}:{g.municipality}" + (f":{g.controller}" if g.controller else "")
            for g in sorted(key.actor.grants, key=lambda g: (g.municipality, g.role.name))
        )
        state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
        print(f"{key.key_id}  {key.actor.id}  {state}  {grants}")
    return 0


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    apikey = commands.add_parser("apikey", help="API keys").add_subparsers(
        dest="apikey_command", required=True
    )
    create = apikey.add_parser("create", parents=[common], help="a new key; printed once")
    create.add_argument("--actor", required=True, help="who uses it, e.g. fg@leusden.nl")
    create.add_argument(
        "--grant",
        action="append",
        required=True,
        metavar="ROLE:MUNICIPALITY[:CONTROLLER]",
        help="e.g. FG:Leusden or PRIVACY_OFFICER:Putten (repeatable)",
    )
    create.set_defaults(run=cmd_apikey_create)
    revoke = apikey.add_parser("revoke", parents=[common], help="refuse a key from now on")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=cmd_apikey_revoke)
    listing = apikey.add_parser("list", parents=[common], help="keys, without their secrets")
    listing.set_defaults(run=cmd_apikey_list)
