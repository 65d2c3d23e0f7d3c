"""Kernel parameters as Changes: built from the audit's advice, applied and undone via a journal.

``redline system tune`` shows :func:`kernel_changes`; with ``--apply`` it
calls :func:`apply_kernel`, which for each setting reads the value before,
journals the intent (with that value), writes the new one, reads it back and
journals the result. :func:`undo_kernel` writes back the values the journal
recorded, newest first, and goes on past a failure.

Both refuse (:func:`check_permitted`) in a container, whose kernel settings
belong to the host, and when not root. The writes go through a
:class:`~redline.probes.SupportsWrite`, so tests apply and undo against a
dict and never this machine's kernel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from redline.diagnose._system_rules import KernelSetting
from redline.errors import ScopeError
from redline.optimize._change import Change, ChangeKind
from redline.optimize._journal import Journal, JournalStatus
from redline.probes._system import SupportsWrite, SystemFacts, setting_value

__all__ = [
    "KernelOutcome",
    "apply_kernel",
    "check_permitted",
    "kernel_change",
    "kernel_changes",
    "undo_kernel",
]

#: Where a kernel parameter applies.
HOST_TARGET = "host"


@dataclass(frozen=True)
class KernelOutcome:
    """What became of one kernel parameter: applied, skipped, undone or failed."""

    change: Change
    #: True when the change (or its undo) took effect, or there was nothing to do.
    ok: bool
    #: What happened: "4096 (was 128)", "already 4096", or the error.
    detail: str


def kernel_change(setting: KernelSetting) -> Change:
    """The Change that sets ``setting`` to its recommended value (undo: back to the current)."""
    return Change(
        kind=ChangeKind.KERNEL_PARAMETER,
        summary=f"{setting.key}: {setting.current} -> {setting.recommended}",
        apply=setting.command(setting.recommended),
        undo=setting.command(setting.current),
        verify=setting.verify_command,
        target=HOST_TARGET,
    )


def kernel_changes(settings: Iterable[KernelSetting]) -> list[Change]:
    """One Change per setting, in order."""
    return [kernel_change(s) for s in settings]


def check_permitted(facts: SystemFacts, *, action: str) -> None:
    """Refuse to change kernel settings where it cannot or must not be done.

    Raises:
        ScopeError: this is a container, or redline does not run as root.
    """
    if facts.container:
        raise ScopeError(
            f"{action}: refused in a container ({facts.container}): "
            "its kernel settings belong to the host",
            hint="run `redline system tune` on the host, or set them in the container's "
            "runtime (docker run --sysctl, a pod's securityContext.sysctls)",
        )
    if facts.euid != 0:
        raise ScopeError(
            f"{action}: refused: changing kernel settings needs root (running as uid {facts.euid})",
            hint="run it with sudo, or apply the commands `redline system tune` prints",
        )


def apply_kernel(
    settings: Iterable[KernelSetting], system: SupportsWrite, journal: Journal
) -> list[KernelOutcome]:
    """Set each parameter to its recommended value, journaled; a failure does not stop the rest.

    The value before is read again just before the write (not taken from the
    audit), and that is what the journal keeps for the undo.
    """
    outcomes = []
    for setting in settings:
        change = kernel_change(setting)
        text = system.read(setting.path)
        if text is None:
            outcomes.append(KernelOutcome(change, False, f"{setting.path} cannot be read"))
            continue
        before = setting_value(text)
        if before == setting.recommended:
            outcomes.append(KernelOutcome(change, True, f"already {before}"))
            continue
        state = {"path": setting.path, "before": before, "after": setting.recommended}
        entry = journal.intent(change, state)
        ok, detail = _write_and_check(system, setting.path, setting.recommended)
        journal.result(entry, JournalStatus.APPLIED if ok else JournalStatus.FAILED, detail)
        outcomes.append(KernelOutcome(change, ok, f"{detail} (was {before})" if ok else detail))
    return outcomes


def undo_kernel(system: SupportsWrite, journal: Journal) -> list[KernelOutcome]:
    """Write back the value each journaled, not yet undone change found, newest first.

    Idempotent: an entry once undone is not visited again; a failed undo is
    reported and tried again next time, and the rest are still undone.
    """
    outcomes = []
    for entry in journal.to_undo():
        if entry.change.kind is not ChangeKind.KERNEL_PARAMETER:
            continue  # another applier's change: its own undo handles it
        ok, detail = _write_and_check(system, entry.state["path"], entry.state["before"])
        status = JournalStatus.UNDONE if ok else JournalStatus.UNDO_FAILED
        journal.result(entry.id, status, detail)
        outcomes.append(KernelOutcome(entry.change, ok, detail))
    return outcomes


def _write_and_check(system: SupportsWrite, path: str, value: str) -> tuple[bool, str]:
    """Write ``value`` to ``path`` and read it back: (took effect, what was seen)."""
    try:
        system.write(path, value)
    except OSError as exc:
        return False, f"write {path}: {exc.strerror or exc}"
    seen = system.read(path)
    now = None if seen is None else setting_value(seen)
    if now != " ".join(value.split()):
        return False, f"{path} reads {now!r} after writing {value!r}"
    return True, now
