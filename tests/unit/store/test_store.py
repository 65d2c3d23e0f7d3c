"""The run history: save, list, get, delete, gc, baselines, ids by prefix, schema versions."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from redline.diagnose import analyze_run
from redline.errors import ConfigError, ReportError
from redline.load import RunResult, RunStatus
from redline.load._selfcheck import self_check
from redline.metrics import EndpointRecorder, RunSeries
from redline.plan import plan_from_mapping
from redline.report import results_to_dict
from redline.store import SCHEMA_VERSION, RunStore

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
#: A fixed wall clock for baselines' created_at.
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

#: The version-1 schema exactly as redline 0.1 created it: frozen here, never
#: derived from the code, so the migration test opens a real old database.
V1_DDL = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    started_at TEXT NOT NULL,
    elapsed_s REAL NOT NULL,
    status TEXT NOT NULL,
    partial INTEGER NOT NULL,
    target TEXT NOT NULL,
    test_type TEXT,
    rps REAL NOT NULL,
    p95_us INTEGER,
    error_rate REAL NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX runs_started_at ON runs (started_at);
CREATE TABLE baselines (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    run_id TEXT NOT NULL REFERENCES runs (id),
    created_at TEXT NOT NULL
);
PRAGMA user_version = 1;
"""


def _series(latency_us: int, failures: int) -> RunSeries:
    series = RunSeries()
    for second in range(2):
        recorder = EndpointRecorder("home")
        for index in range(50):
            failed = index < failures
            recorder.record(latency_us, latency_us, 500 if failed else 200, failed, 10, 10)
        stats = recorder.snapshot_and_reset(second)
        assert stats is not None
        series.add(stats)
    return series


def make_result(
    run_id: str,
    *,
    name: str = "shop",
    minutes: int = 0,
    status: RunStatus = RunStatus.COMPLETED,
    latency_us: int = 1000,
    failures: int = 0,
) -> RunResult:
    plan = plan_from_mapping(
        {
            "name": name,
            "base_url": "http://127.0.0.1:8080",
            "requests": [{"name": "home", "url": "/home"}],
        }
    )
    return RunResult(
        plan=plan,
        workers=1,
        started_at=START + timedelta(minutes=minutes),
        elapsed_s=2.0,
        status=status,
        series=_series(latency_us, failures),
        self_check=self_check([], 1),
        run_id=run_id,
    )


def save(store: RunStore, result: RunResult, tags: tuple[str, ...] = ()) -> str:
    return store.save(result, analyze_run(result), tags=tags)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with RunStore.open(tmp_path / "history" / "redline.db", now=lambda: NOW) as opened:
        yield opened


def test_save_then_get_gives_back_the_document_and_its_exact_series(store: RunStore) -> None:
    result = make_result("20260301-120000-aaaaaa", latency_us=1500, failures=5)
    assert save(store, result, ("nightly",)) == "20260301-120000-aaaaaa"
    stored = store.get("20260301-120000-aaaaaa")
    assert stored.document == json.loads(json.dumps(results_to_dict(result, analyze_run(result))))
    assert stored.series().total() == result.series.total()
    summary = stored.summary
    assert summary.name == "shop"
    assert summary.started_at == START
    assert summary.status is RunStatus.COMPLETED
    assert summary.partial is False
    assert summary.target == "http://127.0.0.1:8080"
    assert summary.test_type is None
    assert summary.rps == 50.0
    assert summary.p95_us == result.series.total().response.value_at_percentile(95.0)
    assert summary.error_rate == 0.1
    assert summary.tags == ("nightly",)


def test_the_database_is_in_wal_mode_at_the_current_version(store: RunStore) -> None:
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert SCHEMA_VERSION == 3


def test_list_is_newest_first_and_filters(store: RunStore) -> None:
    save(store, make_result("20260301-120000-000001", minutes=0), ("a",))
    save(store, make_result("20260301-121000-000002", minutes=10, name="cart"), ("a", "b"))
    save(store, make_result("20260301-122000-000003", minutes=20))
    ids = [run.id for run in store.list()]
    assert ids == ["20260301-122000-000003", "20260301-121000-000002", "20260301-120000-000001"]
    assert [r.id for r in store.list(name="cart")] == ["20260301-121000-000002"]
    assert [r.id for r in store.list(tag="a")] == [
        "20260301-121000-000002",
        "20260301-120000-000001",
    ]
    assert [r.id for r in store.list(tag="b")] == ["20260301-121000-000002"]
    since = START + timedelta(minutes=10)
    assert [r.id for r in store.list(since=since)] == ids[:2]
    assert [r.id for r in store.list(until=since)] == ids[2:]
    assert [r.id for r in store.list(limit=1)] == ids[:1]
    # A time in another zone is the same instant.
    paris = since.astimezone(ZoneInfo("Europe/Paris"))
    assert [r.id for r in store.list(since=paris)] == ids[:2]


def test_list_refuses_a_limit_below_one(store: RunStore) -> None:
    with pytest.raises(ConfigError, match=r"--limit: 0 is out of range; allowed 1 or more"):
        store.list(limit=0)


