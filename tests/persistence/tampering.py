"""Tampering as a database superuser would: protections removed, rows changed.

SQL is written with ``{events}``, ``{nodes}`` and ``{checkpoints}`` for the ledger tables, and
``{id}`` for the column that is the ledger index plus one.
"""

from __future__ import annotations

import sqlite3

import psycopg


class PostgresTamperer:
    id_column = "notification_id"

    def __init__(self, url: str, recorder) -> None:
        self.url = url
        self.tables = {
            "events": recorder.events_table_name,
            "nodes": recorder.nodes_table_name,
            "checkpoints": recorder.checkpoints_table_name,
        }

    def run(self, sql: str, params: tuple = (), *, table: str = "events") -> None:
        name = self.tables[table]
        with psycopg.connect(self.url, autocommit=False) as conn, conn.cursor() as cur:
            cur.execute(f"ALTER TABLE {name} DISABLE TRIGGER USER")
            cur.execute(sql.format(id=self.id_column, **self.tables).replace("?", "%s"), params)
            cur.execute(f"ALTER TABLE {name} ENABLE TRIGGER USER")
            conn.commit()


class SQLiteTamperer:
    id_column = "rowid"

    def __init__(self, path: str) -> None:
        self.path = path
        self.tables = {
            "events": "stored_events",
            "nodes": "ledger_nodes",
            "checkpoints": "ledger_checkpoints",
        }

    def run(self, sql: str, params: tuple = (), *, table: str = "events") -> None:
        name = self.tables[table]
        conn = sqlite3.connect(self.path)
        try:
            conn.execute(f"DROP TRIGGER IF EXISTS {name}_no_update")
            conn.execute(f"DROP TRIGGER IF EXISTS {name}_no_delete")
            conn.execute(sql.format(id=self.id_column, **self.tables), params)
            conn.commit()
        finally:
            conn.close()
