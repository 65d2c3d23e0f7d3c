"""The parent process of a run: starts the workers at one instant, merges
what they send each second, judges thresholds, and stops them.

The parent holds no event loop: it waits on the workers' pipes and on a stop
flag that ``redline.cli`` sets from its signal handlers.
"""

from __future__ import annotations

import enum
import multiprocessing
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection as Pipe
from multiprocessing.connection import wait
from typing import Any, Protocol, cast

from redline.clock import NS_PER_S, Clock, MonotonicClock
from redline.errors import RedlineError, TargetError
from redline.load._build import max_connections, peak_vus
from redline.load._generate import new_run_id
from redline.load._judge import WindowJudge, WindowVerdict
from redline.load._limits import raise_open_files_limit
from redline.load._schedule import share
from redline.load._selfcheck import SelfCheck, self_check
from redline.load._thresholds import ThresholdOutcome, ThresholdWatch
from redline.load._worker import WorkerSpec, worker_main
from redline.metrics import GeneratorStats, ResourceSampler, ResourceSamples, RunSeries
from redline.plan import Plan, Threshold

__all__ = ["LoadRunner", "Progress", "RunObserver", "RunResult", "RunStatus", "RunWatcher"]

#: How long workers may take to start (import, build) before the run fails.
WORKER_START_TIMEOUT_S = 30.0
#: Delay between "all ready" and the synchronized start.
START_DELAY_NS = NS_PER_S // 5
#: How long stopped workers get to send their last figures.
STOP_GRACE_S = 1.5
#: Beyond the plan's duration, how long to wait for workers before stopping them.
OVERRUN_S = 10.0


class RunStatus(enum.Enum):
    """How a run ended."""

    #: The plan ran to its end.
    COMPLETED = "completed"
    #: Stopped by the user (Ctrl-C, SIGTERM); the figures are partial.
    INTERRUPTED = "interrupted"
    #: Stopped because an abort threshold failed.
    ABORTED = "aborted"
    #: A stress or breakpoint test stopped at the first step that broke: its purpose.
    BROKE = "broke"
    #: Something in the run itself failed (a feeder out of rows with ``fail``, a
    #: shape function that raised); the figures up to then are kept.
    FAILED = "failed"


@dataclass
class Progress:
    """What the live view is told after each merged second."""

    plan: Plan
    series: RunSeries
    second: int
    elapsed_s: float
    planned_s: float
    workers: int


class RunWatcher(Protocol):
    """Follows the run's timeline (a profiler): started at its start, stopped at its end."""

    def start(self, start_ns: int) -> None:
        """The run's synchronized start, on the runner's clock."""
        ...

    def stop(self) -> object:
        """The run has ended (also on error or Ctrl-C)."""
        ...


class RunObserver(Protocol):
    """Something that watches a run second by second (the live view)."""

    def on_second(self, progress: Progress) -> None:
        """A second has been merged from every worker."""
        ...


@dataclass
class RunResult:
    """Everything a run measured, ready to be summarised, written or stored."""

    plan: Plan
    workers: int
    started_at: datetime
    elapsed_s: float
    status: RunStatus
    series: RunSeries
    thresholds: list[ThresholdOutcome] = field(default_factory=list)
    aborted_by: str | None = None
    interrupted_requests: int = 0
    lost_workers: int = 0
    #: Errors a Python scenario raised, by message, with how often.
    script_errors: dict[str, int] = field(default_factory=dict)
    self_check: SelfCheck = field(default_factory=lambda: self_check([], 1))
    #: Stress steps or breakpoint windows judged during the run, in order.
    windows: list[WindowVerdict] = field(default_factory=list)
    #: The run's id (``${run_id}`` in test data), for finding what it wrote.
    run_id: str = ""
    #: Host and server resources sampled during the run, when a sampler was given.
    resources: ResourceSamples | None = None
    #: CPU profiles of the server, one per steady window (``redline run --profile``),
    #: as plain dicts (see ``redline.probes.WindowProfile.to_dict``).
    profiles: list[dict[str, Any]] = field(default_factory=list)
    #: The database under test (``redline run --db``): its statements during the run,
    #: as plain dicts (``{"dsn": redacted, "statements": [...]}``); None without it.
    database: dict[str, Any] | None = None
    #: The cache under test (``redline run --cache``): what its watch read, as a plain dict
    #: (``{"dsn": redacted, "kind", "server", "slowlog", "notes"}``); None without it.
    cache: dict[str, Any] | None = None

    @property
    def partial(self) -> bool:
        """True when the run stopped before its plan's end for another reason than its purpose."""
        return self.status not in (RunStatus.COMPLETED, RunStatus.BROKE)

    @property
    def thresholds_passed(self) -> bool:
        """True when every threshold held."""
        return all(t.passed for t in self.thresholds)


