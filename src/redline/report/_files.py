"""Writing an output file: one place that turns an OS error into one line naming the flag."""

from __future__ import annotations

from pathlib import Path

from redline.errors import ReportError

__all__ = ["write_report"]


def write_report(path: Path, text: str, *, flag: str) -> None:
    """Write ``text`` to ``path``; a ReportError names ``flag`` and the path when it cannot."""
    try:
        path.write_text(text)
    except OSError as exc:
        raise ReportError(
            f"{flag}: cannot write {str(path)!r}: {exc.strerror}", hint="choose a writable path"
        ) from None
