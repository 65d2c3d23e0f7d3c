"""Every exit code redline returns, in one place (documented in docs/cli.md)."""

from __future__ import annotations

import enum

__all__ = ["ExitCode"]


class ExitCode(enum.IntEnum):
    """Process exit codes."""

    #: The run completed and every threshold held.
    OK = 0
    #: An unexpected error inside redline (a bug: please report it).
    INTERNAL = 1
    #: Bad input: a flag, a plan file, a threshold, a target out of scope.
    BAD_INPUT = 2
    #: The run could not start or go on (for example, the workers failed).
    TARGET = 3
    #: A results file could not be written.
    REPORT = 4
    #: ``--fail-on-regression``: the runs could not be compared (different plans,
    #: too few steady seconds, a saturated generator).
    NOT_COMPARABLE = 97
    #: ``--fail-on-regression``: a figure regressed against the baseline.
    REGRESSED = 98
    #: The run completed but at least one threshold failed (as k6).
    THRESHOLDS_FAILED = 99
    #: An abort threshold failed and stopped the run early.
    ABORTED = 100
    #: Stopped by Ctrl-C or SIGTERM; partial results were kept.
    INTERRUPTED = 130
