"""Query samples: fingerprints, and the statements a PostgreSQL log holds with their values."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.probes import QuerySample, QuerySamples, samples_from_document, samples_from_log
from redline.probes._query_samples import SAMPLES_PER_STATEMENT, fingerprint

PREFIX = "2026-11-28 15:20:01.123 UTC [4242] "


def log(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "postgresql.log"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("literal", "normalized"),
    [
        ("SELECT * FROM t WHERE id = 42", "SELECT * FROM t WHERE id = $1"),
        ("select *  from t\n where name = 'O''Brien' ;", "SELECT * FROM t WHERE name = $1"),
        (
            "/* app */ SELECT a FROM t WHERE x IN (1, 2.5, -3)",
            "SELECT a FROM t WHERE x IN ($1,$2,$3)",
        ),
        ("SELECT t1.a FROM t1 WHERE t1.b > 1e3 -- top", "SELECT t1.a FROM t1 WHERE t1.b > $1"),
    ],
)
def test_a_literal_statement_has_the_fingerprint_of_its_normalized_form(
    literal: str, normalized: str
) -> None:
    assert fingerprint(literal) == fingerprint(normalized)


def test_different_statements_have_different_fingerprints() -> None:
    assert fingerprint("SELECT a FROM t1 WHERE b = 1") != fingerprint(
        "SELECT a FROM t2 WHERE b = 1"
    )
    assert fingerprint("SELECT a FROM t WHERE b = 1") != fingerprint("SELECT a FROM t WHERE b > 1")


def test_an_execute_line_takes_its_values_from_the_detail_line(tmp_path: Path) -> None:
    path = log(
        tmp_path,
        f"{PREFIX}LOG:  duration: 0.512 ms  execute <unnamed>: SELECT * FROM t WHERE a = $1 "
        "AND b = $2 AND c = $3",
        f"{PREFIX}DETAIL:  parameters: $1 = '7', $2 = NULL, $3 = 'it''s'",
    )
    [sample] = samples_from_log(path)
    assert sample.params == ("7", None, "it's")
    assert sample.source == f"{path}:1"


def test_an_execute_line_without_its_values_is_no_sample(tmp_path: Path) -> None:
    path = log(
        tmp_path,
        f"{PREFIX}LOG:  execute <unnamed>: SELECT * FROM t WHERE a = $1",
        f"{PREFIX}LOG:  statement: SELECT 1",
    )
    assert [s.text for s in samples_from_log(path)] == ["SELECT 1"]


def test_a_statement_over_several_lines_is_read_whole(tmp_path: Path) -> None:
    path = log(
        tmp_path,
        f"{PREFIX}LOG:  duration: 3.100 ms  statement: SELECT a",
        "\tFROM t",
        "\tWHERE b = 'x'",
        f"{PREFIX}LOG:  checkpoint starting: time",
    )
    [sample] = samples_from_log(path)
    assert sample.text == "SELECT a\nFROM t\nWHERE b = 'x'" and sample.params is None


def test_auto_explain_query_texts_are_read_in_text_and_json(tmp_path: Path) -> None:
    path = log(
        tmp_path,
        f"{PREFIX}LOG:  duration: 12.000 ms  plan:",
        "\tQuery Text: SELECT * FROM big",
        "\t  WHERE v = 3",
        "\tSeq Scan on big  (cost=0.00..1693.00 rows=10 width=8)",
        "\t  Filter: (v = 3)",
        f"{PREFIX}LOG:  duration: 9.000 ms  plan:",
        "\t{",
        '\t  "Query Text": "SELECT count(*) FROM small WHERE k = \'z\'",',
        '\t  "Plan": {"Node Type": "Seq Scan"}',
        "\t}",
    )
    texts = sorted(s.text for s in samples_from_log(path))
    assert texts == ["SELECT * FROM big\nWHERE v = 3", "SELECT count(*) FROM small WHERE k = 'z'"]


def test_errors_and_their_statements_are_not_samples(tmp_path: Path) -> None:
    path = log(
        tmp_path,
        f'{PREFIX}ERROR:  relation "nope" does not exist at character 15',
        f"{PREFIX}STATEMENT:  SELECT * FROM nope WHERE a = 1",
    )
    assert len(samples_from_log(path)) == 0


def test_an_unreadable_log_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--samples: cannot read '.*missing.log'"):
        samples_from_log(tmp_path / "missing.log")


def test_a_statement_keeps_its_first_samples_only() -> None:
    samples = QuerySamples(QuerySample(f"SELECT 1 FROM t WHERE a = {n}", None, "x")
                           for n in range(10))  # fmt: skip
    assert len(samples) == SAMPLES_PER_STATEMENT
    first = samples.for_statement("SELECT 1 FROM t WHERE a = $1")
    assert first is not None and first.text.endswith("= 0")


def test_a_run_document_gives_its_samples_marked_with_the_run() -> None:
    document = {"database": {"samples": [{"text": "SELECT 2", "params": None, "source": "x"}]}}
    [sample] = samples_from_document(document, "run 12")
    assert sample == QuerySample("SELECT 2", None, "run 12")
    assert len(samples_from_document({"database": None}, "run 13")) == 0
