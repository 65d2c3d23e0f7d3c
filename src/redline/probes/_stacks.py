"""Sampled call stacks, whichever profiler took them, and the hotspots they show.

Profilers agree on one interchange: **collapsed stacks**, one line per distinct
stack, frames from the root joined by ``;`` and the stack's weight after a
space (Brendan Gregg's format, py-spy's ``--format raw``)::

    <module> (app.py:12);main (app.py:10);hot_function (app.py:5) 11

A frame is ``function (file:line)``; a frame without a location (a thread's
name at the root, a native frame) is kept as it is. Weights are samples
(py-spy) or microseconds (pyinstrument): :attr:`StackSamples.unit` says which,
and shares do not depend on it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Frame", "Hotspot", "ShareChange", "StackSamples", "share_changes"]

#: ``function (file:line)`` or ``function (file)`` (a native frame: the binary, no line);
#: the file may hold spaces and colons (Windows drives).
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>.+?)(?::(?P<line>\d+))?\)$")


@dataclass(frozen=True, order=True)
class Frame:
    """One frame of a stack: a function and where it is (None when unknown)."""

    function: str
    file: str | None = None
    line: int | None = None

    @classmethod
    def parse(cls, text: str) -> Frame:
        """A frame from its collapsed form, ``function (file:line)``."""
        match = _FRAME.match(text)
        if match is None:
            return cls(text)
        line = match["line"]
        return cls(match["function"], match["file"], int(line) if line is not None else None)

    @property
    def location(self) -> str:
        """``file:line`` (``file`` when the line is unknown), or ``?`` when both are."""
        return _located(self.file, self.line)

    @property
    def short_location(self) -> str:
        """:attr:`location` with the file relative to the import path it is under."""
        return _located(_short_path(self.file) if self.file else None, self.line)

    def __str__(self) -> str:
        return f"{self.function} ({self.location})" if self.file is not None else self.function


def _located(file: str | None, line: int | None) -> str:
    if file is None:
        return "?"
    return f"{file}:{line}" if line is not None else file


def _short_path(path: str) -> str:
    """``asyncio/events.py`` rather than the whole path: files under ``sys.path`` or here."""
    paths = [os.getcwd(), *sys.path]
    roots = sorted((os.path.abspath(p or ".") for p in paths), key=len, reverse=True)
    for root in roots:
        if path.startswith(root + os.sep):
            return path[len(root) + 1 :]
    return path


@dataclass(frozen=True)
class Hotspot:
    """A frame's share of all samples: where it ran itself (self) and below it (total)."""

    frame: Frame
    self_weight: float
    total_weight: float
    self_share: float
    total_share: float


@dataclass
class StackSamples:
    """Weighted call stacks, root first; see the module docstring."""

    stacks: dict[tuple[Frame, ...], float] = field(default_factory=dict)
    #: What a weight counts: ``samples`` or ``us`` (microseconds).
    unit: str = "samples"

    @classmethod
    def from_collapsed(cls, text: str, *, unit: str = "samples") -> StackSamples:
        """Read collapsed stacks; blank lines are skipped.

        Raises:
            ValueError: a line does not end with a weight.
        """
        samples = cls(unit=unit)
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            stack, _, weight = line.strip().rpartition(" ")
            try:
                value = float(weight)
            except ValueError:
                raise ValueError(f"line {number}: {line!r} does not end with a weight") from None
            if stack:  # py-spy writes samples it could not unwind with no frames at all
                samples.add([Frame.parse(f) for f in stack.split(";")], value)
        return samples

    def add(self, stack: Iterable[Frame], weight: float = 1) -> None:
        """Count ``weight`` more for ``stack`` (root first)."""
        key = tuple(stack)
        self.stacks[key] = self.stacks.get(key, 0.0) + weight

    @property
    def total(self) -> float:
        """The weight of every stack together."""
        return float(sum(self.stacks.values()))

    def to_collapsed(self) -> str:
        """The collapsed form, heaviest stack first (weights written as integers when whole)."""
        lines = []
        for stack, weight in sorted(self.stacks.items(), key=lambda item: -item[1]):
            number = str(int(weight)) if weight == int(weight) else f"{weight:.3f}".rstrip("0")
            lines.append(f"{';'.join(str(f) for f in stack)} {number}")
        return "\n".join(lines) + ("\n" if lines else "")

    def hotspots(self, top: int = 20) -> list[Hotspot]:
        """The frames with the most self weight, heaviest first (ties by total weight)."""
        own: dict[Frame, float] = {}
        below: dict[Frame, float] = {}
        for stack, weight in self.stacks.items():
            if stack:
                own[stack[-1]] = own.get(stack[-1], 0.0) + weight
            for frame in set(stack):  # recursion counts a frame once per stack
                below[frame] = below.get(frame, 0.0) + weight
        total = self.total or 1.0
        ranked = sorted(own, key=lambda f: (-own[f], -below[f], f))
        return [
            Hotspot(f, own[f], below[f], own[f] / total, below[f] / total) for f in ranked[:top]
        ]


@dataclass(frozen=True)
class ShareChange:
    """A frame's self share in two profiles (a low load and a high one)."""

    frame: Frame
    before: float
    after: float

    @property
    def growth(self) -> float:
        """Share points gained (negative: lost)."""
        return self.after - self.before


def share_changes(before: StackSamples, after: StackSamples) -> list[ShareChange]:
    """Every frame's self share in both profiles, the most grown first."""
    shares_before = {h.frame: h.self_share for h in before.hotspots(top=len(before.stacks))}
    shares_after = {h.frame: h.self_share for h in after.hotspots(top=len(after.stacks))}
    frames = set(shares_before) | set(shares_after)
    changes = [ShareChange(f, shares_before.get(f, 0.0), shares_after.get(f, 0.0)) for f in frames]
    return sorted(changes, key=lambda c: (-c.growth, c.frame))