@pytest.mark.parametrize("status", [RunStatus.INTERRUPTED, RunStatus.ABORTED, RunStatus.FAILED])
def test_partial_runs_are_stored_and_listed_as_partial(store: RunStore, status: RunStatus) -> None:
    save(store, make_result("20260301-120000-bbbbbb", status=status))
    (listed,) = store.list()
    assert listed.partial is True
    assert listed.status is status


def test_a_stress_test_that_broke_is_not_partial(store: RunStore) -> None:
    save(store, make_result("20260301-120000-cccccc", status=RunStatus.BROKE))
    assert store.list()[0].partial is False


def test_a_run_is_found_by_a_unique_prefix(store: RunStore) -> None:
    save(store, make_result("20260301-120000-abc111"))
    save(store, make_result("20260301-120000-abd222", minutes=1))
    assert store.get("20260301-120000-abc").id == "20260301-120000-abc111"
    assert store.resolve("20260301-120000-abd222") == "20260301-120000-abd222"


def test_an_ambiguous_prefix_names_the_candidates(store: RunStore) -> None:
    save(store, make_result("20260301-120000-abc111"))
    save(store, make_result("20260301-120000-abd222", minutes=1))
    with pytest.raises(
        ConfigError,
        match=r"^run '20260301-120000-ab' is ambiguous: it matches "
        r"20260301-120000-abc111, 20260301-120000-abd222$",
    ):
        store.get("20260301-120000-ab")


def test_an_unknown_or_empty_id_is_one_line(store: RunStore) -> None:
    with pytest.raises(ConfigError, match=r"^run 'nope': no stored run has this id$"):
        store.get("nope")
    with pytest.raises(ConfigError, match=r"^run id: '' is empty"):
        store.delete("")


def test_saving_the_same_run_twice_is_refused(store: RunStore) -> None:
    result = make_result("20260301-120000-dddddd")
    save(store, result)
    with pytest.raises(ConfigError, match=r"run '20260301-120000-dddddd' is already stored"):
        save(store, result)
    assert len(store.list()) == 1


def test_delete_removes_one_run(store: RunStore) -> None:
    save(store, make_result("20260301-120000-eeeee1"))
    save(store, make_result("20260301-120000-eeeee2", minutes=1))
    assert store.delete("20260301-120000-eeeee1") == "20260301-120000-eeeee1"
    assert [r.id for r in store.list()] == ["20260301-120000-eeeee2"]
    with pytest.raises(ConfigError, match="no stored run"):
        store.get("20260301-120000-eeeee1")


def test_delete_keeps_a_baselines_run_unless_forced(store: RunStore) -> None:
    save(store, make_result("20260301-120000-ffffff"))
    store.set_baseline("before", "20260301-120000-ffffff")
    with pytest.raises(
        ConfigError, match=r"^run '20260301-120000-ffffff' is the baseline 'before'$"
    ):
        store.delete("20260301-120000-ffffff")
    store.delete("20260301-120000-ffffff", force=True)
    assert store.list() == []
    assert store.baselines() == []


def test_gc_keeps_the_newest_runs_of_each_plan_and_every_baseline(store: RunStore) -> None:
    for minute in range(4):
        save(store, make_result(f"20260301-12000{minute}-shop00", minutes=minute))
        save(store, make_result(f"20260301-12000{minute}-cart00", minutes=minute, name="cart"))
    store.set_baseline("first-cart", "20260301-120000-cart00")
    removed = store.gc(keep=2)
    assert removed == [
        "20260301-120000-shop00",
        "20260301-120001-cart00",
        "20260301-120001-shop00",
    ]
    left = sorted(r.id for r in store.list())
    assert left == [
        "20260301-120000-cart00",
        "20260301-120002-cart00",
        "20260301-120002-shop00",
        "20260301-120003-cart00",
        "20260301-120003-shop00",
    ]
    assert store.gc(keep=2) == []


def test_gc_refuses_a_negative_keep(store: RunStore) -> None:
    with pytest.raises(ConfigError, match=r"--keep: -1 is out of range; allowed 0 or more"):
        store.gc(keep=-1)


def test_baselines_name_runs(store: RunStore) -> None:
    save(store, make_result("20260301-120000-111111"))
    save(store, make_result("20260301-120100-222222", minutes=1))
    baseline = store.set_baseline("before-index", "20260301-120000-1")
    assert baseline.run_id == "20260301-120000-111111"
    assert baseline.created_at == NOW
    store.set_baseline("after-index", "20260301-120100")
    assert [(b.name, b.run_id) for b in store.baselines()] == [
        ("after-index", "20260301-120100-222222"),
        ("before-index", "20260301-120000-111111"),
    ]
    assert store.baseline("before-index").run_id == "20260301-120000-111111"


