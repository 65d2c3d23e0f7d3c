"""The verify checks on fakes: each passing and failing, with its figure."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from redline.errors import ScopeError
from redline.optimize import (
    Change,
    ChangeKind,
    JournalEntry,
    JournalStatus,
    apply_change,
    undo_entry,
)
from redline.optimize._pids import PidRegistry
from redline.optimize._sqlite_journal import SqliteJournal
from redline.optimize._test_data import TestDataApplier, tagged_rows_change
from redline.optimize._verify import (
    CheckStatus,
    check_baseline,
    check_health,
    check_journal,
    check_processes,
    check_test_data,
)
from redline.plan import parse_dsn
from tests.unit.compare.synthetic import synthetic_run


def entry(kind: ChangeKind, status: JournalStatus, entry_id: str = "e1") -> JournalEntry:
    change = Change(kind=kind, summary=f"a {kind.value}", apply="a", undo="u", verify="v",
                    target="t")  # fmt: skip
    return JournalEntry(entry_id, change, {}, status, "", "2026-11-28T15:00:00+00:00")


def test_health_passes_on_200_and_fails_otherwise() -> None:
    answers = {"http://127.0.0.1:1/ok": 200, "http://127.0.0.1:1/bad": 500}

    def status_of(url: str) -> int:
        if url not in answers:
            raise ConnectionRefusedError(111, "Connection refused")
        return answers[url]

    urls = [*answers, "http://127.0.0.1:1/down"]
    checks = check_health(urls, status_of=status_of)
    assert [(c.status, c.figure) for c in checks] == [
        (CheckStatus.PASS, "HTTP 200"),
        (CheckStatus.FAIL, "HTTP 500"),
        (CheckStatus.FAIL, "no answer: Connection refused"),
    ]


def test_health_refuses_a_host_out_of_scope_before_any_request() -> None:
    def status_of(url: str) -> int:
        raise AssertionError("no request may be sent")

    with pytest.raises(ScopeError, match=r"--health: host 'example\.com' is out of scope"):
        check_health(["http://example.com/health"], status_of=status_of)
    assert check_health(["http://example.com/h"], allowed_hosts=["example.com"],
                        status_of=lambda url: 200)[0].passed  # fmt: skip


def test_baseline_within_five_percent_passes() -> None:
    rng = np.random.default_rng(3)
    check = check_baseline(synthetic_run(rng, "base"), synthetic_run(rng, "now"))
    assert check.passed, check.figure
    assert check.name == "baseline base" and "(allowed ±5%)" in check.figure


def test_baseline_twenty_percent_slower_fails() -> None:
    rng = np.random.default_rng(3)
    check = check_baseline(synthetic_run(rng, "base"), synthetic_run(rng, "now", shift=0.2))
    assert not check.passed
    assert check.figure.startswith("p95 +19.1%, throughput")


def test_processes() -> None:
    lines = {42: ("py-spy", "record", "--pid", "7")}
    registry = PidRegistry(Path("/nonexistent/processes.json"), cmdline=lines.get)
    assert check_processes(registry).figure == "none left running"


def test_processes_left_running_fail(tmp_path: Path) -> None:
    lines = {42: ("py-spy", "record", "--pid", "7")}
    registry = PidRegistry(tmp_path / "processes.json", cmdline=lines.get)
    registry.register(42, "py-spy")
    check = check_processes(registry)
    assert check.status is CheckStatus.FAIL
    assert check.figure == "1 still running: py-spy pid 42 (py-spy record --pid 7)"


def test_test_data() -> None:
    done = [entry(ChangeKind.TEST_DATA, JournalStatus.UNDONE),
            entry(ChangeKind.INDEX, JournalStatus.APPLIED, "e2")]  # fmt: skip
    assert check_test_data(done).figure == "1 test-data change(s), all undone"
    left = [*done, entry(ChangeKind.TEST_DATA, JournalStatus.APPLIED, "e3")]
    check = check_test_data(left)
    assert not check.passed and check.figure == "1 of 2 not undone or not back: e3 (applied)"


@pytest.mark.parametrize(
    "status", [JournalStatus.INTENT, JournalStatus.FAILED, JournalStatus.UNDO_FAILED]
)
def test_a_half_applied_entry_fails_the_journal(status: JournalStatus) -> None:
    entries = [entry(ChangeKind.INDEX, JournalStatus.APPLIED),
               entry(ChangeKind.SETTING, status, "e2")]  # fmt: skip
    check = check_journal(entries)
    assert not check.passed
    assert check.figure == f"1 half-applied: e2 {status.value}: a setting"


def test_applied_and_undone_entries_pass_the_journal() -> None:
    entries = [entry(ChangeKind.INDEX, JournalStatus.APPLIED),
               entry(ChangeKind.INDEX, JournalStatus.UNDONE, "e2")]  # fmt: skip
    assert check_journal(entries).figure == "2 entries, none half-applied"
    assert check_journal([]).passed


def test_no_test_data_journaled_passes() -> None:
    assert check_test_data([entry(ChangeKind.INDEX, JournalStatus.APPLIED)]).figure == (
        "none journaled"
    )


def test_test_data_row_counts_are_checked_against_the_database(tmp_path: Path) -> None:
    database = tmp_path / "app.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE orders (item TEXT, redline_run TEXT)")
        conn.executemany("INSERT INTO orders VALUES (?, NULL)", [("a",), ("b",)])
    change = tagged_rows_change(
        target=parse_dsn(f"sqlite:///{database}"), table="orders", column="redline_run",
        run_id="run-1", summary="3 orders",
        insert="INSERT INTO orders VALUES ('x', 'run-1'), ('y', 'run-1'), ('z', 'run-1')",
    )  # fmt: skip
    journal, applier = SqliteJournal(tmp_path / "journal.db"), TestDataApplier()
    appliers = {ChangeKind.TEST_DATA: applier}
    assert apply_change(change, journal, appliers).ok
    [applied] = journal.to_undo()
    assert undo_entry(applied, journal, appliers).ok
    check = check_test_data(journal.entries(), rows_now=applier.rows_now)
    assert check.passed, check.figure
    assert check.figure.endswith("1 row count(s) back to their recorded values")
    with sqlite3.connect(database) as conn:  # a row tagged by the run, left behind
        conn.execute("INSERT INTO orders VALUES ('late', 'run-1')")
    check = check_test_data(journal.entries(), rows_now=applier.rows_now)
    assert not check.passed
    assert check.figure.endswith("(orders: 3 rows, 2 before; 1 still tagged)")
