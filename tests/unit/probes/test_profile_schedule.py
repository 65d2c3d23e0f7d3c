"""Where a run is profiled: the steady part of each held phase, ramps left out."""

from __future__ import annotations

from redline.plan import Phase, PhaseKind
from redline.probes import ProfileWindow, StackSamples, WindowProfile, steady_windows
from redline.probes._pyspy import CpuProfile


def test_steady_windows_skip_ramps_warmups_and_short_holds() -> None:
    phases = [
        Phase("ramp", PhaseKind.RAMP_UP, 0.0, 0.4, 4.0),
        Phase("step 1", PhaseKind.HOLD, 0.4, 4.0, 4.0, warmup_s=1.0),
        Phase("blip", PhaseKind.HOLD, 4.0, 4.5, 8.0),
    ]
    assert steady_windows(phases) == [ProfileWindow("step 1", 1.4, 4.0, 4.0, "VUs")]


def test_a_window_profile_round_trips_its_stacks() -> None:
    samples = StackSamples.from_collapsed("a (x.py:1);b (x.py:2) 7\n")
    profile = WindowProfile(
        ProfileWindow("step 1", 1.4, 4.0, 4.0, "VUs"), CpuProfile(samples, "py-spy", 2.6), 0.1
    )
    data = profile.to_dict()
    assert data["method"] == "py-spy" and data["partial"] is False
    assert WindowProfile.samples_of(data).stacks == samples.stacks


def test_a_window_that_could_not_be_profiled_says_why() -> None:
    data = WindowProfile(ProfileWindow("w", 0, 2, 1, "VUs"), None, 0.0, error="gone").to_dict()
    assert (data["error"], data["stacks"], data["partial"]) == ("gone", "", True)
