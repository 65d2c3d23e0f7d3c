"""``[[steps]]``: the requests one iteration runs, in order, instead of a weighted pick.

Each step names a ``[[requests]]`` entry, so a request keeps its name, its
metrics, its scope check and its ``checks`` and ``extract`` wherever it runs::

    [[steps]]
    request = "login"
    on_failure = "stop"        # a failed login ends the iteration

    [[steps]]
    request = "cart"
    think_time = "500ms"       # pause after this step, before the next
"""

from __future__ import annotations

import enum

from pydantic import Field

from redline.plan._section import Section, ThinkTimeS

__all__ = ["OnFailure", "StepSpec"]


class OnFailure(enum.Enum):
    """What an iteration does after a step fails (an error or a failed check)."""

    #: Go on with the next step (the default).
    CONTINUE = "continue"
    #: End the iteration now; the next iteration starts from the first step.
    STOP = "stop"


class StepSpec(Section):
    """One step of an iteration.

    Attributes:
        request: the name of a ``[[requests]]`` entry.
        think_time_s: the pause after the step, before the next one (or before
            the iteration ends, after the last); written ``think_time = "500ms"``.
        on_failure: ``"continue"`` (the default) or ``"stop"``.
    """

    request: str
    think_time_s: ThinkTimeS = Field(
        default=0.0, validation_alias="think_time", serialization_alias="think_time"
    )
    on_failure: OnFailure = OnFailure.CONTINUE
