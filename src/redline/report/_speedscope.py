"""Sampled call stacks in speedscope's file format, to explore at speedscope.app.

The format (https://www.speedscope.app/file-format-schema.json) keeps each
distinct frame once in ``shared.frames``; a "sampled" profile then lists each
stack as frame indices, root first, with its weight beside it in ``weights``.
"""

from __future__ import annotations

import json
from typing import Any

from redline.probes._stacks import Frame, StackSamples
from redline.report._results_json import redline_version

__all__ = ["speedscope_json"]

#: The schema every speedscope file names; speedscope recognises the format by it.
SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"
#: speedscope's weight unit for each :attr:`StackSamples.unit`; "none" is a plain count.
SPEEDSCOPE_UNITS = {"samples": "none", "us": "microseconds", "bytes": "bytes"}


def speedscope_json(samples: StackSamples, *, name: str) -> str:
    """``samples`` as a speedscope file holding one sampled profile.

    Stacks with a weight of zero or less are left out. Stacks are written in
    frame order, not as the profiler met them, so speedscope's "Time Order"
    view merges shared callers like a flame graph and equal input gives an
    equal file.

    Args:
        samples: the stacks, root first, and their weights.
        name: the profile's name, shown in speedscope's title bar.

    Returns:
        The JSON text.

    Raises:
        ValueError: ``samples.unit`` is not ``samples``, ``us`` or ``bytes``.

    Example::

        text = speedscope_json(StackSamples.from_collapsed(raw), name="GET /users")
    """
    if samples.unit not in SPEEDSCOPE_UNITS:
        raise ValueError(f"unit must be one of {sorted(SPEEDSCOPE_UNITS)}, got {samples.unit!r}")
    indices: dict[Frame, int] = {}
    stacks: list[list[int]] = []
    weights: list[float] = []
    for stack, weight in sorted(samples.stacks.items(), key=lambda item: _stack_key(item[0])):
        if weight <= 0:
            continue
        stacks.append([indices.setdefault(frame, len(indices)) for frame in stack])
        weights.append(_number(weight))
    profile = {
        "type": "sampled",
        "name": name,
        "unit": SPEEDSCOPE_UNITS[samples.unit],
        "startValue": 0,
        "endValue": _number(sum(weights)),
        "samples": stacks,
        "weights": weights,
    }
    document = {
        "$schema": SCHEMA_URL,
        "shared": {"frames": [_frame(frame) for frame in indices]},
        "profiles": [profile],
        "name": name,
        "activeProfileIndex": 0,
        "exporter": f"redline {redline_version()}",
    }
    # ASCII escapes keep a native frame's odd bytes (lone surrogates) writable.
    return json.dumps(document, separators=(",", ":"))


def _stack_key(stack: tuple[Frame, ...]) -> list[tuple[str, str, int]]:
    # Frame's own ordering compares None with str when only the location differs.
    return [(f.function, f.file or "", f.line if f.line is not None else -1) for f in stack]


def _frame(frame: Frame) -> dict[str, Any]:
    """A frame entry; ``file`` and ``line`` only when known, as the schema allows."""
    entry: dict[str, Any] = {"name": frame.function}
    if frame.file is not None:
        entry["file"] = frame.file
    if frame.line is not None:
        entry["line"] = frame.line
    return entry


def _number(weight: float) -> float:
    """A whole weight as an int, so files of sample counts read ``3``, not ``3.0``."""
    return int(weight) if float(weight).is_integer() else weight
