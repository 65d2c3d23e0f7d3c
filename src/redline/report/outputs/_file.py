"""A text file written in pieces by a streaming output: OS errors become one line."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from redline.errors import ReportError

__all__ = ["TextFile"]


class TextFile:
    """A text file opened at the run's start, appended to and flushed in batches.

    Every ``OSError`` becomes a :class:`~redline.errors.ReportError` naming the file,
    after the file is closed (an output that fails holds nothing).
    """

    def __init__(self, path: Path, *, newline: str | None = None) -> None:
        self.path = path
        self._newline = newline
        self._file: TextIO | None = None

    def open(self) -> None:
        """Create (or truncate) the file."""
        try:
            self._file = self.path.open("w", encoding="utf-8", newline=self._newline)
        except OSError as exc:
            raise self._error("cannot write", exc) from None

    def write(self, text: str) -> None:
        """Append ``text`` and push it to the operating system (readers see it at once)."""
        if self._file is None:
            raise ReportError(f"cannot write {str(self.path)!r}: it is not open")
        try:
            self._file.write(text)
            self._file.flush()
        except OSError as exc:
            self._release()
            raise self._error("cannot write", exc) from None

    def close(self) -> None:
        """Close the file."""
        try:
            if self._file is not None:
                self._file.close()
        except OSError as exc:
            raise self._error("cannot close", exc) from None
        finally:
            self._file = None

    def _release(self) -> None:
        try:
            if self._file is not None:
                self._file.close()
        except OSError:
            pass  # already failing: the first error is the one reported
        self._file = None

    def _error(self, what: str, exc: OSError) -> ReportError:
        return ReportError(
            f"{what} {str(self.path)!r}: {exc.strerror or exc}", hint="choose a writable path"
        )
