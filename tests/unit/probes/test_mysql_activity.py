"""A MySQL digest in PostgreSQL's QueryStats shape, and the probes chosen by a DSN's scheme."""

from __future__ import annotations

import pytest

from redline.errors import ConfigError
from redline.plan import parse_dsn
from redline.probes import (
    RUN_DATABASE_PROBES,
    MySqlActivityProbe,
    MySqlStatementWatch,
    PostgresActivityProbe,
    StatementWatch,
    activity_probe,
    statement_watch,
)
from redline.probes._mysql import DigestStat
from redline.probes._mysql_activity import query_stats


def digest(hex_digest: str, **figures: object) -> DigestStat:
    values: dict[str, object] = {
        "digest": hex_digest, "text": "SELECT `name` FROM `items` WHERE `id` = ?", "calls": 4,
        "total_ms": 2.0, "avg_ms": 0.5, "max_ms": 1.0, "lock_ms": 0.0, "rows_examined": 4,
        "rows_sent": 3, "rows_affected": 1, "no_index_used": 0, "no_good_index_used": 0,
        "tmp_tables": 0, "tmp_disk_tables": 0, "sort_merge_passes": 0, "errors": 0,
    }  # fmt: skip
    return DigestStat(**{**values, **figures})  # type: ignore[arg-type]


@pytest.mark.parametrize("hex_digest", ["f" * 64, "f" * 32, "0123456789abcdef" * 2])
def test_a_digest_becomes_a_queryid_of_63_bits(hex_digest: str) -> None:
    queryid = query_stats(digest(hex_digest)).queryid
    assert 0 <= queryid < 2**63
    assert queryid == int(hex_digest, 16) >> (len(hex_digest) * 4 - 63)


def test_a_digest_keeps_its_calls_time_and_rows() -> None:
    stats = query_stats(digest("ab" * 16))
    assert (stats.query, stats.calls, stats.total_ms, stats.mean_ms) == (
        "SELECT `name` FROM `items` WHERE `id` = ?", 4, 2.0, 0.5,
    )  # fmt: skip
    assert stats.rows == 4  # sent and affected
    assert (stats.shared_hit, stats.shared_read, stats.temp_read, stats.temp_written) == (0,) * 4


def test_a_digest_never_called_has_no_mean() -> None:
    assert query_stats(digest("ab" * 16, calls=0, total_ms=0.0)).mean_ms == 0.0


@pytest.mark.parametrize(
    ("text", "watch", "probe"),
    [
        ("postgresql://u:pw@127.0.0.1:5432/db", StatementWatch, PostgresActivityProbe),
        ("mysql://u:pw@127.0.0.1:3306/db", MySqlStatementWatch, MySqlActivityProbe),
        ("mariadb://u:pw@127.0.0.1:3306/db", MySqlStatementWatch, MySqlActivityProbe),
    ],
)
def test_the_dsn_scheme_picks_the_probes(text: str, watch: type, probe: type) -> None:
    dsn = parse_dsn(text, schemes=tuple(RUN_DATABASE_PROBES))
    assert isinstance(statement_watch(dsn), watch)  # built, not connected
    assert isinstance(activity_probe(dsn), probe)


def test_a_database_without_run_probes_is_refused() -> None:
    dsn = parse_dsn("sqlite:///tmp/shop.db")
    with pytest.raises(ConfigError, match=r"--db: sqlite:// cannot be watched during a run"):
        statement_watch(dsn)
    with pytest.raises(ConfigError, match=r"allowed postgresql://, mysql://"):
        activity_probe(dsn)
