"""One measured run, assembled: the load, the resource sampler, and the watchers beside it.

:func:`run_plan` is what ``redline run`` and ``redline investigate`` share:
it runs a plan with a sampler the caller built (the server started or attached
by the caller, who owns the process), profiles the server in each steady
window when asked, watches the database's statements and the cache, and
returns the :class:`~redline.load.RunResult` with all of it attached.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from redline.errors import ConfigError
from redline.load import LoadRunner, RunObserver, RunResult, RunWatcher
from redline.metrics import ResourceSampler
from redline.optimize import PidRegistry
from redline.plan import Plan
from redline.probes import ProfileSchedule, PySpyConfig, steady_windows

if TYPE_CHECKING:
    from redline.probes import MemcachedWatch, MySqlStatementWatch, RedisWatch, StatementWatch

__all__ = ["profile_schedule", "run_plan"]


def run_plan(
    plan: Plan,
    *,
    workers: int,
    sampler: ResourceSampler,
    stop: threading.Event,
    observer: RunObserver | None = None,
    profile: bool = False,
    statements: StatementWatch | MySqlStatementWatch | None = None,
    cache: RedisWatch | MemcachedWatch | None = None,
    watchers: Sequence[RunWatcher | None] = (),
    pids: PidRegistry | None = None,
) -> RunResult:
    """Run ``plan`` once with ``sampler`` and return the result with its evidence attached.

    Args:
        plan: the load to apply.
        workers: load generator processes.
        sampler: the host's (and the server's, when known) resource sampler, not started.
        stop: set it to end the run early (the partial run is returned).
        observer: told of each second (a live view, outputs).
        profile: py-spy the sampled server in each steady window of the plan.
        statements: the database's statements during the run (checked by the caller).
        cache: the cache's activity during the run.
        watchers: more watchers (a dashboard, an output feed); None entries are skipped.
        pids: where a profiler redline starts is registered (``redline verify``).

    Raises:
        ConfigError: ``profile`` without a sampled server, or a plan with no steady window.
    """
    schedule = profile_schedule(plan, sampler, pids) if profile else None
    watching = (schedule, statements, cache, *watchers)
    runner = LoadRunner(
        plan,
        workers=workers,
        observer=observer,
        sampler=sampler,
        watchers=tuple(w for w in watching if w is not None),
    )
    for watcher in watchers:
        bind = getattr(watcher, "bind", None)
        if bind is not None:
            bind(runner.run_id)  # an output feed names the run it streams
    result = runner.run(stop)
    if schedule is not None:
        result.profiles = [w.to_dict() for w in schedule.stop()]
    if statements is not None:
        result.database = {**statements.to_dict(), **_query_samples(sampler)}
    result.cache = cache.to_dict() if cache is not None else None
    return result


def profile_schedule(
    plan: Plan, sampler: ResourceSampler, pids: PidRegistry | None
) -> ProfileSchedule:
    """py-spy on the sampled server in each steady window of the plan.

    Raises:
        ConfigError: no sampled server, or no steady window of 1 s or more.
    """
    windows = steady_windows(plan.phases())
    if sampler.server_pid is None:
        raise ConfigError("--profile: needs the server: --server-pid PID or --server-cmd CMD")
    if not windows:
        raise ConfigError("--profile: the plan has no steady window of 1 s or more to profile")
    return ProfileSchedule(sampler.server_pid, windows, PySpyConfig(), registry=pids)


def _query_samples(sampler: ResourceSampler) -> dict[str, Any]:
    """The statements the database's sessions ran with their values, where its probe keeps
    them (PostgreSQL): ``redline db analyze --samples RUN`` plans statements for them."""
    samples = getattr(sampler.probe("database"), "samples", None)
    return {"samples": samples.to_list()} if samples is not None else {}
