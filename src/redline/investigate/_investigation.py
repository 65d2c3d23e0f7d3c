"""The investigation's phases, each a function of its budget, and what they leave behind.

:class:`Investigation` holds what the phases share (the stored runs' ids, the
analyses, the diagnosis, the changes tried) and gives :meth:`~Investigation.steps`
to :func:`~redline.investigate._sequence.run_phases`. Every figure is read back
from the stored runs (:func:`~redline.investigate._measure.stored_run`), never
computed beside them, so the summary says what ``redline show RUN`` says.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from redline.compare import ComparedRun, Comparison, Verdict, compare_runs
from redline.diagnose import Diagnosis, diagnose, find_knee, load_points, measured_within_sla
from redline.errors import RedlineError
from redline.investigate._budget import BudgetConfig, PhaseName
from redline.investigate._plans import baseline_plan, scalability_plan
from redline.investigate._progress import Status
from redline.investigate._sequence import PhaseRecord, PhaseStep
from redline.plan import Comparison as Op
from redline.plan import Dsn, Metric, Plan
from redline.plan._context import Context
from redline.report import write_report
from redline.report.html import Baseline, render_html_report
from redline.store import StoredRun

__all__ = ["InvestigateConfig", "Investigation", "MeasureRun", "SUMMARY_SCHEMA_VERSION"]

#: The summary file's schema. History: 1, the first.
SUMMARY_SCHEMA_VERSION: Final = 1
#: The summary's file name, in the output directory.
SUMMARY_FILE: Final = "investigation.json"
#: Findings the summary lists.
TOP_FINDINGS: Final = 10
#: The figures whose regression undoes the kept changes (the delivery summary's).
DELIVERY_METRICS: Final = ("p95", "throughput", "error_rate")
#: Timed runs of each statement an index serves, before and after it.
INDEX_REPETITIONS: Final = 5


class MeasureRun(Protocol):
    """Runs a plan (profiling the server when asked), stores it, returns its run id."""

    def __call__(self, plan: Plan, *, profile: bool) -> str: ...


@dataclass(frozen=True)
class InvestigateConfig:
    """What to do besides measuring, and where to write."""

    budgets: BudgetConfig
    #: The run history the runs are stored in (and the journal beside it).
    history: Path
    #: Where report.html and investigation.json go.
    out_dir: Path
    #: Apply the advised indexes, re-measure, keep what helped.
    optimize: bool = False
    #: Undo every change at the end, through the journal, and check.
    rollback_after: bool = False
    #: The journal of changes (``redline changes``, ``redline rollback``).
    journal: Path | None = None
    #: The statements a SQLite database runs (it keeps no statistics of its own).
    queries: Path | None = None


@dataclass
class _State:
    runs: dict[str, str] = field(default_factory=dict)
    baseline_plan: Plan | None = None
    analyses: list[dict[str, Any]] = field(default_factory=list)
    advice: dict[str, list[Any]] = field(default_factory=dict)
    samples: Any = None
    diagnosis: Diagnosis | None = None
    capacity: dict[str, Any] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    kept_entries: list[str] = field(default_factory=list)
    comparison: dict[str, Any] | None = None
    rollback: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)


class Investigation:
    """The phases of ``redline investigate`` over one Context (see the module docstring)."""

    def __init__(
        self,
        context: Context,
        config: InvestigateConfig,
        *,
        measure: MeasureRun,
        read_run: Callable[[str], StoredRun],
    ) -> None:
        self.context = context
        self.config = config
        self._measure = measure
        self._read_run = read_run
        self.state = _State()

    def steps(self) -> list[PhaseStep]:
        """The phases to run, in order, for this configuration."""
        steps = [
            PhaseStep(PhaseName.BASELINE, Status.BASELINING, self.baseline),
            PhaseStep(PhaseName.SCALABILITY, Status.LOAD_TESTING, self.scalability),
            PhaseStep(PhaseName.PROFILE, Status.PROFILING, self.profile),
            PhaseStep(PhaseName.ANALYSIS, Status.ANALYZING, self.analysis),
            PhaseStep(PhaseName.DIAGNOSIS, Status.ANALYZING, self.diagnosis),
        ]
        if self.config.optimize:
            steps.append(PhaseStep(PhaseName.OPTIMIZE, Status.OPTIMIZING, self.optimize))
            steps.append(PhaseStep(PhaseName.VALIDATE, Status.VALIDATING, self.validate))
        steps.append(PhaseStep(PhaseName.REPORT, Status.VALIDATING, self.report))
        if self.config.rollback_after:
            steps.append(PhaseStep(PhaseName.ROLLBACK, Status.VALIDATING, self.rollback))
        return steps

    # -- the phases -------------------------------------------------------------------------

    def baseline(self, budget_s: float) -> Mapping[str, Any]:
        """A short load at the plan's level, repeated; its figures and their spread."""
        plan = baseline_plan(self.context, budget_s)
        self.state.baseline_plan = plan
        run = self._read_run(self._run("baseline", plan, profile=False))
        spread = ((run.document.get("analysis") or {}).get("repeat_spread") or {}).get("p95_us")
        figures = _run_figures(run, "baseline")
        if spread:
            figures["baseline_p95_spread_ms"] = [spread["min"] / 1000, spread["max"] / 1000]
        return figures

    def scalability(self, budget_s: float) -> Mapping[str, Any]:
        """Steps up to the SLA breach, the server profiled in each step's steady window."""
        run = self._read_run(self._run("scalability", scalability_plan(self.context, budget_s),
                                       profile=True))  # fmt: skip
        points = _points(run.document)
        figures: dict[str, Any] = {"steps_run": len(points)}
        if points:
            figures["max_rps"] = max(p.rps for p in points)
        breaking = (run.document.get("analysis") or {}).get("breaking_point") or {}
        if breaking.get("first_bad"):
            figures["sla_breached_at"] = breaking["first_bad"].get("name")
        return figures

    def profile(self, _budget_s: float) -> Mapping[str, Any]:
        """The profiles the scalability run took (one per steady step)."""
        profiles = self._read_run(self.state.runs["scalability"]).document.get("profiles") or []
        if not profiles:
            self.state.notes.append("profile: no server profile (no server PID, or no py-spy)")
        return {"profiles": len(profiles)}

    def analysis(self, _budget_s: float) -> Mapping[str, Any]:
        """The databases and caches, read with the statements the runs caught."""
        from redline.probes import samples_from_document

        main = self.state.runs["scalability"]
        self.state.samples = samples_from_document(self._read_run(main).document, f"run {main}")
        for dsn in self.context.databases:
            self._analyze(dsn, DATABASE_ANALYZERS)
        for dsn in self.context.caches:
            self._analyze(dsn, CACHE_ANALYZERS)
        advised = sum(len(a) for a in self.state.advice.values())
        return {"analyses": len(self.state.analyses), "indexes_advised": advised}

    def diagnosis(self, _budget_s: float) -> Mapping[str, Any]:
        """Findings from the scalability run; its knee and capacity within the p95 SLA."""
        document = self._read_run(self.state.runs["scalability"]).document
        self.state.diagnosis = diagnose(document)
        self.state.capacity = _capacity(_points(document), _p95_limit_us(self.context))
        findings = self.state.diagnosis.findings
        return {
            "findings": len(findings),
            **({"top_finding": findings[0].title} if findings else {}),
            **{k: v for k, v in self.state.capacity.items() if v is not None},
        }

    def optimize(self, budget_s: float) -> Mapping[str, Any]:
        """Each advised index applied through the journal, kept only when measured faster."""
        from redline.investigate._optimizing import try_indexes

        for dsn in self.context.databases:
            advice = self.state.advice.get(str(dsn))
            if not advice:
                continue
            trials = try_indexes(dsn, advice, self.state.samples, self._journal(),
                                 repetitions=INDEX_REPETITIONS)  # fmt: skip
            self.state.changes.extend(trials)
            self.state.kept_entries.extend(
                t["entry_id"] for t in trials if t["decision"] == "kept" and t["entry_id"]
            )
        if not self.context.databases:
            self.state.notes.append("optimize: no database in the context; nothing to change")
        kept = sum(1 for c in self.state.changes if c["decision"] == "kept")
        return {"changes_tried": len(self.state.changes), "changes_kept": kept}

    def validate(self, _budget_s: float) -> Mapping[str, Any]:
        """The baseline again, compared with the first; a regression undoes what was kept."""
        plan = self.state.baseline_plan
        if plan is None:
            raise RedlineError("validate: no baseline ran")
        after = self._read_run(self._run("after", plan, profile=False))
        before = self._read_run(self.state.runs["baseline"])
        compared = compare_runs(
            ComparedRun.from_results(before.document, label="before"),
            ComparedRun.from_results(after.document, label="after"),
        )
        self.state.comparison = compared.to_dict()
        figures: dict[str, Any] = _run_figures(after, "after")
        if isinstance(compared, Comparison):
            figures.update({k: v for k, v in compared.improvement.to_dict().items() if v})
            figures["verdict"] = compared.verdict.value
            worse = _delivery_regressions(compared)
            if worse and self.state.kept_entries:
                self.state.notes.append(f"validate: {', '.join(worse)} regressed over every "
                                        "endpoint; the kept changes undone")  # fmt: skip
                self._undo_kept()
        return figures

    def report(self, _budget_s: float) -> Mapping[str, Any]:
        """report.html (the scalability run), comparison.html when optimized, the summary."""
        out = self.config.out_dir
        main = self._read_run(self.state.runs["scalability"])
        self._write_html(out / "report.html", main.document, None)
        if "after" in self.state.runs:
            before = self._read_run(self.state.runs["baseline"])
            after = self._read_run(self.state.runs["after"])
            self._write_html(out / "comparison.html", after.document,
                             Baseline(before.document, "before"))  # fmt: skip
        self.state.reports["summary"] = str(out / SUMMARY_FILE)
        self.write_summary()
        return {"report": str(out / "report.html")}

    def rollback(self, _budget_s: float) -> Mapping[str, Any]:
        """Every change this investigation kept, undone newest first; the journal checked."""
        from redline.optimize._verify import check_journal

        outcomes = self._undo_kept()
        check = check_journal(self._journal().entries())
        self.state.notes.append(f"verify: journal: {check.figure}")
        return {"rolled_back": sum(1 for o in outcomes if o["ok"]), "verify_passed": check.passed}

    # -- what they share --------------------------------------------------------------------

    def summary(self, records: list[PhaseRecord] | None = None) -> dict[str, Any]:
        """The JSON summary: the runs, their figures as stored, and what was found and done."""
        state = self.state
        runs = {label: self._read_run(run_id) for label, run_id in state.runs.items()}
        findings = state.diagnosis.findings[:TOP_FINDINGS] if state.diagnosis else []
        return {
            "schema_version": SUMMARY_SCHEMA_VERSION,
            "runs": {label: run.id for label, run in runs.items()},
            "figures": {label: _stored_figures(run) for label, run in runs.items()},
            "improvement": (state.comparison or {}).get("improvement"),
            "verdict": (state.comparison or {}).get("verdict"),
            "capacity": state.capacity,
            "findings": [_finding(f) for f in findings],
            "analyses": state.analyses,
            "changes": state.changes,
            "rollback": state.rollback,
            "reports": state.reports,
            "phases": [r.to_dict() for r in records or []],
            "notes": state.notes,
        }

    def write_summary(self, records: list[PhaseRecord] | None = None) -> Path:
        """Write the summary (with the phases' records, once they are known); its path."""
        path = self.config.out_dir / SUMMARY_FILE
        write_report(path, json.dumps(self.summary(records), indent=1) + "\n", flag="--out-dir")
        return path

    def _run(self, label: str, plan: Plan, *, profile: bool) -> str:
        run_id = self._measure(plan, profile=profile)
        self.state.runs[label] = run_id
        return run_id

    def _analyze(self, dsn: Dsn, analyzers: Mapping[str, Analyzer]) -> None:
        analyzer = analyzers.get(dsn.scheme)
        if dsn.scheme == "sqlite" and self.config.queries is not None:
            analyzer = _sqlite_analyzer(self.config.queries)
        if analyzer is None:
            self.state.notes.append(f"analysis: {dsn.scheme} is not analyzed here ({dsn})")
            return
        try:
            found, advice = analyzer(dsn, self.state.samples)
        except RedlineError as exc:
            self.state.notes.append(f"analysis of {dsn}: {exc.message}")
            return
        self.state.analyses.append({"dsn": str(dsn), **found})
        if advice:
            self.state.advice[str(dsn)] = advice

    def _journal(self) -> Any:
        from redline.optimize import SqliteJournal, default_journal_path

        return SqliteJournal(self.config.journal or default_journal_path(self.config.history))

    def _undo_kept(self) -> list[dict[str, Any]]:
        from redline.optimize import appliers, rollback

        table = appliers(dsns=self.context.databases)
        outcomes = [
            {"change": outcome.change.summary, "ok": outcome.ok, "detail": outcome.detail}
            for entry_id in reversed(self.state.kept_entries)
            for outcome in rollback(self._journal(), table, entry_id=entry_id)
        ]
        self.state.kept_entries.clear()
        self.state.rollback.extend(outcomes)
        return outcomes

    def _write_html(self, path: Path, document: Mapping[str, Any], base: Baseline | None) -> None:
        write_report(path, render_html_report(document, baseline=base), flag="--out-dir")
        self.state.reports[path.stem] = str(path)


