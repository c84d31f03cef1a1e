"""SQL written once with ``?`` marks runs alike on both databases, also when a literal, a
quoted name or a comment holds a ``?`` or a ``%``."""

from __future__ import annotations

import pytest
from eventsourcing.sqlite import SQLiteDatastore

from adapters.persistence.sqldb import Database, postgres_marks
from tests.persistence.stores import postgres_datastore


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path) -> Database:
    if request.param == "sqlite":
        return Database(SQLiteDatastore(str(tmp_path / "marks.db"), lock_timeout=30))
    return Database(postgres_datastore(request.getfixturevalue("pg_database")))


def test_a_literal_with_a_question_mark_and_a_percent_sign_reaches_the_database_as_written(
    database,
):
    with database.transaction() as cursor:
        cursor.execute('CREATE TABLE notes ("what?" TEXT NOT NULL, "100%" INTEGER NOT NULL)')
        cursor.execute(
            """INSERT INTO notes ("what?", "100%") -- a comment may ask? and say 100%
            VALUES ('waarom? 100% zeker, ''toch?''', ?)""",
            (7 % 4,),
        )
        cursor.execute(
            """SELECT "what?", "100%" % 2 AS rest, ? AS echo FROM notes
            WHERE "what?" LIKE '%?%' AND "100%" = ?""",
            ("en?%", 3),
        )
        assert tuple(cursor.fetchone()) == ("waarom? 100% zeker, 'toch?'", 1, "en?%")


def test_on_postgresql_only_the_marks_outside_literals_become_parameters():
    sql = "SELECT '?%', \"a?\", ? % 2 -- why?\n/* 50%? */ FROM t WHERE x = ?"
    assert postgres_marks(sql) == (
        "SELECT '?%%', \"a?\", %s %% 2 -- why?\n/* 50%%? */ FROM t WHERE x = %s"
    )
