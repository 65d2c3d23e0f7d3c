"""Kernel parameters as journaled Changes: applied and undone against a dict, never the kernel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redline.diagnose import KernelSetting, audit_system
from redline.errors import ConfigError, ScopeError
from redline.optimize import (
    ChangeKind,
    JournalStatus,
    JsonLinesJournal,
    apply_kernel,
    check_permitted,
    kernel_changes,
    undo_kernel,
)
from redline.probes import read_system
from tests.unit.probes.system_machines import machine

SOMAXCONN = "/proc/sys/net/core/somaxconn"
PORTS = "/proc/sys/net/ipv4/ip_local_port_range"
THP = "/sys/kernel/mm/transparent_hugepage/enabled"


def untuned():
    return machine(
        {
            SOMAXCONN: "128\n",
            PORTS: "50000\t60000\n",
            THP: "[always] madvise never\n",
        }
    )


def settings_of(system) -> list[KernelSetting]:
    return audit_system(read_system(system)).settings


def test_each_setting_becomes_a_kernel_parameter_change() -> None:
    changes = kernel_changes(settings_of(untuned()))
    assert [c.to_dict() for c in changes] == [
        {
            "kind": "kernel_parameter",
            "summary": "net.core.somaxconn: 128 -> 4096",
            "apply": "sysctl -w net.core.somaxconn=4096",
            "undo": "sysctl -w net.core.somaxconn=128",
            "verify": "sysctl -n net.core.somaxconn",
            "target": "host",
        },
        {
            "kind": "kernel_parameter",
            "summary": "net.ipv4.ip_local_port_range: 50000 60000 -> 1024 65535",
            "apply": 'sysctl -w net.ipv4.ip_local_port_range="1024 65535"',
            "undo": 'sysctl -w net.ipv4.ip_local_port_range="50000 60000"',
            "verify": "sysctl -n net.ipv4.ip_local_port_range",
            "target": "host",
        },
        {
            "kind": "kernel_parameter",
            "summary": "transparent_hugepage: always -> never",
            "apply": f"echo never > {THP}",
            "undo": f"echo always > {THP}",
            "verify": f"cat {THP}",
            "target": "host",
        },
    ]


def test_apply_writes_journals_and_undo_restores_the_values_before(tmp_path: Path) -> None:
    system, journal = untuned(), JsonLinesJournal(tmp_path / "kernel.jsonl")
    applied = apply_kernel(settings_of(system), system, journal)
    assert [(o.ok, o.detail) for o in applied] == [
        (True, "4096 (was 128)"),
        (True, "1024 65535 (was 50000 60000)"),
        (True, "never (was always)"),
    ]
    assert system.read(SOMAXCONN) == "4096\n"
    assert [e.status for e in journal.entries()] == [JournalStatus.APPLIED] * 3
    assert journal.entries()[0].state == {"path": SOMAXCONN, "before": "128", "after": "4096"}

    undone = undo_kernel(system, journal)
    assert [o.change.summary.split(":")[0] for o in undone] == [
        "transparent_hugepage",
        "net.ipv4.ip_local_port_range",
        "net.core.somaxconn",
    ]  # newest first
    assert all(o.ok for o in undone)
    assert system.read(SOMAXCONN) == "128\n" and system.read(PORTS) == "50000 60000\n"
    assert system.read(THP) == "always\n"
    assert undo_kernel(system, journal) == []  # a second undo is a no-op
    assert [e.status for e in journal.entries()] == [JournalStatus.UNDONE] * 3


def test_a_refused_write_is_reported_and_the_rest_still_applied(tmp_path: Path) -> None:
    system, journal = untuned(), JsonLinesJournal(tmp_path / "kernel.jsonl")
    system.refuse = frozenset({PORTS})
    outcomes = apply_kernel(settings_of(system), system, journal)
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].detail == f"write {PORTS}: Invalid argument"
    assert [e.status for e in journal.entries()] == [
        JournalStatus.APPLIED,
        JournalStatus.FAILED,
        JournalStatus.APPLIED,
    ]
    # The failed entry is visited by the undo too (it may hold part of the change); here
    # the value is still the one before, so its undo has nothing to write.
    undone = undo_kernel(system, journal)
    assert [(o.ok, o.detail) for o in undone] == [
        (True, "always"),
        (True, "already 50000 60000"),
        (True, "128"),
    ]
    assert journal.to_undo() == []
    assert system.read(SOMAXCONN) == "128\n"


def test_a_refused_undo_is_reported_kept_to_undo_and_the_rest_still_undone(
    tmp_path: Path,
) -> None:
    system, journal = untuned(), JsonLinesJournal(tmp_path / "kernel.jsonl")
    apply_kernel(settings_of(system), system, journal)
    system.refuse = frozenset({PORTS})
    undone = undo_kernel(system, journal)
    assert [o.ok for o in undone] == [True, False, True]
    assert undone[1].detail == f"write {PORTS}: Invalid argument"
    assert [e.status for e in journal.to_undo()] == [JournalStatus.UNDO_FAILED]
    assert system.read(SOMAXCONN) == "128\n" and system.read(THP) == "always\n"
    system.refuse = frozenset()
    assert [o.ok for o in undo_kernel(system, journal)] == [True]  # tried again next time
    assert system.read(PORTS) == "50000 60000\n"


def test_a_value_already_set_is_skipped_without_a_journal_entry(tmp_path: Path) -> None:
    system, journal = untuned(), JsonLinesJournal(tmp_path / "kernel.jsonl")
    settings = settings_of(system)
    system.files[SOMAXCONN] = "4096\n"
    outcomes = apply_kernel(settings[:1], system, journal)
    assert [(o.ok, o.detail) for o in outcomes] == [(True, "already 4096")]
    assert journal.entries() == [] and system.writes == []


def test_a_crash_between_intent_and_result_is_undone(tmp_path: Path) -> None:
    system, journal = untuned(), JsonLinesJournal(tmp_path / "kernel.jsonl")
    setting = settings_of(system)[0]
    (change,) = kernel_changes([setting])
    journal.intent(change, {"path": SOMAXCONN, "before": "128", "after": "4096"})
    system.files[SOMAXCONN] = "4096\n"  # the write happened; the process died before the result
    with (tmp_path / "kernel.jsonl").open("a") as file:
        file.write('{"event": "app')  # and tore its last line
    (pending,) = journal.to_undo()
    assert pending.status is JournalStatus.INTENT
    assert pending.change.kind is ChangeKind.KERNEL_PARAMETER
    assert [o.ok for o in undo_kernel(system, journal)] == [True]
    assert system.read(SOMAXCONN) == "128\n"


def test_a_journal_line_that_is_not_an_event_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "kernel.jsonl"
    path.write_text(json.dumps({"event": "sideways", "id": "x"}) + "\n")
    with pytest.raises(ConfigError, match=r"kernel.jsonl:1: not a journal event"):
        JsonLinesJournal(path).entries()
    path.write_text("not json\n" + json.dumps({"event": "intent"}) + "\n")
    with pytest.raises(ConfigError, match=r"kernel.jsonl:1: not JSON"):
        JsonLinesJournal(path).entries()


def test_changes_are_refused_in_a_container() -> None:
    facts = read_system(machine({"/.dockerenv": ""}, uid=0))
    with pytest.raises(ScopeError, match=r"^system tune --apply: refused in a container "):
        check_permitted(facts, action="system tune --apply")


def test_changes_are_refused_without_root() -> None:
    facts = read_system(machine(uid=1000))
    with pytest.raises(ScopeError, match=r"needs root \(running as uid 1000\)"):
        check_permitted(facts, action="system tune --apply")
    check_permitted(read_system(machine(uid=0)), action="system tune --apply")
