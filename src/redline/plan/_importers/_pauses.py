"""Think times from a recording's timings: the pause a person took between two requests.

A HAR entry says when its request started (``startedDateTime``) and how long it
took (``time``, milliseconds). The pause after request *i* is the gap from the
end of the requests so far to the start of request *i + 1*. "So far" rather than
"request *i*": a browser runs requests side by side, and a replay runs them one
after the other, so a short request that started during a long one must not count
the long one's remaining time as a pause.

Glossary:

- **gap**: the recorded time between the end of the requests so far and the next
  start; negative when the next started before they all ended.
- **pause**: the gap as a step's ``think_time``: rounded to :data:`THINK_TIME_STEP_S`,
  none below :data:`MIN_THINK_TIME_S`, at most :data:`MAX_THINK_TIME_S`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Pauses are written to this step: a recording's clock reads milliseconds, but a
#: replayed pause is not that exact, and "1.53s" reads better than "1.527s".
THINK_TIME_STEP_S = 0.01
#: Shorter gaps are the browser's (a script firing the next request), not a person's.
MIN_THINK_TIME_S = 0.05
#: Longer gaps (the tab left open over lunch) are cut to this.
MAX_THINK_TIME_S = 10.0

_STEPS_PER_S = round(1 / THINK_TIME_STEP_S)


@dataclass(frozen=True, slots=True)
class Timing:
    """When one recorded request started and how long it took.

    Attributes:
        started_s: the start, in seconds on any one clock (``None``: not recorded).
        duration_s: how long the request took, 0 or more.
    """

    started_s: float | None
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Pauses:
    """The pause after each request (the last is always 0), and how many were cut.

    Attributes:
        after_s: one per request, in order, seconds.
        capped: how many gaps were longer than :data:`MAX_THINK_TIME_S`.
    """

    after_s: list[float]
    capped: int = 0


def pause_for(gap_s: float) -> float:
    """The ``think_time`` for a recorded gap, in seconds (0: none).

    Example::

        pause_for(1.527)  # 1.53
        pause_for(0.04)   # 0.0
        pause_for(600.0)  # 10.0
    """
    steps = round(gap_s * _STEPS_PER_S)
    if steps * THINK_TIME_STEP_S < MIN_THINK_TIME_S:
        return 0.0
    return min(steps / _STEPS_PER_S, MAX_THINK_TIME_S)


def recorded_pauses(timings: Sequence[Timing]) -> Pauses:
    """The pause after each request of ``timings`` (see the module docstring).

    A gap next to a request whose start was not recorded is unknown, and gets no pause.

    Example::

        recorded_pauses([Timing(0.0, 0.1), Timing(1.6, 0.2), Timing(1.7)]).after_s
        # [1.5, 0.0, 0.0]: the third started while the second ran
    """
    after_s = [0.0] * len(timings)
    capped = 0
    ended_s: float | None = None
    for index, timing in enumerate(timings):
        if index and ended_s is not None and timing.started_s is not None:
            gap_s = timing.started_s - ended_s
            after_s[index - 1] = pause_for(gap_s)
            capped += gap_s > MAX_THINK_TIME_S + THINK_TIME_STEP_S / 2  # cut, not rounded
        if timing.started_s is None:
            ended_s = None
            continue
        end_s = timing.started_s + timing.duration_s
        ended_s = end_s if ended_s is None else max(ended_s, end_s)
    return Pauses(after_s, capped)
