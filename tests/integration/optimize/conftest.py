"""The database servers of tests/integration/db, for the optimize tests."""

from tests.integration.db.conftest import (
    mariadb_database,
    mariadb_server,
    pg_database,
    postgres_server,
)

__all__ = ["mariadb_database", "mariadb_server", "pg_database", "postgres_server"]