#: Reads one database or cache: what it found (JSON-ready) and its index advice.
Analyzer = Callable[[Dsn, Any], tuple[dict[str, Any], list[Any]]]


def _postgres(dsn: Dsn, samples: Any) -> tuple[dict[str, Any], list[Any]]:
    from redline.probes import analyze_postgres

    found = analyze_postgres(dsn, advise=True, samples=samples)
    return found.to_dict(), list(found.advice)


def _sqlite_analyzer(queries: Path) -> Analyzer:
    """SQLite: each statement of ``queries`` planned, with the candidates that improve it."""

    def analyze(dsn: Dsn, _samples: Any) -> tuple[dict[str, Any], list[Any]]:
        from redline.investigate._optimizing import sqlite_advice
        from redline.probes import analyze_sqlite

        found = analyze_sqlite(dsn, queries)
        advice = sqlite_advice(found.planned)
        summary = {"statements": len(found.planned), "table_rows": found.table_rows,
                   "advice": [a.change.summary for a in advice], "notes": found.notes}  # fmt: skip
        return summary, advice

    return analyze


def _mysql(dsn: Dsn, _samples: Any) -> tuple[dict[str, Any], list[Any]]:
    from redline.probes import analyze_mysql

    return {"notes": list(analyze_mysql(dsn).notes)}, []


