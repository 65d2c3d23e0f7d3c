"""One short, bounded run of a plan, for ``redline optimize db --plan`` and ``redline verify``.

The plan runs as written (so it stays comparable with its stored baseline),
with no live view and nothing saved; a plan longer than
:data:`MAX_SHORT_LOAD_S` is refused before any request, so these checks stay
short. Ctrl-C stops the run as it stops ``redline run``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Final

from redline.compare import ComparedRun
from redline.errors import ConfigError
from redline.plan import Plan

__all__ = ["MAX_SHORT_LOAD_S", "load_short_plan", "short_load"]

#: The longest plan a check runs, seconds.
MAX_SHORT_LOAD_S: Final = 60.0


def load_short_plan(path: Path, *, flag: str = "--plan") -> Plan:
    """The plan in ``path``, in scope and at most :data:`MAX_SHORT_LOAD_S` long.

    Raises:
        ConfigError: not a plan file, or too long.
        ScopeError: a target out of scope.
    """
    from redline.cli._run import PLAN_LOADERS

    loader = PLAN_LOADERS.get(path.suffix)
    if loader is None or not path.is_file():
        raise ConfigError(f"{flag}: {str(path)!r} is not a plan file (.toml, .yaml or .py)")
    plan = loader(path)
    plan.validate_scope()
    duration_s = plan.planned_duration_s()
    if duration_s > MAX_SHORT_LOAD_S:
        raise ConfigError(
            f"{flag}: the plan lasts {duration_s:g} s; a check runs plans of at most "
            f"{MAX_SHORT_LOAD_S:g} s",
            hint='use a short copy of the baseline\'s plan (e.g. duration = "10s")',
        )
    return plan


def short_load(plan: Plan, *, label: str) -> ComparedRun:
    """Run ``plan`` once (quietly, unsaved) and return it as compare reads it.

    Raises:
        TargetError: the run failed.
    """
    from redline.cli._run import _default_workers, stop_on_signals
    from redline.diagnose import analyze_run
    from redline.errors import TargetError
    from redline.load import LoadRunner, RunStatus
    from redline.report import results_to_dict

    stop = threading.Event()
    stop_on_signals(stop)
    result = LoadRunner(plan, workers=plan.workers or _default_workers()).run(stop)
    if result.status is RunStatus.FAILED:
        raise TargetError(f"the check's run of {plan.name!r} failed: {result.aborted_by}")
    document = results_to_dict(result, analyze_run(result))
    return ComparedRun.from_results(document, label=label)
