"""A process that applies (or rolls back) Changes and can be stopped at a chosen point, for
the crash tests: ``kill -9`` lands exactly there because the process waits at a file barrier.

    python crash_worker.py JOURNAL BARRIER_DIR file-apply FILE... (each FILE.new holds its text)
    python crash_worker.py JOURNAL BARRIER_DIR kernel-apply SYSTEM_JSON KEY=VALUE...
    python crash_worker.py JOURNAL BARRIER_DIR rollback [SYSTEM_JSON]

``REDLINE_TEST_PAUSE`` picks where the process stops: ``after-intent:N`` (the Nth intent
is durable, its change not yet made), ``after-apply:N`` (the Nth change made, its result
not yet journaled) or ``after-undo:N`` (the Nth undo done, its result not yet journaled).
At that point it creates ``BARRIER_DIR/reached`` and waits for ``BARRIER_DIR/release``,
which the test never creates: it kills the process instead.

The kernel is a FakeSystem kept in a JSON file (SYSTEM_JSON), so it outlives the process
and this machine's kernel is never touched.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from redline.optimize import (
    Change,
    ChangeKind,
    FileEditApplier,
    KernelApplier,
    SqliteJournal,
    apply_change,
    file_edit_change,
    rollback,
)
from redline.probes import FakeSystem

#: How often the barrier looks for its release file.
POLL_S = 0.01


class Barrier:
    """Counts calls at each point; waits (for the kill) at the one REDLINE_TEST_PAUSE names."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        point, _, number = os.environ.get("REDLINE_TEST_PAUSE", "").partition(":")
        self.point, self.number = point, int(number or 0)
        self.seen: dict[str, int] = {}

    def at(self, point: str) -> None:
        self.seen[point] = self.seen.get(point, 0) + 1
        if point != self.point or self.seen[point] != self.number:
            return
        (self.folder / "reached").touch()
        while not (self.folder / "release").exists():
            time.sleep(POLL_S)


class PausingJournal(SqliteJournal):
    def __init__(self, path: Path, barrier: Barrier) -> None:
        super().__init__(path)
        self.barrier = barrier

    def intent(self, change: Change, state: Mapping[str, str], *, run_id: str | None = None) -> str:
        entry_id = super().intent(change, state, run_id=run_id)
        self.barrier.at("after-intent")
        return entry_id


class PausingApplier:
    def __init__(self, inner: Any, barrier: Barrier) -> None:
        self.inner, self.barrier = inner, barrier

    def prepare(self, change: Change) -> dict[str, str]:
        state: dict[str, str] = self.inner.prepare(change)
        return state

    def apply(self, change: Change, state: Mapping[str, str]) -> str:
        detail: str = self.inner.apply(change, state)
        self.barrier.at("after-apply")
        return detail

    def undo(self, change: Change, state: Mapping[str, str]) -> str:
        detail: str = self.inner.undo(change, state)
        self.barrier.at("after-undo")
        return detail


class JsonSystem(FakeSystem):
    """A FakeSystem whose files are saved to a JSON file after every write."""

    path: Path = Path()

    @classmethod
    def load(cls, path: Path) -> JsonSystem:
        system = cls(files=json.loads(path.read_text()), uid=0)
        system.path = path
        return system

    def write(self, path: str, text: str) -> None:
        super().write(path, text)
        temp = self.path.with_suffix(".tmp")
        temp.write_text(json.dumps(self.files))
        os.replace(temp, self.path)


def main(argv: list[str]) -> int:
    journal_path, folder, command, *rest = argv
    barrier = Barrier(Path(folder))
    journal = PausingJournal(Path(journal_path), barrier)
    if command == "file-apply":
        appliers = {ChangeKind.FILE_EDIT: PausingApplier(FileEditApplier(), barrier)}
        for name in rest:
            path = Path(name)
            new = path.with_name(path.name + ".new").read_bytes().decode()
            old = path.read_bytes().decode()  # not read_text(): it would turn CRLF into LF
            change = file_edit_change(path, old, new, summary=f"edit {path.name}")
            print(apply_change(change, journal, appliers).detail)
    elif command == "kernel-apply":
        system = JsonSystem.load(Path(rest[0]))
        appliers = {ChangeKind.KERNEL_PARAMETER: PausingApplier(KernelApplier(system), barrier)}
        for pair in rest[1:]:
            key, value = pair.split("=")
            change = Change(kind=ChangeKind.KERNEL_PARAMETER, summary=f"{key} -> {value}",
                            apply=f"sysctl -w {key}={value}", undo="...",
                            verify=f"sysctl -n {key}", target="host")  # fmt: skip
            print(apply_change(change, journal, appliers).detail)
    elif command == "rollback":
        kinds: dict[ChangeKind, Any] = {ChangeKind.FILE_EDIT: FileEditApplier()}
        if rest:
            kinds[ChangeKind.KERNEL_PARAMETER] = KernelApplier(JsonSystem.load(Path(rest[0])))
        appliers = {kind: PausingApplier(a, barrier) for kind, a in kinds.items()}
        for outcome in rollback(journal, appliers):
            print(outcome.ok, outcome.detail)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
