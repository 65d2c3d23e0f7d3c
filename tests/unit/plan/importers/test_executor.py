"""The executor of an imported plan: the plan's default, or the flags, checked against the flags."""

from __future__ import annotations

import pytest

from redline.errors import ConfigError
from redline.plan._importers import executor_table


def test_the_default_is_one_vu_for_ten_seconds() -> None:
    assert executor_table() == {"type": "constant-vus", "vus": 1, "duration": "10s"}


def test_vus_and_duration() -> None:
    assert executor_table(vus=8, duration="1m30s") == {
        "type": "constant-vus",
        "vus": 8,
        "duration": "1m30s",
    }


def test_iterations_share_out_the_work() -> None:
    assert executor_table(iterations=100) == {
        "type": "shared-iterations",
        "vus": 1,
        "iterations": 100,
    }
    assert executor_table(vus=2, iterations=10, duration="30s")["max_duration"] == "30s"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"vus": 0}, r"^--vus: 0 is out of range; allowed 1\.\.50000$"),
        ({"duration": "5s"}, r"^--duration: '5s' is out of range; allowed 10s\.\.24h$"),
        ({"duration": "soon"}, r"^--duration: 'soon' is not a duration"),
        ({"iterations": 0}, r"^--iterations: 0 is out of range"),
        ({"iterations": 2, "vus": 3}, r"^--iterations: 2 is below vus \(3\)"),
    ],
)
def test_bad_flags_are_named(flags: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        executor_table(**flags)  # type: ignore[arg-type]
