"""Config file edits as Changes: a timestamped backup first, an atomic replace, two checksums.

:func:`file_edit_change` describes an edit as a unified diff with the whole
file as context (``Change.apply``), so the Change alone says both what the
file must hold before (the ``-`` and context lines) and after (the ``+`` and
context lines); a config file is short enough for that to stay readable.

:class:`FileEditApplier`:

- ``prepare`` checks the file still holds the diff's "before" text, copies it
  to ``FILE.backup.<UTC>`` (synced) and records the SHA-256 of the file
  before and after the edit;
- ``apply`` writes the new text to a temporary file in the same folder,
  syncs it, ``os.replace``\\ s the file with it (atomic on POSIX), syncs the
  folder, and checks the file's checksum is the recorded one;
- ``undo`` puts the backup's bytes back the same way when the file holds the
  applied text, does nothing when it already holds the original (so it is
  idempotent, and a crash before the apply needs nothing), and refuses, with
  the reason, when the file changed since or the backup is gone or altered.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from redline.optimize._applier import ChangeError
from redline.optimize._change import Change, ChangeKind

__all__ = ["FileEditApplier", "file_edit_change", "sha256_of"]

#: difflib's marker for a last line without a newline (as ``diff`` and ``git`` write it).
NO_NEWLINE = "\\ No newline at end of file"
#: One line: up to and including its newline, or the last one without.
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
#: How a backup's time is written in its name (UTC).
BACKUP_STAMP = "%Y%m%dT%H%M%S.%fZ"


def sha256_of(data: bytes) -> str:
    """The SHA-256 of ``data``, in hex."""
    return hashlib.sha256(data).hexdigest()


def file_edit_change(path: Path, before: str, after: str, *, summary: str) -> Change:
    """The Change that turns the file at ``path`` from ``before`` into ``after``.

    Example::

        file_edit_change(Path("/etc/app.conf"), "workers = 2\\n", "workers = 8\\n",
                         summary="app.conf: workers 2 -> 8")
    """
    name = str(path)
    return Change(
        kind=ChangeKind.FILE_EDIT,
        summary=summary,
        apply=_diff(before, after, name),
        undo=f"restore {name} from its backup {name}.backup.<UTC> (checksum checked)",
        verify=f"sha256sum {name}",
        target=name,
    )


class FileEditApplier:
    """Makes and unmakes :data:`ChangeKind.FILE_EDIT` changes (module docstring).

    Args:
        now: the wall clock for backup names (tests pass a fixed one).
    """

    def __init__(self, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._now = now

    def prepare(self, change: Change) -> dict[str, str]:
        path = Path(change.target)
        before, after = _sides(change)
        data = _read(path)
        if data != before:
            raise ChangeError(
                f"{path}: its content is not what the change was planned on "
                f"(sha256 {sha256_of(data)[:12]}, expected {sha256_of(before)[:12]})"
            )
        backup = self._backup_path(path)
        _write_new(backup, data)
        return {
            "path": str(path),
            "backup": str(backup),
            "before_sha256": sha256_of(before),
            "after_sha256": sha256_of(after),
        }

    def apply(self, change: Change, state: Mapping[str, str]) -> str:
        path = Path(state["path"])
        _, after = _sides(change)
        if sha256_of(after) != state["after_sha256"]:
            raise ChangeError(f"{path}: the change's text does not match its recorded checksum")
        _replace(path, after)
        seen = sha256_of(_read(path))
        if seen != state["after_sha256"]:
            raise ChangeError(f"{path}: reads sha256 {seen[:12]} after the write")
        return f"sha256 {seen[:12]} (was {state['before_sha256'][:12]}); backup {state['backup']}"

    def undo(self, change: Change, state: Mapping[str, str]) -> str:
        path, backup = Path(state["path"]), Path(state["backup"])
        now = sha256_of(_read(path)) if path.exists() else None
        if now == state["before_sha256"]:
            return f"already the original (sha256 {now[:12]})"
        if now != state["after_sha256"]:
            shown = "it is missing" if now is None else f"sha256 {now[:12]}"
            raise ChangeError(
                f"{path} changed since the edit ({shown}, neither the original nor the edit); "
                f"left as it is: compare it with {backup}"
            )
        if not backup.exists():
            raise ChangeError(f"{path}: its backup {backup} is missing; left as it is")
        data = backup.read_bytes()
        if sha256_of(data) != state["before_sha256"]:
            raise ChangeError(f"{path}: its backup {backup} changed since; left as it is")
        _replace(path, data)
        if sha256_of(_read(path)) != state["before_sha256"]:
            raise ChangeError(f"{path}: does not read back as the original after the restore")
        return f"restored from {backup} (sha256 {state['before_sha256'][:12]})"

    def _backup_path(self, path: Path) -> Path:
        stamp = self._now().astimezone(UTC).strftime(BACKUP_STAMP)
        backup = path.with_name(f"{path.name}.backup.{stamp}")
        number = 1
        while backup.exists():  # two edits in the same microsecond: keep both backups
            backup = path.with_name(f"{path.name}.backup.{stamp}.{number}")
            number += 1
        return backup


def _diff(before: str, after: str, name: str) -> str:
    """A unified diff with the whole file as context, marking a last line without newline."""
    old, new = _lines(before), _lines(after)
    lines = difflib.unified_diff(old, new, name, name, n=max(len(old), len(new)))
    return "".join(line if line.endswith("\n") else f"{line}\n{NO_NEWLINE}\n" for line in lines)


def _sides(change: Change) -> tuple[bytes, bytes]:
    """The file's text before and after, read back from the change's full-context diff.

    Raises:
        ChangeError: ``change.apply`` is not a diff :func:`file_edit_change` made.
    """
    if change.kind is not ChangeKind.FILE_EDIT:
        raise ChangeError(f"not a file edit: {change.kind.value}")
    lines = _lines(change.apply)
    if not lines:  # before == after: difflib writes nothing
        raise ChangeError(f"{change.target}: the edit changes nothing")
    if len(lines) < 3 or not lines[0].startswith("--- ") or not lines[2].startswith("@@"):
        raise ChangeError(f"{change.target}: the change's apply is not a unified diff")
    sides: dict[str, list[str]] = {"-": [], "+": []}
    previous = ""
    for line in lines[3:]:
        marker = line[:1]
        if line.rstrip("\n") == NO_NEWLINE and previous:
            # The line before the marker has no newline on its side(s) of the diff.
            for key in ("-", "+") if previous == " " else (previous,):
                sides[key][-1] = sides[key][-1].removesuffix("\n")
            continue
        if marker not in (" ", "-", "+"):
            raise ChangeError(f"{change.target}: the diff has an unexpected line {line!r}")
        for key in ("-", "+") if marker == " " else (marker,):
            sides[key].append(line[1:])
        previous = marker
    return "".join(sides["-"]).encode(), "".join(sides["+"]).encode()


def _lines(text: str) -> list[str]:
    """``text`` cut after each ``\\n`` only: ``str.splitlines`` would also cut at ``\\r``,
    form feeds and U+2028, and a file's bytes must come back exactly."""
    return _LINE.findall(text)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ChangeError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def _write_new(path: Path, data: bytes) -> None:
    """Write a new file (never an existing one) and sync it and its folder."""
    try:
        with path.open("xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        _sync_folder(path.parent)
    except OSError as exc:
        raise ChangeError(f"{path}: cannot be written: {exc.strerror or exc}") from None


def _replace(path: Path, data: bytes) -> None:
    """Atomically give ``path`` the bytes ``data``, keeping its permission bits."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".redline", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
        _sync_folder(path.parent)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise ChangeError(f"{path}: cannot be replaced: {exc.strerror or exc}") from None


def _sync_folder(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (its directory entry synced)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
