"""The processes redline starts (a ``--server-cmd`` server, py-spy), so ``redline verify``
can tell whether any is still running.

A :class:`PidRegistry` is a small JSON file beside the run history
(:func:`pid_registry_path`): each process is written there when it starts, with
its command line as ``/proc/PID/cmdline`` reads, and removed when redline stops
it. A crash (kill -9) leaves its line behind; :meth:`PidRegistry.live` then
reports it only if a process with that PID still runs *the same command line*,
so a PID the kernel has since given to another program is not blamed on redline.
Writers take an exclusive ``flock`` on the file, so runs at once do not lose lines.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from redline.errors import ConfigError

__all__ = ["PidRegistry", "RegisteredProcess", "pid_registry_path", "read_cmdline"]

#: The registry's file name, in the run history's folder.
REGISTRY_NAME: Final = "processes.json"
#: Version of the file's layout. History:
#:   1: first version: {"schema_version": 1, "processes": [{pid, role, cmdline}]}.
SCHEMA_VERSION: Final = 1
#: How long :meth:`PidRegistry.register` waits for a new process's command line.
CMDLINE_WAIT_S: Final = 1.0
#: Pause between two reads of it.
CMDLINE_POLL_S: Final = 0.005


def pid_registry_path(history: Path) -> Path:
    """The registry beside the run history database ``history``."""
    return history.parent / REGISTRY_NAME


def read_cmdline(pid: int) -> tuple[str, ...] | None:
    """``/proc/PID/cmdline`` as its arguments; None when no such process runs."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone (or never was): nothing to report
        return None
    return tuple(part.decode(errors="replace") for part in raw.split(b"\0") if part)


@dataclass(frozen=True)
class RegisteredProcess:
    """One process redline started."""

    pid: int
    #: What it is for: ``server`` (``--server-cmd``), ``py-spy``.
    role: str
    #: Its command line when it started, as /proc read it.
    cmdline: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "role": self.role, "cmdline": list(self.cmdline)}


class PidRegistry:
    """The processes redline started and has not yet stopped (module docstring).

    Example::

        registry = PidRegistry(pid_registry_path(history))
        with registry.tracking(proc.pid, "server"):
            ...  # the server runs; stopped before the block ends
    """

    def __init__(
        self, path: Path, *, cmdline: Callable[[int], tuple[str, ...] | None] = read_cmdline
    ) -> None:
        self.path = path
        self._cmdline = cmdline

    def register(self, pid: int, role: str) -> None:
        """Record ``pid`` (started by redline for ``role``), with its command line now."""
        line = self._cmdline(pid)
        deadline = time.monotonic() + CMDLINE_WAIT_S
        # Just after exec, /proc/PID/cmdline reads empty for a moment (measured: the
        # first read after Popen returns, every time here); wait for the real one.
        while line == () and time.monotonic() < deadline:
            time.sleep(CMDLINE_POLL_S)
            line = self._cmdline(pid)
        if line is None:  # already exited: nothing can be left running
            return
        with self._locked() as processes:
            processes[:] = [p for p in processes if p.pid != pid]
            processes.append(RegisteredProcess(pid, role, line))

    def unregister(self, pid: int) -> None:
        """Forget ``pid``: redline stopped it."""
        with self._locked() as processes:
            processes[:] = [p for p in processes if p.pid != pid]

    @contextmanager
    def tracking(self, pid: int, role: str) -> Iterator[None]:
        """Registered for the block; forgotten when it ends, however it ends."""
        self.register(pid, role)
        try:
            yield
        finally:
            self.unregister(pid)

    def registered(self) -> list[RegisteredProcess]:
        """Every process in the file, running or not."""
        return _parse(self.path, _read(self.path))

    def live(self) -> list[RegisteredProcess]:
        """The registered processes still running the command line they started with."""
        return [p for p in self.registered() if self._cmdline(p.pid) == p.cmdline]

    @contextmanager
    def _locked(self) -> Iterator[list[RegisteredProcess]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)  # released when the file closes
            file.seek(0)
            processes = _parse(self.path, file.read())
            yield processes
            file.seek(0)
            file.truncate()
            document = {"schema_version": SCHEMA_VERSION,
                        "processes": [p.to_dict() for p in processes]}  # fmt: skip
            file.write(json.dumps(document, indent=1) + "\n")
            file.flush()
            os.fsync(file.fileno())


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _parse(path: Path, text: str) -> list[RegisteredProcess]:
    if not text.strip():
        return []
    try:
        data = json.loads(text)
        return [
            RegisteredProcess(int(p["pid"]), str(p["role"]), tuple(str(a) for a in p["cmdline"]))
            for p in data["processes"]
        ]
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            f"{path}: not a redline process registry",
            hint="remove the file if no redline run is going on",
        ) from None
