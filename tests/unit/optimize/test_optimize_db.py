"""try_change's keep-or-undo rule on fake timings and a fake applier: nothing real is touched."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from redline.errors import ConfigError
from redline.optimize import (
    Change,
    ChangeError,
    ChangeKind,
    JournalStatus,
    JsonLinesJournal,
)
from redline.optimize._optimize_db import (
    Decision,
    IndexCandidate,
    Statement,
    Timing,
    index_candidates,
    judge,
    try_change,
)
from redline.probes import QuerySample, QuerySamples
from tests.unit.compare.synthetic import synthetic_run

CHANGE = Change(
    kind=ChangeKind.INDEX,
    summary="index orders (customer_id)",
    apply="CREATE INDEX ...",
    undo="DROP INDEX ...",
    verify="SELECT ...",
    target="postgresql://app@127.0.0.1:5432/shop",
)
QUERY = "SELECT * FROM orders WHERE customer_id = 42"


class FakeIndex:
    """An applier whose 'index' is a flag the fake measure reads."""

    def __init__(self, *, fail_apply: bool = False, fail_undo: bool = False) -> None:
        self.present = False
        self.fail_apply, self.fail_undo = fail_apply, fail_undo

    def prepare(self, change: Change) -> dict[str, str]:
        return {"existed": str(self.present)}

    def apply(self, change: Change, state: Mapping[str, str]) -> str:
        if self.fail_apply:
            raise ChangeError("CREATE INDEX failed: disk full")
        self.present = True
        return "index valid"

    def undo(self, change: Change, state: Mapping[str, str]) -> str:
        if self.fail_undo:
            raise ChangeError("DROP INDEX failed: lock timeout")
        self.present = False
        return "index gone"


def measure_with(index: FakeIndex, before: list[float], after: list[float]) -> Any:
    """A measure playing ``before`` then ``after`` times (cycling) as the index comes and goes."""
    streams: dict[bool, Iterator[float]] = {False: _cycle(before), True: _cycle(after)}

    def measure(text: str, params: Sequence[Any] | None) -> float:
        return next(streams[index.present])

    return measure


def _cycle(values: list[float]) -> Iterator[float]:
    while True:
        yield from values


def candidate(*statements: Statement) -> IndexCandidate:
    runnable = statements or (Statement(QUERY, QUERY),)
    return IndexCandidate(CHANGE, tuple(s.served for s in runnable), runnable)


@pytest.fixture
def journal(tmp_path: Path) -> JsonLinesJournal:
    return JsonLinesJournal(tmp_path / "changes.jsonl")


def test_a_clear_speed_up_is_kept(journal: JsonLinesJournal) -> None:
    index = FakeIndex()
    measure = measure_with(index, [30.0, 31.0, 29.5], [0.5, 0.6, 0.4])
    trial = try_change(candidate(), measure=measure, journal=journal,
                       appliers={ChangeKind.INDEX: index}, repetitions=5)  # fmt: skip
    assert trial.decision is Decision.KEPT
    assert index.present
    [timing] = trial.timings
    assert len(timing.before.runs_ms) == 5 and timing.speedup > 50
    assert "at least 10%" in trial.reason and "less" in trial.reason
    [entry] = journal.entries()
    assert entry.status is JournalStatus.APPLIED and entry.id == trial.entry_id


def test_no_speed_up_is_undone(journal: JsonLinesJournal) -> None:
    index = FakeIndex()
    measure = measure_with(index, [1.0, 1.1, 0.9], [1.0, 1.05, 0.95])
    trial = try_change(candidate(), measure=measure, journal=journal,
                       appliers={ChangeKind.INDEX: index})  # fmt: skip
    assert trial.decision is Decision.UNDONE
    assert not index.present
    assert "under the minimum effect of 10%" in trial.reason
    assert [e.status for e in journal.entries()] == [JournalStatus.UNDONE]


def test_a_fall_within_the_spread_is_noise_and_undone(journal: JsonLinesJournal) -> None:
    index = FakeIndex()
    # Median 10 -> 8 ms (20 % less) but one run after (9.5) is slower than one before (9).
    measure = measure_with(index, [10.0, 9.0, 11.0], [8.0, 7.5, 9.5])
    trial = try_change(candidate(), measure=measure, journal=journal,
                       appliers={ChangeKind.INDEX: index}, repetitions=3)  # fmt: skip
    assert trial.decision is Decision.UNDONE
    assert "runs overlap" in trial.reason and "within noise" in trial.reason


def test_statements_are_summed_per_repetition() -> None:
    before = [Timing((10.0, 10.0, 10.0)), Timing((1.0, 1.0, 1.0))]
    after = [Timing((1.0, 1.0, 1.0)), Timing((1.5, 1.5, 1.5))]  # one slower, the sum far faster
    keep, reason = judge(before, after, 0.1)
    assert keep, reason
    assert "median 11.00 -> 2.50 ms (77% less)" in reason


def test_a_failed_apply_is_undone_and_reported(journal: JsonLinesJournal) -> None:
    index = FakeIndex(fail_apply=True)
    measure = measure_with(index, [5.0], [1.0])
    trial = try_change(candidate(), measure=measure, journal=journal,
                       appliers={ChangeKind.INDEX: index})  # fmt: skip
    assert trial.decision is Decision.FAILED
    assert trial.reason == "apply failed: CREATE INDEX failed: disk full"
    assert [e.status for e in journal.entries()] == [JournalStatus.UNDONE]


def test_a_failed_undo_is_reported(journal: JsonLinesJournal) -> None:
    index = FakeIndex(fail_undo=True)
    measure = measure_with(index, [1.0], [1.0])
    trial = try_change(candidate(), measure=measure, journal=journal,
                       appliers={ChangeKind.INDEX: index})  # fmt: skip
    assert trial.decision is Decision.UNDO_FAILED
    assert "undo failed: DROP INDEX failed: lock timeout" in trial.reason
    assert [e.status for e in journal.entries()] == [JournalStatus.UNDO_FAILED]


def test_nothing_runnable_is_not_applied(journal: JsonLinesJournal) -> None:
    index = FakeIndex()
    served = "SELECT * FROM orders WHERE customer_id = $1"
    trial = try_change(IndexCandidate(CHANGE, (served,), (), (served,)), measure=measure_with(
        index, [1.0], [1.0]), journal=journal, appliers={ChangeKind.INDEX: index})  # fmt: skip
    assert trial.decision is Decision.NOT_MEASURED
    assert "give --samples" in trial.reason
    assert journal.entries() == [] and not index.present


def test_a_regressed_load_undoes_a_faster_statement(journal: JsonLinesJournal) -> None:
    index = FakeIndex()
    measure = measure_with(index, [30.0], [1.0])
    rng = np.random.default_rng(7)
    runs = iter([synthetic_run(rng, "before"), synthetic_run(rng, "after", shift=0.5)])
    trial = try_change(candidate(), measure=measure, journal=journal,
                       appliers={ChangeKind.INDEX: index}, load=lambda: next(runs))  # fmt: skip
    assert trial.decision is Decision.UNDONE
    assert "but the load regressed" in trial.reason and "p95" in trial.reason
    assert trial.load is not None and not index.present


def test_an_unchanged_load_keeps_a_faster_statement(journal: JsonLinesJournal) -> None:
    index = FakeIndex()
    measure = measure_with(index, [30.0], [1.0])
    rng = np.random.default_rng(7)
    runs = iter([synthetic_run(rng, "before"), synthetic_run(rng, "after")])
    trial = try_change(candidate(), measure=measure, journal=journal,
                       appliers={ChangeKind.INDEX: index}, load=lambda: next(runs))  # fmt: skip
    assert trial.decision is Decision.KEPT
    assert "load: no significant change" in trial.reason


@pytest.mark.parametrize("effect", [0.0, 1.0, -0.1])
def test_min_effect_out_of_range(journal: JsonLinesJournal, effect: float) -> None:
    with pytest.raises(ConfigError, match=r"--min-effect: .* out of range"):
        try_change(candidate(), measure=lambda t, p: 1.0, journal=journal, appliers={},
                   min_effect=effect)  # fmt: skip


@pytest.mark.parametrize("repetitions", [2, 51])
def test_repetitions_out_of_range(journal: JsonLinesJournal, repetitions: int) -> None:
    with pytest.raises(ConfigError, match=r"repetitions: .* allowed 3\.\.50"):
        try_change(candidate(), measure=lambda t, p: 1.0, journal=journal, appliers={},
                   repetitions=repetitions)  # fmt: skip


class FakeAdvice:
    queries = (
        "SELECT * FROM orders WHERE customer_id = $1",
        "SELECT count(*) FROM orders WHERE customer_id = 7",
        "SELECT * FROM orders WHERE customer_id = $1 AND status = $2",
    )

    def to_change(self) -> Change:
        return CHANGE


def test_candidates_split_statements_by_whether_they_can_run() -> None:
    samples = QuerySamples([QuerySample("SELECT * FROM orders WHERE customer_id = 42", None,
                                        "db.log:7")])  # fmt: skip
    [found] = index_candidates([FakeAdvice()], samples)
    assert [s.text for s in found.runnable] == [
        "SELECT * FROM orders WHERE customer_id = 42",
        "SELECT count(*) FROM orders WHERE customer_id = 7",
    ]
    assert found.runnable[0].source == "db.log:7"
    assert found.skipped == ("SELECT * FROM orders WHERE customer_id = $1 AND status = $2",)
    [without] = index_candidates([FakeAdvice()])
    assert len(without.runnable) == 1 and len(without.skipped) == 2