def _redis(dsn: Dsn, _samples: Any) -> tuple[dict[str, Any], list[Any]]:
    from redline.probes import analyze_redis

    return analyze_redis(dsn).to_dict(), []


def _memcached(dsn: Dsn, _samples: Any) -> tuple[dict[str, Any], list[Any]]:
    from redline.probes import analyze_memcached

    return analyze_memcached(dsn).to_dict(), []


#: The database analyses, by scheme (SQLite keeps no statement statistics: not here).
DATABASE_ANALYZERS: Final[Mapping[str, Analyzer]] = {"postgresql": _postgres, "mysql": _mysql}
#: The cache analyses, by scheme.
CACHE_ANALYZERS: Final[Mapping[str, Analyzer]] = {"redis": _redis, "memcached": _memcached}


def _delivery_regressions(compared: Comparison) -> list[str]:
    """The delivery figures (p95, throughput, error rate over every endpoint) that regressed:
    one endpoint's tail is not what a change is kept or undone for."""
    return [
        d.metric.value
        for d in compared.overall().deltas.values()
        if d.metric.value in DELIVERY_METRICS and d.verdict is Verdict.REGRESSED
    ]


def _run_figures(run: StoredRun, prefix: str) -> dict[str, Any]:
    return {f"{prefix}_{k}": v for k, v in _stored_figures(run).items()}


