"""Collapsed stacks: reading py-spy's and pyinstrument's output, hotspots, writing back."""

from __future__ import annotations

import pytest

from redline.probes._stacks import Frame, StackSamples, share_changes

RAW = """\
<module> (app.py:12);main (app.py:10);render_invoice (billing.py:88) 62
<module> (app.py:12);main (app.py:10);render_invoice (billing.py:88);fmt (billing.py:20) 8
<module> (app.py:12);main (app.py:11) 30
 1
"""


def test_frames_parse_with_and_without_a_location() -> None:
    assert Frame.parse("render_invoice (billing.py:88)") == Frame(
        "render_invoice", "billing.py", 88
    )
    assert Frame.parse("<lambda> (C:\\app\\x y.py:3)") == Frame("<lambda>", "C:\\app\\x y.py", 3)
    assert Frame.parse("MainThread") == Frame("MainThread")
    assert str(Frame("f", "a.py", 1)) == "f (a.py:1)"


def test_hotspots_rank_self_time_with_total_beside_it() -> None:
    samples = StackSamples.from_collapsed(RAW)
    assert samples.total == 100  # the frameless " 1" line is left out
    first, second, third = samples.hotspots(3)
    assert (first.frame.function, first.frame.location) == ("render_invoice", "billing.py:88")
    assert (first.self_share, first.total_share) == (0.62, 0.70)
    assert second.frame.function == "main" and second.self_share == 0.30
    assert third.frame.function == "fmt"
    assert len(samples.hotspots(1)) == 1


def test_recursion_counts_a_frame_once_per_stack_in_total() -> None:
    samples = StackSamples.from_collapsed("a (x.py:1);a (x.py:1);a (x.py:1) 10\n")
    [spot] = samples.hotspots()
    assert spot.total_share == 1.0


def test_collapsed_round_trips_with_fractional_weights() -> None:
    samples = StackSamples(unit="us")
    samples.add([Frame("a", "x.py", 1), Frame("b", "x.py", 2)], 1443320.5)
    samples.add([Frame("a", "x.py", 1)], 12)
    text = samples.to_collapsed()
    assert text == "a (x.py:1);b (x.py:2) 1443320.5\na (x.py:1) 12\n"
    assert StackSamples.from_collapsed(text, unit="us").stacks == samples.stacks


def test_a_line_without_a_weight_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"line 2: 'a;b' does not end with a weight"):
        StackSamples.from_collapsed("a 1\na;b\n")


def test_share_changes_rank_what_grew_most_first() -> None:
    low = StackSamples.from_collapsed("a (x.py:1);b (x.py:2) 30\na (x.py:1) 70\n")
    high = StackSamples.from_collapsed("a (x.py:1);b (x.py:2) 62\na (x.py:1);c (x.py:3) 38\n")
    first, second, last = share_changes(low, high)
    assert (first.frame.function, first.before, first.after) == ("c", 0.0, 0.38)
    assert (second.frame.function, second.before, second.after) == ("b", 0.30, 0.62)
    assert last.frame.function == "a" and last.growth == -0.70


def test_a_native_frame_has_its_binary_and_no_line() -> None:
    frame = Frame.parse("burn_cycles (hot)")
    assert frame == Frame("burn_cycles", "hot", None)
    assert (frame.location, str(frame)) == ("hot", "burn_cycles (hot)")
    assert Frame.parse(str(frame)) == frame
