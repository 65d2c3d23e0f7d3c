"""Think times from a recording: the gap to the next request, rounded, floored and capped."""

from __future__ import annotations

import pytest

from redline.plan._importers._pauses import (
    MAX_THINK_TIME_S,
    Timing,
    pause_for,
    recorded_pauses,
)


@pytest.mark.parametrize(
    ("gap_s", "pause_s"),
    [
        (1.527, 1.53),
        (1.5, 1.5),
        (0.804, 0.8),
        (0.05, 0.05),
        (0.047, 0.05),  # rounds to 50 ms, the shortest pause kept
        (0.044, 0.0),  # rounds to 40 ms: the browser's gap, not a person's
        (0.0, 0.0),
        (-2.0, 0.0),  # started before the others ended
        (9.996, MAX_THINK_TIME_S),
        (600.0, MAX_THINK_TIME_S),
    ],
)
def test_a_gap_becomes_a_pause_rounded_to_10ms_none_below_50ms_at_most_10s(
    gap_s: float, pause_s: float
) -> None:
    assert pause_for(gap_s) == pause_s


def test_the_pause_after_each_request_is_the_gap_to_the_next_and_none_after_the_last() -> None:
    pauses = recorded_pauses([Timing(100.0, 0.12), Timing(101.62, 0.08), Timing(102.5, 0.14)])
    assert pauses.after_s == [1.5, 0.8, 0.0]
    assert pauses.capped == 0


def test_the_gap_is_from_the_end_of_every_request_so_far() -> None:
    # The second started while the first ran and ended first: the third's pause is
    # counted from the first's end, which a one-at-a-time replay waits for anyway.
    pauses = recorded_pauses([Timing(0.0, 1.0), Timing(0.01, 0.04), Timing(1.1, 0.1)])
    assert pauses.after_s == [0.0, 0.1, 0.0]


def test_gaps_longer_than_the_cap_are_cut_and_counted() -> None:
    pauses = recorded_pauses([Timing(0.0), Timing(3600.0), Timing(3610.004), Timing(3630.0)])
    assert pauses.after_s == [MAX_THINK_TIME_S, MAX_THINK_TIME_S, MAX_THINK_TIME_S, 0.0]
    assert pauses.capped == 2  # 10.004 s rounds to 10 s: not cut


def test_an_unrecorded_start_gives_no_pause_on_either_side() -> None:
    pauses = recorded_pauses([Timing(0.0), Timing(None), Timing(2.0), Timing(3.0)])
    assert pauses.after_s == [0.0, 0.0, 1.0, 0.0]


def test_no_timings_no_pauses() -> None:
    assert recorded_pauses([]).after_s == []
    assert recorded_pauses([Timing(None)]).after_s == [0.0]