def _stored_figures(run: StoredRun) -> dict[str, Any]:
    """p95, throughput and error rate exactly as the run history lists them."""
    summary = run.summary
    return {
        "run_id": summary.id,
        "p95_ms": None if summary.p95_us is None else summary.p95_us / 1000,
        "rps": summary.rps,
        "error_rate": summary.error_rate,
    }


def _points(document: Mapping[str, Any]) -> list[Any]:
    try:
        return load_points(document)
    except RedlineError:
        return []  # no held level with requests: a run stopped before its first step


def _p95_limit_us(context: Context) -> float | None:
    limits = [s.value for s in context.slas if s.metric is Metric.P95 and s.endpoint is None
              and s.op in (Op.LT, Op.LE)]  # fmt: skip
    return min(limits) if limits else None


def _capacity(points: list[Any], limit_us: float | None) -> dict[str, Any]:
    if not points:
        return {}
    knee = find_knee([p.level for p in points], [float(p.p95_us) for p in points])
    within = measured_within_sla(points, limit_us) if limit_us is not None else None
    return {
        "knee_level": knee.x if knee is not None else None,
        "capacity_rps": within.rps if within is not None else None,
        "capacity_explanation": within.explanation if within is not None else None,
    }


def _finding(finding: Any) -> dict[str, Any]:
    return {
        "title": finding.title,
        "category": str(finding.category.value),
        "severity": str(finding.severity.value),
        "location": finding.location,
    }
