"""The ``api_keys`` table: one row a key, its secret only as a SHA-256 hash (adapters/api/keys)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.persistence.schema import API_KEYS, migrate
from adapters.sqldb import Database

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
