"""Kernel parameters as Changes: built from the audit's advice, applied and undone via a journal.

``redline system tune`` shows :func:`kernel_changes`; with ``--apply`` it
calls :func:`apply_kernel`, which sends each setting through
:func:`~redline.optimize.apply_change` with a :class:`KernelApplier`: the
value before is read, the intent journaled (with that value), the new one
written and read back, and the result journaled. :func:`undo_kernel` writes
back the values the journal recorded, newest first, and goes on past a
failure; ``redline rollback`` does the same through the same applier.

Both refuse (:func:`check_permitted`) in a container, whose kernel settings
belong to the host, and when not root. The writes go through a
:class:`~redline.probes.SupportsWrite`, so tests apply and undo against a
dict and never this machine's kernel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from redline.diagnose._system_rules import KernelSetting
from redline.errors import ScopeError
from redline.optimize._applier import ChangeError, apply_change, undo_entry
from redline.optimize._change import Change, ChangeKind
from redline.optimize._journal import Journal
from redline.probes._system import SupportsWrite, SystemFacts, setting_value, sysctl_path

__all__ = [
    "KernelApplier",
    "KernelOutcome",
    "apply_kernel",
    "check_permitted",
    "kernel_change",
    "kernel_changes",
    "undo_kernel",
]

#: Where a kernel parameter applies.
HOST_TARGET = "host"
#: The commands :meth:`KernelSetting.command` writes: a sysctl, or a /sys knob.
_SYSCTL_COMMAND = re.compile(r'^sysctl -w ([\w.-]+)=(?:"([^"]*)"|(\S+))$')
_ECHO_COMMAND = re.compile(r"^echo (.+) > (/\S+)$")


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
    appliers = {ChangeKind.KERNEL_PARAMETER: KernelApplier(system)}
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
        done = apply_change(change, journal, appliers)
        detail = f"{done.detail} (was {before})" if done.ok else done.detail
        outcomes.append(KernelOutcome(change, done.ok, detail))
    return outcomes


def undo_kernel(system: SupportsWrite, journal: Journal) -> list[KernelOutcome]:
    """Write back the value each journaled, not yet undone change found, newest first.

    Idempotent: an entry once undone is not visited again; a failed undo is
    reported and tried again next time, and the rest are still undone.
    """
    appliers = {ChangeKind.KERNEL_PARAMETER: KernelApplier(system)}
    outcomes = []
    for entry in journal.to_undo():
        if entry.change.kind is not ChangeKind.KERNEL_PARAMETER:
            continue  # another applier's change: its own undo handles it
        done = undo_entry(entry, journal, appliers)
        outcomes.append(KernelOutcome(entry.change, done.ok, done.detail))
    return outcomes


class KernelApplier:
    """Makes and unmakes :data:`ChangeKind.KERNEL_PARAMETER` changes through ``system``.

    The parameter and its new value are read from the change's ``apply``
    command (as :func:`kernel_change` writes it); ``state`` keeps the file, the
    value before and the value after. The undo writes the value before back
    and reads it again; it does nothing when the value is already back.

    Example::

        KernelApplier(FakeSystem({"/proc/sys/net/core/somaxconn": "128\\n"}, uid=0))
    """

    def __init__(self, system: SupportsWrite) -> None:
        self.system = system

    def prepare(self, change: Change) -> dict[str, str]:
        path, after = _parameter(change)
        text = self.system.read(path)
        if text is None:
            raise ChangeError(f"{path} cannot be read")
        return {"path": path, "before": setting_value(text), "after": after}

    def apply(self, change: Change, state: Mapping[str, str]) -> str:
        return _write_and_check(self.system, state["path"], state["after"])

    def undo(self, change: Change, state: Mapping[str, str]) -> str:
        path, before = state["path"], state["before"]
        text = self.system.read(path)
        if text is not None and setting_value(text) == " ".join(before.split()):
            return f"already {before}"
        return _write_and_check(self.system, path, before)


def _parameter(change: Change) -> tuple[str, str]:
    """(file, new value) from a kernel change's apply command.

    Raises:
        ChangeError: the command is not one :func:`kernel_change` writes.
    """
    sysctl = _SYSCTL_COMMAND.match(change.apply)
    if sysctl:
        value = sysctl[2] if sysctl[2] is not None else sysctl[3]
        return sysctl_path(sysctl[1]), value
    echo = _ECHO_COMMAND.match(change.apply)
    if echo and echo[2].startswith("/sys/"):
        return echo[2], echo[1]
    raise ChangeError(f"not a kernel parameter command redline writes: {change.apply!r}")


def _write_and_check(system: SupportsWrite, path: str, value: str) -> str:
    """Write ``value`` to ``path`` and read it back; return what was seen.

    Raises:
        ChangeError: the write was refused, or the value did not take.
    """
    try:
        system.write(path, value)
    except OSError as exc:
        raise ChangeError(f"write {path}: {exc.strerror or exc}") from None
    seen = system.read(path)
    now = None if seen is None else setting_value(seen)
    if now != " ".join(value.split()):
        raise ChangeError(f"{path} reads {now!r} after writing {value!r}")
    return now
