"""One load run of the investigation, measured, analysed and stored in the run history.

:class:`RunMeasurer` is the investigation's only way to load the service: it
builds a fresh sampler for each run from ``sampling`` (the caller's: it knows
the server's PID and owns the process), watches the database's statements
(``--db``) and the cache when the Context names them, runs the plan through
:func:`~redline.investigate.run_plan` and stores the result. Every figure the
investigation reports is read back from the stored run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from redline.diagnose import analyze_run
from redline.investigate._assembly import run_plan
from redline.metrics import ResourceSampler
from redline.optimize import PidRegistry
from redline.plan import Dsn, Plan
from redline.probes import RUN_DATABASE_PROBES, cache_watch, statement_watch
from redline.store import RunStore, StoredRun

__all__ = ["RunMeasurer", "Sampling", "stored_run"]

#: Builds a sampler for one run (the host's, the server's, the database's, the cache's).
Sampling = Callable[[Plan], AbstractContextManager[ResourceSampler]]
#: The tag every run of an investigation carries in the history.
RUN_TAG = "investigate"


class RunMeasurer:
    """Runs a plan with the server sampled, stores it, and returns the stored run's id."""

    def __init__(
        self,
        *,
        sampling: Sampling,
        history: Path,
        workers: int,
        stop: threading.Event,
        database: Dsn | None = None,
        cache: Dsn | None = None,
        pids: PidRegistry | None = None,
        profile_possible: bool = False,
    ) -> None:
        self.sampling = sampling
        self.history = history
        self.workers = workers
        self.stop = stop
        self.database = database
        self.cache = cache
        self.pids = pids
        #: Whether a server is sampled, so that it can be profiled.
        self.profile_possible = profile_possible
        #: The stored runs' ids, in the order they ran.
        self.run_ids: list[str] = []

    def __call__(self, plan: Plan, *, profile: bool) -> str:
        """Run ``plan`` (profiling the server in each steady window when asked and possible)."""
        watched = self.database is not None and self.database.scheme in RUN_DATABASE_PROBES
        statements = statement_watch(self.database) if watched and self.database else None
        cache = cache_watch(self.cache) if self.cache is not None else None
        with self.sampling(plan) as sampler:
            result = run_plan(
                plan, workers=self.workers, sampler=sampler, stop=self.stop,
                profile=profile and self.profile_possible, statements=statements, cache=cache,
                pids=self.pids,
            )  # fmt: skip
        with RunStore.open(self.history) as store:
            run_id = store.save(result, analyze_run(result), tags=(RUN_TAG,))
        self.run_ids.append(run_id)
        return run_id


def stored_run(history: Path, run_id: str) -> StoredRun:
    """The stored run ``run_id`` (its summary and its whole document)."""
    with RunStore.open(history) as store:
        return store.get(run_id)
