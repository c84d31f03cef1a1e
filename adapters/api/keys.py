"""API keys: created and revoked with the CLI, stored as SHA-256 of the secret only.

A token reads ``bwl_<key id>_<secret>``: the key id finds the row, the secret is compared
in constant time with its stored hash. 32 random bytes need no slow hash: nobody can guess
them, and the hash keeps a copy of the table from being a copy of the keys.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.persistence.schema import API_KEYS, migrate
from adapters.sqldb import Database
from domain.authorization import DEPLOYMENT, Actor, Grant, Role
from domain.labels import parse_role

PREFIX = "bwl"
OIDC_ACTORS = "oidc:"  # the namespace of actors from OIDC tokens, never an API key's


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    actor: Actor
    created_at: str
    revoked_at: str | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeys:
    def __init__(self, datastore: Any) -> None:
        self.db = Database(datastore)
        with self.db.transaction() as cursor:
            migrate(API_KEYS, cursor)

    def create(self, actor: Actor) -> str:
        """A new key for ``actor``; the token is shown once and never stored."""
        if actor.id.startswith(OIDC_ACTORS):
            raise ValueError(f"actor ids starting with {OIDC_ACTORS!r} are those of OIDC tokens")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        grants = [
            {"role": g.role.value, "municipality": g.municipality, "controller": g.controller}
            for g in sorted(actor.grants, key=lambda g: (g.municipality, g.role.value))
        ]
        with self.db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO api_keys (key_id, secret_sha256, actor, grants, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key_id, _digest(secret), actor.id, json.dumps(grants), _now()),
            )
        return f"{PREFIX}_{key_id}_{secret}"

    def revoke(self, key_id: str) -> bool:
        with self.db.transaction() as cursor:
            cursor.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (_now(), key_id),
            )
            return bool(cursor.rowcount)

    def all(self) -> list[ApiKey]:
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT key_id, actor, grants, created_at, revoked_at FROM api_keys "
                "ORDER BY created_at"
            )
            return [_key(row) for row in cursor.fetchall()]

    def actor_for(self, token: str) -> Actor | None:
        """The actor of a valid, unrevoked token; None otherwise."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            return None
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT key_id, actor, grants, created_at, revoked_at, secret_sha256 "
                "FROM api_keys WHERE key_id = ?",
                (parts[1],),
            )
            row = cursor.fetchone()
        if row is None or row[4] is not None:
            return None
        if not hmac.compare_digest(row[5], _digest(parts[2])):
            return None
        return _key(row).actor


def _key(row: Any) -> ApiKey:
    grants = [
        Grant(Role(g["role"]), g["municipality"], g["controller"]) for g in json.loads(row[2])
    ]
    return ApiKey(row[0], Actor.with_grants(row[1], grants), row[3], row[4])


def _now() -> str:
    return datetime.now(UTC).isoformat()


def parse_grant(text: str) -> Grant:
    """``ROLE:MUNICIPALITY`` or ``ROLE:MUNICIPALITY:CONTROLLER`` (role by name or value)."""
    parts = text.split(":", 2)
    if len(parts) < 2:
        raise ValueError(f"grant {text!r} is not ROLE:MUNICIPALITY[:CONTROLLER]")
    role = parse_role(parts[0])
    if (parts[1] == DEPLOYMENT) != (role is Role.DEPLOYMENT_AUDITOR):
        raise ValueError(
            f"grant {text!r}: the whole deployment ({DEPLOYMENT}) is granted to "
            f"{Role.DEPLOYMENT_AUDITOR.name} only, and that role only there"
        )
    return Grant(role, parts[1], parts[2] if len(parts) == 3 else None)
