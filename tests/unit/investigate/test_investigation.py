"""Which phases an investigation runs, by its flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.investigate import BudgetConfig, InvestigateConfig, Investigation
from redline.plan import plan_from_flags
from redline.plan._context import Context


def no_run(*_args: object, **_kwargs: object) -> str:
    raise AssertionError("no load in this test")


@pytest.mark.parametrize(
    ("optimize", "rollback_after", "phases"),
    [
        (False, False, "baseline scalability profile analysis diagnosis report"),
        (True, False, "baseline scalability profile analysis diagnosis optimize validate report"),
        (
            True,
            True,
            "baseline scalability profile analysis diagnosis optimize validate report rollback",
        ),  # fmt: skip
    ],
)
def test_the_flags_choose_the_phases(optimize: bool, rollback_after: bool, phases: str) -> None:
    context = Context(plan=plan_from_flags("http://127.0.0.1:9/", vus=1, duration="10s"))
    config = InvestigateConfig(BudgetConfig(), Path("h.db"), Path("."), optimize, rollback_after)
    work = Investigation(context, config, measure=no_run, read_run=no_run)  # type: ignore[arg-type]
    assert " ".join(s.name.value for s in work.steps()) == phases
    statuses = {s.name.value: s.status.value for s in work.steps()}
    assert (statuses["baseline"], statuses["scalability"], statuses["profile"]) == (
        "baselining", "load-testing", "profiling",
    )  # fmt: skip
    assert statuses.get("optimize", "optimizing") == "optimizing"