def test_a_taken_baseline_name_is_refused_unless_forced(store: RunStore) -> None:
    save(store, make_result("20260301-120000-111111"))
    save(store, make_result("20260301-120100-222222", minutes=1))
    store.set_baseline("main", "20260301-120000-111111")
    with pytest.raises(
        ConfigError, match=r"^baseline 'main' is taken \(run 20260301-120000-111111\)$"
    ):
        store.set_baseline("main", "20260301-120100-222222")
    store.set_baseline("main", "20260301-120100-222222", force=True)
    assert store.baseline("main").run_id == "20260301-120100-222222"


def test_baseline_bad_input_is_one_line(store: RunStore) -> None:
    with pytest.raises(ConfigError, match=r"^baseline 'missing' does not exist$"):
        store.baseline("missing")
    with pytest.raises(ConfigError, match=r"^--name: '' is empty"):
        store.set_baseline("", "x")
    with pytest.raises(ConfigError, match=r"^run 'x': no stored run"):
        store.set_baseline("main", "x")


def test_a_newer_database_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "redline.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 7")
    db.close()
    message = f"^{path}: database schema version 7 is newer than this redline \\(3\\); upgrade"
    with pytest.raises(ReportError, match=message):
        RunStore.open(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not sqlite at all, but long enough to look like a header " * 4)
    with pytest.raises(ReportError, match=r"notes.db: not a usable redline database"):
        RunStore.open(path)


def test_a_version_1_database_is_upgraded_with_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    result = make_result("20260301-120000-0ld001")
    document = json.dumps(results_to_dict(result, analyze_run(result)))
    db = sqlite3.connect(path)
    db.executescript(V1_DDL)
    db.execute(
        "INSERT INTO runs VALUES (?, 'shop', ?, 2.0, 'completed', 0, "
        "'http://127.0.0.1:8080', NULL, 50.0, 1000, 0.0, ?)",
        ("20260301-120000-0ld001", START.isoformat(timespec="microseconds"), document),
    )
    db.execute(
        "INSERT INTO baselines (name, run_id, created_at) VALUES ('old', ?, ?)",
        ("20260301-120000-0ld001", NOW.isoformat()),
    )
    db.commit()
    db.close()
    with RunStore.open(path) as store:
        (listed,) = store.list()
        assert listed.id == "20260301-120000-0ld001"
        assert listed.tags == ()
        assert listed.verdict in ("passed", "thresholds failed")  # filled in by version 3
        assert store.baseline("old").run_id == listed.id
        assert store.get("20260301-120000-0ld").series().total() == result.series.total()
        save(store, make_result("20260301-130000-new001", minutes=60), ("fresh",))
        assert [r.id for r in store.list(tag="fresh")] == ["20260301-130000-new001"]
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone() == (3,)
        indexes = {row[1] for row in check.execute("PRAGMA index_list(runs)")}
        assert "runs_name_started_at" in indexes
    check.close()


#: A writer process: waits for the go file, then saves its documents one by one.
WRITER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from redline.store import RunStore

    db, go, *files = sys.argv[1:]
    while not Path(go).exists():
        time.sleep(0.005)
    for name in files:
        with RunStore.open(Path(db)) as store:
            store.save_document(json.loads(Path(name).read_text()))
    """
)


def test_two_processes_saving_at_once_both_land(tmp_path: Path) -> None:
    db, go = tmp_path / "shared" / "redline.db", tmp_path / "go"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    batches: list[list[str]] = [[], []]
    for index in range(40):
        result = make_result(f"20260301-120000-{index:06d}", minutes=index)
        path = tmp_path / f"run{index}.json"
        path.write_text(json.dumps(results_to_dict(result, analyze_run(result))))
        batches[index % 2].append(str(path))
    writers = [
        subprocess.Popen([sys.executable, str(script), str(db), str(go), *batch])
        for batch in batches
    ]
    go.touch()
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    with RunStore.open(db) as store:
        assert len(store.list()) == 40


def test_each_run_is_listed_with_its_verdict(store: Any) -> None:
    save(store, make_result("20260301-120000-aaaaaa", minutes=0))
    save(store, make_result("20260301-120100-bbbbbb", minutes=1, status=RunStatus.INTERRUPTED))
    failing = results_to_dict(make_result("20260301-120200-cccccc", minutes=2))
    failing["thresholds"] = [{"threshold": "p95<1ms", "passed": False, "observed": 2000.0}]
    store.save_document(failing)
    verdicts = {r.id[-6:]: r.verdict for r in store.list()}
    assert verdicts == {
        "aaaaaa": "passed",
        "bbbbbb": "interrupted",
        "cccccc": "thresholds failed",
    }


def test_version_3_fills_in_the_verdict_of_runs_stored_before(tmp_path: Path) -> None:
    path = tmp_path / "redline.db"
    with RunStore.open(path) as opened:
        failing = results_to_dict(make_result("20260301-120200-cccccc", minutes=2))
        failing["thresholds"] = [{"threshold": "p95<1ms", "passed": False, "observed": 2000.0}]
        opened.save_document(failing)
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE runs DROP COLUMN verdict")  # as a version 2 database has it
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    with RunStore.open(path) as reopened:
        assert [r.verdict for r in reopened.list()] == ["thresholds failed"]
