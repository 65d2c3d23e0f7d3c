"""``redline optimize db``: apply each advised index, measure it, keep it only if it helps.

For each index the advisor recommends (:class:`IndexCandidate`, from
:func:`index_candidates`), :func:`try_change`:

1. times every statement the index serves that can run (its own values, or a
   sample's from ``--samples``): one warm-up run, then ``repetitions`` runs of
   ``EXPLAIN ANALYZE``, each one's execution time;
2. with a load check (``--plan``), runs a short bounded load;
3. applies the Change through :func:`~redline.optimize.apply_change` (journaled
   first);
4. times the statements again (and runs the load again);
5. keeps it when :func:`judge` says the improvement is real (and the load did
   not regress), else undoes it through :func:`~redline.optimize.undo_entry`.

**The rule** (:func:`judge`). Per repetition, the statements' execution times
are summed. The change is kept when the median of those sums falls by at least
``min_effect`` (10 % by default) *and* the slowest repetition after is faster
than the fastest before, so the two spreads do not overlap: a speed-up that
noise could give is not a speed-up. With a load check, a comparison whose
verdict is *regressed* (:func:`redline.compare.compare_runs`, p95, throughput
or errors worse by 5 % or more beyond noise) undoes the change whatever the
statements say.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from redline.compare import ComparedRun, Comparison, NotComparable, Verdict, compare_runs
from redline.errors import ConfigError
from redline.optimize._applier import Applier, apply_change, undo_entry
from redline.optimize._change import Change, ChangeKind
from redline.optimize._journal import Journal, JournalEntry

__all__ = [
    "DEFAULT_MIN_EFFECT",
    "DEFAULT_REPETITIONS",
    "ChangeTrial",
    "Decision",
    "IndexCandidate",
    "Measure",
    "Statement",
    "StatementTiming",
    "Timing",
    "explain_measure",
    "index_candidates",
    "judge",
    "try_change",
]

#: The smallest fall in execution time that keeps a change (10 %).
DEFAULT_MIN_EFFECT: Final = 0.10
#: Timed runs of each statement, before and after (a warm-up run comes first, not counted).
DEFAULT_REPETITIONS: Final = 7
#: Fewest repetitions that give a median and a spread worth the name.
MIN_REPETITIONS: Final = 3
#: Most repetitions (each runs the statement for real).
MAX_REPETITIONS: Final = 50

#: Runs ``text`` with ``params`` once and returns its execution time in milliseconds.
Measure = Callable[[str, Sequence[Any] | None], float]
#: One short bounded load run, as compare reads it.
LoadCheck = Callable[[], ComparedRun]


class Decision(enum.Enum):
    """What became of one advised change."""

    #: Applied, measured faster by the rule, and left in place.
    KEPT = "kept"
    #: Applied, not measured faster (or the load regressed), and undone.
    UNDONE = "undone"
    #: Applied, not faster, and its undo failed: ``redline rollback`` retries it.
    UNDO_FAILED = "undo failed"
    #: The apply failed (what it may have half-done was undone).
    FAILED = "failed"
    #: Not applied: none of its statements can be timed (no values for ``$1``).
    NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Statement:
    """A statement an index serves, as it will be timed."""

    #: The statement as the advice lists it (pg_stat_statements' text).
    served: str
    #: What runs: ``served`` itself, or a sample of it with literal values.
    text: str
    #: Values for ``$1``... (from a sample), or None.
    params: tuple[str | None, ...] | None = None
    #: Where the values came from, when from a sample.
    source: str = ""


@dataclass(frozen=True)
class IndexCandidate:
    """An advised change, the statements it serves, and which of them can be timed."""

    change: Change
    served: tuple[str, ...]
    runnable: tuple[Statement, ...]
    #: Statements with ``$1`` placeholders and no sample of their values.
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timing:
    """The execution times of one statement (or of all together), one per repetition, ms."""

    runs_ms: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def fastest_ms(self) -> float:
        return min(self.runs_ms)

    @property
    def slowest_ms(self) -> float:
        return max(self.runs_ms)


@dataclass(frozen=True)
class StatementTiming:
    """One statement before and after the change."""

    statement: Statement
    before: Timing
    after: Timing

    @property
    def speedup(self) -> float:
        """Median before / median after (2.0: twice as fast)."""
        return self.before.median_ms / self.after.median_ms if self.after.median_ms else 0.0


@dataclass(frozen=True)
class ChangeTrial:
    """How trying one change went: the timings, the decision and why."""

    candidate: IndexCandidate
    decision: Decision
    reason: str
    timings: list[StatementTiming] = field(default_factory=list)
    #: The load before against the load after, with a load check.
    load: Comparison | NotComparable | None = None
    #: The journal entry of the change, once applied.
    entry_id: str | None = None

    @property
    def total_before(self) -> Timing | None:
        return _totals([t.before for t in self.timings])

    @property
    def total_after(self) -> Timing | None:
        return _totals([t.after for t in self.timings])


def index_candidates(advice: Sequence[Any], samples: Any = None) -> list[IndexCandidate]:
    """Each advice (:class:`~redline.probes.IndexAdvice`) with the statements it serves, split
    into those that can be timed and those that cannot.

    A statement can be timed when it has no ``$1`` placeholders, or when
    ``samples`` (:class:`~redline.probes.QuerySamples`) holds a sample of it.
    """
    from redline.probes._query_samples import PLACEHOLDER

    found = []
    for item in advice:
        runnable, skipped = [], []
        for query in item.queries:
            sample = samples.for_statement(query) if samples is not None else None
            if sample is not None:
                runnable.append(Statement(query, sample.text, sample.params, sample.source))
            elif PLACEHOLDER.search(query) is None:
                runnable.append(Statement(query, query))
            else:
                skipped.append(query)
        found.append(
            IndexCandidate(item.to_change(), tuple(item.queries), tuple(runnable), tuple(skipped))
        )
    return found


def judge(before: Sequence[Timing], after: Sequence[Timing], min_effect: float) -> tuple[bool, str]:
    """Whether the statements got faster by the rule in the module docstring, and why.

    Raises:
        ConfigError: ``min_effect`` outside (0, 1), or no timings, or unequal repetitions.
    """
    _check_min_effect(min_effect)
    total_before, total_after = _totals(before), _totals(after)
    if total_before is None or total_after is None:
        raise ConfigError("judge: no statement was timed")
    fall = 1.0 - total_after.median_ms / total_before.median_ms if total_before.median_ms else 0.0
    figures = (
        f"median {total_before.median_ms:.2f} -> {total_after.median_ms:.2f} ms "
        f"({abs(fall):.0%} {'less' if fall >= 0 else 'more'})"
    )
    if fall < min_effect:
        return False, f"{figures}: under the minimum effect of {min_effect:.0%}"
    if total_after.slowest_ms >= total_before.fastest_ms:
        return False, (
            f"{figures}, but the runs overlap (slowest after {total_after.slowest_ms:.2f} ms "
            f">= fastest before {total_before.fastest_ms:.2f} ms): within noise"
        )
    return True, (
        f"{figures}, at least {min_effect:.0%}; slowest after {total_after.slowest_ms:.2f} ms "
        f"< fastest before {total_before.fastest_ms:.2f} ms"
    )


def try_change(
    candidate: IndexCandidate,
    *,
    measure: Measure,
    journal: Journal,
    appliers: Mapping[ChangeKind, Applier],
    min_effect: float = DEFAULT_MIN_EFFECT,
    repetitions: int = DEFAULT_REPETITIONS,
    load: LoadCheck | None = None,
) -> ChangeTrial:
    """Apply ``candidate``'s change, measure it, and keep or undo it (module docstring).

    Args:
        candidate: the change and the statements to time.
        measure: runs one statement, returns its execution time (ms); it must not
            change the database (``EXPLAIN ANALYZE`` in a rolled-back transaction).
        journal: where the change is recorded before it runs.
        appliers: the applier of each change kind.
        min_effect: the smallest fall in execution time that keeps the change.
        repetitions: timed runs per statement, before and after.
        load: runs a short bounded load; with it, a regressed load undoes the change.

    Raises:
        ConfigError: ``min_effect`` or ``repetitions`` out of range.
        TargetError: a statement could not be timed (raised by ``measure``).
    """
    _check_min_effect(min_effect)
    if not MIN_REPETITIONS <= repetitions <= MAX_REPETITIONS:
        raise ConfigError(
            f"repetitions: {repetitions!r} is out of range; allowed "
            f"{MIN_REPETITIONS}..{MAX_REPETITIONS}"
        )
    if not candidate.runnable:
        return ChangeTrial(candidate, Decision.NOT_MEASURED, _not_measured(candidate))
    before = [_time(s, measure, repetitions) for s in candidate.runnable]
    load_before = load() if load is not None else None
    outcome = apply_change(candidate.change, journal, appliers)
    entry = _entry(journal, outcome.entry_id)
    if not outcome.ok:
        if entry is not None:
            undo_entry(entry, journal, appliers)  # a failed apply may have half-happened
        return ChangeTrial(candidate, Decision.FAILED, f"apply failed: {outcome.detail}",
                           entry_id=outcome.entry_id)  # fmt: skip
    after = [_time(s, measure, repetitions) for s in candidate.runnable]
    timings = [StatementTiming(s, b, a) for s, b, a in zip(candidate.runnable, before, after,
                                                           strict=True)]  # fmt: skip
    keep, reason = judge(before, after, min_effect)
    compared = None
    if load is not None and load_before is not None:
        compared = compare_runs(load_before, load(), force=True)
        keep, reason = _with_load(keep, reason, compared)
    if keep:
        return ChangeTrial(candidate, Decision.KEPT, reason, timings, compared, outcome.entry_id)
    undone = undo_entry(entry, journal, appliers) if entry is not None else None
    if undone is not None and not undone.ok:
        return ChangeTrial(candidate, Decision.UNDO_FAILED, f"{reason}; undo failed: "
                           f"{undone.detail}", timings, compared, outcome.entry_id)  # fmt: skip
    return ChangeTrial(candidate, Decision.UNDONE, reason, timings, compared, outcome.entry_id)


def _with_load(keep: bool, reason: str, compared: Comparison | NotComparable) -> tuple[bool, str]:
    if isinstance(compared, NotComparable):
        return keep, f"{reason}; load runs not comparable: {'; '.join(compared.reasons)}"
    if compared.verdict is Verdict.REGRESSED:
        worse = ", ".join(f"{label} {d.metric.value}" for label, d in compared.regressions())
        return False, f"{reason}; but the load regressed ({worse})"
    return keep, f"{reason}; load: {compared.verdict.value}"


def _time(statement: Statement, measure: Measure, repetitions: int) -> Timing:
    measure(statement.text, statement.params)  # warm-up: caches and the plan, not counted
    return Timing(tuple(measure(statement.text, statement.params) for _ in range(repetitions)))


def _totals(timings: Sequence[Timing]) -> Timing | None:
    """The statements' times summed per repetition."""
    if not timings:
        return None
    counts = {len(t.runs_ms) for t in timings}
    if len(counts) != 1:
        raise ConfigError(f"timings: unequal repetitions {sorted(counts)!r}")
    return Timing(tuple(sum(runs) for runs in zip(*(t.runs_ms for t in timings), strict=True)))


def _entry(journal: Journal, entry_id: str | None) -> JournalEntry | None:
    if entry_id is None:
        return None
    return next((e for e in journal.to_undo() if e.id == entry_id), None)


def _not_measured(candidate: IndexCandidate) -> str:
    return (
        f"not applied: its {len(candidate.skipped)} statement(s) have $1 placeholders and no "
        "values; give --samples (a server log, or a run with --db)"
    )


def _check_min_effect(min_effect: float) -> None:
    if not 0.0 < min_effect < 1.0:
        raise ConfigError(
            f"--min-effect: {min_effect!r} is out of range; allowed a share between 0 and 1 "
            "(e.g. 10%)"
        )


def explain_measure(conn: Any) -> Measure:
    """A :data:`Measure` over a PostgreSQL connection: ``EXPLAIN ANALYZE``'s execution time,
    in a rolled-back transaction (:func:`redline.probes._explain.explain`)."""
    from redline.probes._explain import explain

    def measure(text: str, params: Sequence[Any] | None) -> float:
        plan = explain(conn, text, analyze=True, params=params)
        return float(plan["Execution Time"])

    return measure
