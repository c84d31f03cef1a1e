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

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from adapters.persistence.schema import API_KEYS, migrate
from adapters.persistence.sqldb import Database
from domain.authorization import DEPLOYMENT, Actor, Grant, Role, check_independence
from domain.labels import parse_role

INSERT = (
    "INSERT INTO api_keys (key_id, secret_sha256, actor, grants, created_at) VALUES (?, ?, ?, ?, ?)"
)
REVOKE = "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL"
_COLUMNS = "key_id, secret_sha256, actor, grants, created_at, revoked_at"
SELECT_ALL = f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at"
SELECT_ONE = f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = ?"


@dataclass(frozen=True)
class ApiKeyRow:
    key_id: str
    secret_sha256: str
    actor: str
    grants: str  # JSON: [{"role", "municipality", "controller"}]
    created_at: str
    revoked_at: str | None


class ApiKeyTable:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as cursor:
            migrate(API_KEYS, cursor)

    def insert(self, row: ApiKeyRow) -> None:
        with self.db.transaction() as cursor:
            cursor.execute(
                INSERT, (row.key_id, row.secret_sha256, row.actor, row.grants, row.created_at)
            )

    def revoke(self, key_id: str, at: str) -> bool:
        """Whether a key that was not revoked is now."""
        with self.db.transaction() as cursor:
            cursor.execute(REVOKE, (at, key_id))
            return bool(cursor.rowcount)

    def all(self) -> list[ApiKeyRow]:
        with self.db.reading() as cursor:
            cursor.execute(SELECT_ALL)
            return [_row(row) for row in cursor.fetchall()]

    def find(self, key_id: str) -> ApiKeyRow | None:
        with self.db.reading() as cursor:
            cursor.execute(SELECT_ONE, (key_id,))
            row = cursor.fetchone()
        return None if row is None else _row(row)


def _row(row: Any) -> ApiKeyRow:
    return ApiKeyRow(*(row[i] for i in range(6)))


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
    def __init__(self, datastore: SQLiteDatastore | PostgresDatastore) -> None:
        self.table = ApiKeyTable(Database(datastore))

    def create(self, actor: Actor) -> str:
        """A new key for ``actor``; the token is shown once and never stored."""
        if actor.id.startswith(OIDC_ACTORS):
            raise ValueError(f"actor ids starting with {OIDC_ACTORS!r} are those of OIDC tokens")
        check_independence(actor.grants)
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        grants = [
            {"role": g.role.value, "municipality": g.municipality, "controller": g.controller}
            for g in sorted(actor.grants, key=lambda g: (g.municipality, g.role.value))
        ]
        self.table.insert(
            ApiKeyRow(key_id, _digest(secret), actor.id, json.dumps(grants), _now(), None)
        )
        return f"{PREFIX}_{key_id}_{secret}"

    def revoke(self, key_id: str) -> bool:
        return self.table.revoke(key_id, _now())

    def all(self) -> list[ApiKey]:
        return [_key(row) for row in self.table.all()]

    def actor_for(self, token: str) -> Actor | None:
        """The actor of a valid, unrevoked token; None otherwise."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            return None
        row = self.table.find(parts[1])
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_sha256, _digest(parts[2])):
            return None
        return _key(row).actor


def _key(row: ApiKeyRow) -> ApiKey:
    grants = [
        Grant(Role(g["role"]), g["municipality"], g["controller"]) for g in json.loads(row.grants)
    ]
    return ApiKey(row.key_id, Actor.with_grants(row.actor, grants), row.created_at, row.revoked_at)


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
