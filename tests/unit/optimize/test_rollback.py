"""Rollback: newest first, only what is not undone, idempotent, resumes, goes on past failures."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.optimize import (
    Change,
    ChangeError,
    ChangeKind,
    JournalStatus,
    SqliteJournal,
    apply_change,
    pending,
    rollback,
)


class Dial:
    """An applier over a dict of named values: apply sets ``after``, undo puts ``before``."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.undone: list[str] = []
        self.broken: set[str] = set()

    def prepare(self, change: Change) -> dict[str, str]:
        name, after = change.apply.split("=")
        return {"name": name, "before": self.values[name], "after": after}

    def apply(self, change: Change, state: Mapping[str, str]) -> str:
        self.values[state["name"]] = state["after"]
        return state["after"]

    def undo(self, change: Change, state: Mapping[str, str]) -> str:
        name = state["name"]
        if name in self.broken:
            raise ChangeError(f"{name}: refused")
        if self.values[name] == state["before"]:
            return f"already {state['before']}"
        self.values[name] = state["before"]
        self.undone.append(name)
        return state["before"]


def change(name: str, value: str, kind: ChangeKind = ChangeKind.SETTING) -> Change:
    return Change(kind=kind, summary=f"{name} -> {value}", apply=f"{name}={value}",
                  undo=f"{name}=?", verify=name, target="t")  # fmt: skip


@pytest.fixture
def setup(tmp_path: Path):
    dial = Dial({"a": "1", "b": "1", "c": "1"})
    journal = SqliteJournal(tmp_path / "journal.db", run_id="r1")
    appliers = {ChangeKind.SETTING: dial}
    for name in "abc":
        assert apply_change(change(name, "2"), journal, appliers).ok
    return dial, journal, appliers


def test_everything_is_undone_newest_first(setup) -> None:
    dial, journal, appliers = setup
    outcomes = rollback(journal, appliers)
    assert [(o.change.summary, o.ok, o.detail) for o in outcomes] == [
        ("c -> 2", True, "1"),
        ("b -> 2", True, "1"),
        ("a -> 2", True, "1"),
    ]
    assert dial.values == {"a": "1", "b": "1", "c": "1"} and dial.undone == ["c", "b", "a"]
    assert {e.status for e in journal.entries()} == {JournalStatus.UNDONE}


def test_a_second_rollback_is_a_no_op(setup) -> None:
    dial, journal, appliers = setup
    rollback(journal, appliers)
    assert rollback(journal, appliers) == []
    assert dial.undone == ["c", "b", "a"]


def test_one_entry_by_id_prefix_or_one_run(setup, tmp_path: Path) -> None:
    dial, journal, appliers = setup
    other = SqliteJournal(journal.path, run_id="r2")
    apply_change(change("a", "3"), other, appliers)
    b = journal.entries()[1]
    assert [o.entry_id for o in rollback(journal, appliers, entry_id=b.id[:6])] == [b.id]
    assert dial.values == {"a": "3", "b": "1", "c": "2"}
    assert [o.change.summary for o in rollback(journal, appliers, run_id="r2")] == ["a -> 3"]
    assert dial.values["a"] == "2"  # back to what r1 left
    assert [o.change.summary for o in rollback(journal, appliers, run_id="r1")] == [
        "c -> 2",
        "a -> 2",
    ]


def test_an_unknown_or_ambiguous_id_is_an_error(setup) -> None:
    _, journal, appliers = setup
    with pytest.raises(ConfigError, match=r"ID: no journal entry with id 'zzz'"):
        rollback(journal, appliers, entry_id="zzz")
    with pytest.raises(ConfigError, match=r"ID: 3 journal entries with id ''"):
        pending(journal, entry_id="")


def test_a_failing_undo_is_reported_journaled_and_the_rest_undone(setup) -> None:
    dial, journal, appliers = setup
    dial.broken = {"b"}
    outcomes = rollback(journal, appliers)
    assert [(o.ok, o.detail) for o in outcomes] == [(True, "1"), (False, "b: refused"), (True, "1")]
    assert dial.values == {"a": "1", "b": "2", "c": "1"}
    (left,) = journal.to_undo()
    assert (left.change.summary, left.status) == ("b -> 2", JournalStatus.UNDO_FAILED)
    dial.broken = set()
    assert [o.ok for o in rollback(journal, appliers)] == [True]  # tried again
    assert dial.values["b"] == "1"


def test_an_intent_without_a_result_is_undone_too(setup) -> None:
    dial, journal, appliers = setup
    journal.intent(change("a", "9"), {"name": "a", "before": "2", "after": "9"})  # crash here
    outcomes = rollback(journal, appliers)
    assert [(o.change.summary, o.detail) for o in outcomes][0] == ("a -> 9", "already 2")
    assert dial.values == {"a": "1", "b": "1", "c": "1"}


def test_a_rollback_cut_short_resumes(setup) -> None:
    dial, journal, appliers = setup
    newest = journal.to_undo()[0]
    dial.values["c"] = "1"  # its undo ran, then the process died before the result
    outcomes = rollback(journal, appliers)
    assert [(o.entry_id, o.detail) for o in outcomes][0] == (newest.id, "already 1")
    assert dial.values == {"a": "1", "b": "1", "c": "1"}


def test_entries_without_an_applier_or_skipped_are_left_and_reported(setup) -> None:
    dial, journal, appliers = setup
    journal.intent(change("x", "1", ChangeKind.INDEX), {})
    outcomes = rollback(journal, appliers, skip=lambda e: "needs --db t" if e.id[0] else None)
    assert {(o.ok, o.detail) for o in outcomes} == {(False, "needs --db t")}
    outcomes = rollback(journal, appliers)
    assert (outcomes[0].ok, outcomes[0].detail) == (
        False,
        "skipped: no applier for index changes here",
    )
    assert [e.status for e in journal.to_undo()][0] is JournalStatus.INTENT  # not journaled
