"""Figures written for people: latencies and byte counts with a unit read at a glance.

Shared by every part that words figures (diagnosis evidence, reports), so a
latency reads the same everywhere.
"""

from __future__ import annotations

__all__ = ["format_bytes", "format_latency", "one_line"]

#: Byte units, each 1,024 times the one before.
_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def format_latency(us: float) -> str:
    """A latency in µs, written with a unit a person reads at a glance."""
    if us < 1_000:
        return f"{us:.0f} µs"
    if us < 1_000_000:
        return f"{us / 1_000:.2f} ms"
    return f"{us / 1_000_000:.2f} s"


def format_bytes(count: float) -> str:
    """A byte count in binary units: ``512 B``, ``1.5 MiB``."""
    value = float(count)
    for unit in _BYTE_UNITS[:-1]:
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} {_BYTE_UNITS[-1]}"


def one_line(text: str, chars: int, *, ellipsis: str = "…") -> str:
    """``text`` on one line (a statement's own line breaks and indents folded), cut to
    ``chars`` with ``ellipsis`` at the end when it is longer."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= chars else flat[: chars - len(ellipsis)] + ellipsis
