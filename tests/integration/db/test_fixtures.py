"""The throwaway servers work: a query through each DSN."""

from __future__ import annotations

import psycopg
import pymysql

from redline.plan import parse_dsn


def test_postgres_database_has_its_extensions(pg_database: str) -> None:
    dsn = parse_dsn(pg_database)
    with psycopg.connect(host=dsn.host, port=dsn.port, dbname=dsn.database, user=dsn.user,
                         password=dsn.password()) as conn:  # fmt: skip
        names = {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}
    assert {"pg_stat_statements", "hypopg"} <= names


def test_mariadb_database_answers(mariadb_database: str) -> None:
    dsn = parse_dsn(mariadb_database)
    conn = pymysql.connect(host=dsn.host, port=dsn.port, user=dsn.user, password=dsn.password(),
                           database=dsn.database)  # fmt: skip
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT @@performance_schema")
            assert cursor.fetchone() == (1,)
    finally:
        conn.close()
