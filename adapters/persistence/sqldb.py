"""One way to run SQL on either database: a transaction and the right parameter marks.

SQL is written with ``?`` marks; on PostgreSQL they become ``%s`` (``postgres_marks``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore


class Row(tuple[Any, ...]):
    """A row that, like ``sqlite3.Row``, is indexed by position and by column name."""

    names: dict[str, int]

    def __new__(cls, mapping: dict[str, Any]) -> Row:
        row = super().__new__(cls, mapping.values())
        row.names = {name: i for i, name in enumerate(mapping)}
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)


class Cursor:
    """A database cursor that takes ``?`` marks on both databases."""

    def __init__(self, raw: Any, postgres: bool) -> None:
        self.raw = raw
        self.postgres = postgres

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.raw.execute(postgres_marks(sql) if self.postgres else sql, params)

    def fetchone(self) -> Any:
        row = self.raw.fetchone()
        return Row(row) if self.postgres and row is not None else row

    def fetchall(self) -> list[Any]:
        rows = self.raw.fetchall()
        return [Row(row) for row in rows] if self.postgres else list(rows)

    @property
    def rowcount(self) -> int:
        # The library wraps sqlite3 cursors; psycopg cursors are used as they are.
        cursor = self.raw if self.postgres else self.raw.sqlite_cursor
        return int(cursor.rowcount)


# What leaves a ``?`` or ``%`` as it is: a quoted literal or name, or a comment. Each
# alternative ends where SQL ends it ('' inside a literal is a quote, not its end).
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)


@lru_cache(maxsize=512)
def postgres_marks(sql: str) -> str:
    """``sql`` with psycopg's marks: ``?`` outside literals, names and comments becomes
    ``%s``, and every ``%`` (also inside a literal: psycopg reads the whole text) ``%%``."""
    parts = []
    end = 0
    for quoted in _QUOTED.finditer(sql):
        parts.append(sql[end : quoted.start()].replace("%", "%%").replace("?", "%s"))
        parts.append(quoted.group().replace("%", "%%"))
        end = quoted.end()
    parts.append(sql[end:].replace("%", "%%").replace("?", "%s"))
    return "".join(parts)


class Database:
    """``schema``: on PostgreSQL, the schema the transactions' unqualified names resolve to
    first (read models keep their tables apart from the ledger's)."""

    def __init__(
        self, datastore: SQLiteDatastore | PostgresDatastore, *, schema: str | None = None
    ) -> None:
        self.datastore = datastore
        self.postgres = isinstance(datastore, PostgresDatastore)
        self.schema = schema if self.postgres else None
        if self.schema is not None:
            with self.transaction() as cursor:
                cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self._transaction(commit=True) as cursor:
            yield cursor

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A transaction that only reads: on SQLite it does not queue for the process's one
        writer connection (WAL lets it read beside the writer); nothing it did is committed.
        On PostgreSQL without a schema to set, the statements run on an autocommit connection:
        at READ COMMITTED each statement sees its own snapshot either way, and BEGIN and
        ROLLBACK would cost two round trips around a key lookup's one."""
        if isinstance(self.datastore, PostgresDatastore) and self.schema is None:
            with self.datastore.get_connection() as conn, conn.cursor() as raw:
                yield Cursor(raw, True)
            return
        with self._transaction(commit=False) as cursor:
            yield cursor

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=commit) as raw:
            cursor = Cursor(raw, self.postgres)
            if self.schema is not None:
                cursor.execute(f'SET LOCAL search_path TO "{self.schema}", public')
            yield cursor
