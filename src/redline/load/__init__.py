"""The load engine: executors, virtual users, the HTTP client, worker processes.

``LoadRunner(plan, workers=N).run(stop_event)`` runs a plan and returns a
:class:`RunResult`; nothing here prints or formats output.
"""

from redline.load._judge import WindowVerdict
from redline.load._runner import (
    LoadRunner,
    Progress,
    RunObserver,
    RunResult,
    RunStatus,
    RunWatcher,
)
from redline.load._selfcheck import SelfCheck
from redline.load._thresholds import ThresholdOutcome

__all__ = [
    "WindowVerdict",
    "LoadRunner",
    "Progress",
    "RunObserver",
    "RunWatcher",
    "RunResult",
    "RunStatus",
    "SelfCheck",
    "ThresholdOutcome",
]
