"""Every error redline raises on purpose.

The tree::

    RedlineError                 anything redline raises on purpose
    ├── ConfigError              bad input: a flag, a plan file, a threshold
    ├── ScopeError               a target outside what the plan allows
    ├── TargetError              the target misbehaved (used where a run cannot go on)
    │   └── ProfileError         a profiler could not attach to or run the target
    └── ReportError              a results file could not be written or read

Library code raises these; only ``redline.cli`` turns them into messages and
exit codes. Each carries an optional ``hint``: what to do next.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ProfileError",
    "RedlineError",
    "ReportError",
    "ScopeError",
    "TargetError",
]


class RedlineError(Exception):
    """Base of every error redline raises on purpose.

    Args:
        message: one line that says what is wrong.
        hint: what the user can do about it, if anything.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(RedlineError):
    """Bad input: the message names the field, the bad value and the allowed range."""


class ScopeError(RedlineError):
    """A target the plan does not allow (not loopback and not in ``allowed_hosts``)."""


class TargetError(RedlineError):
    """The target could not be used at all (for example, it never accepted a connection)."""


class ProfileError(TargetError):
    """A profiler could not attach to or run the target (permissions, not Python, gone)."""


class ReportError(RedlineError):
    """A results file could not be written or read."""
