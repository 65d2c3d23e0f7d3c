"""What the memory runner and its reader share: file names, the summary's version, names.

Kept apart from :mod:`redline.probes._memory_runner` so that reading a profile
(:mod:`redline.probes._memory`) never imports the runner itself, which runs as
``python -m`` in the profiled program.
"""

from __future__ import annotations

import enum
import functools
import importlib.util
import runpy

__all__ = [
    "DEFAULT_SNAPSHOT_EVERY_S",
    "MEMRAY_NAME",
    "MS_PER_S",
    "READY_NAME",
    "RUNNER_MODULE",
    "RUNPY_FILES",
    "SAMPLER_THREAD_NAME",
    "SCHEMA_VERSION",
    "SUMMARY_NAME",
    "Ending",
    "runner_file",
]

#: The runner, as ``python -m`` names it.
RUNNER_MODULE = "redline.probes._memory_runner"
#: The version of ``summary.json``; its history is in the comment above the imports.
SCHEMA_VERSION = 1
#: The summary's name in the output folder.
SUMMARY_NAME = "summary.json"
#: Written once the runner stops cleanly on SIGTERM (before it, a signal would kill it).
READY_NAME = "ready"
#: memray's capture's name in the output folder.
MEMRAY_NAME = "memray.bin"
#: Default interval of the time series, and when the baseline snapshot is taken.
DEFAULT_SNAPSHOT_EVERY_S = 1.0
#: The name of the sampler's thread; the reader leaves its allocations out of memray's stacks.
SAMPLER_THREAD_NAME = "redline-heap"
#: Milliseconds in a second.
MS_PER_S = 1000
#: Where runpy's frames come from (frozen in 3.11+, else the stdlib's file).
RUNPY_FILES = ("<frozen runpy>", runpy.__file__ or "<frozen runpy>")


class Ending(enum.Enum):
    """How the program ended."""

    #: It ran to its end.
    RETURNED = "returned"
    #: It called ``sys.exit`` (or raised ``SystemExit``).
    EXITED = "exited"
    #: SIGTERM or SIGINT stopped it (the end of the duration, or Ctrl-C).
    STOPPED = "stopped"
    #: It raised an exception; the traceback was printed to stderr.
    FAILED = "failed"


@functools.cache
def runner_file() -> str | None:
    """The runner's source file (its frames are trimmed from the program's stacks)."""
    spec = importlib.util.find_spec(RUNNER_MODULE)
    return spec.origin if spec is not None else None