class LoadRunner:
    """Runs a plan on worker processes.

    Example::

        result = LoadRunner(plan, workers=2).run(threading.Event())
    """

    def __init__(
        self,
        plan: Plan,
        *,
        workers: int,
        observer: RunObserver | None = None,
        clock: Clock | None = None,
        sampler: ResourceSampler | None = None,
        watchers: tuple[RunWatcher, ...] = (),
    ) -> None:
        self._plan = plan
        self._sampler = sampler
        self._watchers = watchers
        self._resources: ResourceSamples | None = None
        # A worker without a VU would have nothing to do: never more workers than VUs.
        self._workers = max(1, min(workers, peak_vus(plan)))
        self._observer = observer
        self._clock = clock or MonotonicClock()
        self._series = RunSeries()
        self._watch = ThresholdWatch(list(plan.thresholds))
        self._reported: dict[int, int] = {}
        self._done: set[int] = set()
        self._merged = -1
        self._dropped = 0
        self._interrupted_requests = 0
        self._aborted_by: Threshold | None = None
        #: Why the run failed, once a worker said so.
        self._failure: str | None = None
        windows = plan.judged_windows()
        self._judge = (
            WindowJudge(windows, list(plan.thresholds), plan.test.error_limit)
            if windows and plan.test is not None
            else None
        )
        self._breach: WindowVerdict | None = None
        #: The run's id: ``${run_id}`` in every worker, and in the results.
        self.run_id = new_run_id()
        #: Workers that exited without saying goodbye.
        self.lost_workers = 0
        self._script_errors: dict[str, int] = {}

    def run(self, stop: threading.Event) -> RunResult:
        """Run the plan until it ends, ``stop`` is set, or an abort threshold fails.

        Raises:
            ConfigError: the open-files limit is too low for the plan's
                connections, even raised to its hard limit (before any worker starts).
        """
        # Checked here, before any worker starts, so a limit that is too low is
        # bad input (one line, exit 2) rather than a failed run; forked workers
        # inherit the raised limit.
        per_worker = max(share(max_connections(self._plan), self._workers - 1, self._workers), 1)
        raise_open_files_limit(per_worker)
        # Fork is much faster to start (nothing re-imported) and safe while
        # this process has a single thread; with more threads, spawn.
        ctx = (
            multiprocessing.get_context("fork")
            if threading.active_count() == 1
            else multiprocessing.get_context("spawn")
        )
        pipes: list[Pipe] = []
        procs = []
        try:
            for index in range(self._workers):
                parent_end, child_end = ctx.Pipe()
                spec = WorkerSpec(self._plan, index, self._workers, self.run_id)
                proc = ctx.Process(target=worker_main, args=(child_end, spec), daemon=True)
                proc.start()
                child_end.close()
                pipes.append(parent_end)
                procs.append(proc)
            if not self._await_ready(pipes, stop):
                for pipe in pipes:
                    _send_quietly(pipe, ("stop",))
                return self._result(datetime.now(UTC), 0.0, RunStatus.INTERRUPTED)
            return self._drive(pipes, stop)
        finally:
            for proc in procs:
                proc.join(timeout=STOP_GRACE_S)
                if proc.is_alive():
                    proc.kill()
                    proc.join()

    def _await_ready(self, pipes: list[Pipe], stop: threading.Event) -> bool:
        """Wait for every worker to be built; False when stopped meanwhile."""
        waiting = set(range(len(pipes)))
        deadline = self._clock.now_ns() + int(WORKER_START_TIMEOUT_S * NS_PER_S)
        while waiting:
            if stop.is_set():
                return False
            if self._clock.now_ns() > deadline:
                raise RedlineError("the load workers did not start in time")
            for ready in wait([pipes[i] for i in waiting], timeout=0.1):
                message = _receive(cast(Pipe, ready))
                if message[0] == "failed":
                    raise TargetError(message[2])
                waiting.discard(message[1])
        return True

    def _drive(self, pipes: list[Pipe], stop: threading.Event) -> RunResult:
        start_ns = self._clock.now_ns() + START_DELAY_NS
        started_at = datetime.now(UTC)
        # Watchers first: what they read at the start (a database's statement counts)
        # must come before the workers' first request, which may follow the "start" at once.
        for watcher in self._watchers:
            watcher.start(start_ns)
        for pipe in pipes:
            pipe.send(("start", start_ns))
        if self._sampler is not None:
            self._sampler.start(start_ns)
        try:
            status = self._pump(pipes, stop, start_ns)
            elapsed_s = max(0.0, (self._clock.now_ns() - start_ns) / NS_PER_S)
            self._merge_complete_seconds(final=True)
        finally:
            if self._sampler is not None:
                self._resources = self._sampler.stop()
            for watcher in self._watchers:
                watcher.stop()
        return self._result(started_at, elapsed_s, status)

    def _result(self, started_at: datetime, elapsed_s: float, status: RunStatus) -> RunResult:
        return RunResult(
            plan=self._plan,
            workers=self._workers,
            started_at=started_at,
            elapsed_s=elapsed_s,
            status=status,
            series=self._series,
            thresholds=self._watch.final(self._series, elapsed_s, self._dropped),
            aborted_by=self._stopped_by(),
            interrupted_requests=self._interrupted_requests,
            lost_workers=self.lost_workers,
            script_errors=self._script_errors,
            self_check=self_check(self._generator_seconds(), self._workers),
            windows=self._judge.verdicts if self._judge is not None else [],
            run_id=self.run_id,
            resources=self._resources,
        )

    def _stopped_by(self) -> str | None:
        if self._failure is not None:
            return self._failure
        if self._aborted_by is not None:
            return self._aborted_by.source
        if self._breach is not None:
            return f"{self._breach.window.name}: {'; '.join(self._breach.broken)}"
        return None

    def _pump(self, pipes: list[Pipe], stop: threading.Event, start_ns: int) -> RunStatus:
        status = RunStatus.COMPLETED
        stop_sent_ns: int | None = None
        overrun_ns = start_ns + int((self._plan.planned_duration_s() + OVERRUN_S) * NS_PER_S)
        index_of = {id(p): i for i, p in enumerate(pipes)}
        while len(self._done) < len(pipes):
            live = [p for i, p in enumerate(pipes) if i not in self._done]
            for ready in wait(live, timeout=0.1):
                pipe = cast(Pipe, ready)
                try:
                    message = pipe.recv()
                except EOFError:
                    # A worker died: keep what every worker sent so far.
                    self.lost_workers += 1
                    message = ("done", index_of[id(pipe)], "lost", 0)
                self._handle(message)
            now = self._clock.now_ns()
            if stop_sent_ns is None:
                if stop.is_set():
                    status = RunStatus.INTERRUPTED
                elif self._failure is not None:
                    status = RunStatus.FAILED
                elif self._aborted_by is not None:
                    status = RunStatus.ABORTED
                elif self._breach is not None:
                    status = RunStatus.BROKE
                elif now > overrun_ns:
                    status = RunStatus.INTERRUPTED
                if status is not RunStatus.COMPLETED:
                    for pipe in live:
                        _send_quietly(pipe, ("stop",))
                    stop_sent_ns = now
            elif now - stop_sent_ns > STOP_GRACE_S * NS_PER_S:
                break  # a worker that cannot stop in time keeps nothing from the others
        return status

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind, index = message[0], message[1]
        if kind == "second":
            _, _, second, stats, generator = message
            for s in stats:
                self._series.add(s)
            self._series.add_generator(second, generator)
            self._dropped += generator.dropped_iterations
            self._reported[index] = second
        elif kind == "done":
            self._interrupted_requests += message[3]
            for text, count in (message[4] if len(message) > 4 else {}).items():
                self._script_errors[text] = self._script_errors.get(text, 0) + count
            self._done.add(index)
        elif kind == "failed":
            # Stop every worker and keep what was measured (see _pump).
            self._failure = self._failure or message[2]
        self._merge_complete_seconds(final=False)

    def _merge_complete_seconds(self, *, final: bool) -> None:
        """Tell the observer and the thresholds about every second all workers sent."""
        live = [self._reported.get(i, -1) for i in range(self._workers) if i not in self._done]
        reported = [self._reported.get(i, -1) for i in range(self._workers)]
        complete = max(reported, default=-1) if final or not live else min(live)
        for second in range(self._merged + 1, complete + 1):
            self._merged = second
            abort = self._watch.on_second(self._series, second, self._dropped)
            if abort is not None and self._aborted_by is None:
                self._aborted_by = abort
            if self._judge is not None and self._breach is None:
                self._breach = self._judge.on_second(self._series, second)
            if self._observer is not None:
                self._observer.on_second(self._progress(second))

    def _generator_seconds(self) -> list[GeneratorStats]:
        found = (self._series.generator_at(s) for s in self._series.seconds())
        return [g for g in found if g is not None]

    def _progress(self, second: int) -> Progress:
        return Progress(
            plan=self._plan,
            series=self._series,
            second=second,
            elapsed_s=float(second + 1),
            planned_s=self._plan.planned_duration_s(),
            workers=self._workers,
        )


def _receive(pipe: Pipe) -> tuple[Any, ...]:
    try:
        message: tuple[Any, ...] = pipe.recv()
    except EOFError:
        raise RedlineError("a load worker exited unexpectedly") from None
    return message


def _send_quietly(pipe: Pipe, message: tuple[Any, ...]) -> None:
    try:
        pipe.send(message)
    except (BrokenPipeError, OSError):
        pass  # the worker already exited; its figures are in
