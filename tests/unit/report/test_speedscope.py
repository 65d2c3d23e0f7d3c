"""The speedscope file: its shape, and stacks that survive the round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest

from redline.probes._stacks import Frame, StackSamples
from redline.report._results_json import redline_version
from redline.report._speedscope import SCHEMA_URL, speedscope_json

COLLAPSED = (
    "<module> (app.py:12);main (app.py:10);hot (app.py:5) 11\n"
    "<module> (app.py:12);main (app.py:10);cold (app.py:7) 2\n"
    "<module> (app.py:12);main (app.py:10) 1\n"
    "MainThread;<module> (app.py:12) 3\n"
)


def _rebuild(document: dict[str, Any]) -> StackSamples:
    """The stacks a speedscope reader would see in ``document``."""
    frames = [
        Frame(entry["name"], entry.get("file"), entry.get("line"))
        for entry in document["shared"]["frames"]
    ]
    (profile,) = document["profiles"]
    unit = {"none": "samples", "microseconds": "us", "bytes": "bytes"}[profile["unit"]]
    rebuilt = StackSamples(unit=unit)
    for indices, weight in zip(profile["samples"], profile["weights"], strict=True):
        rebuilt.add([frames[i] for i in indices], weight)
    return rebuilt


def test_stacks_survive_the_round_trip() -> None:
    samples = StackSamples.from_collapsed(COLLAPSED)
    rebuilt = _rebuild(json.loads(speedscope_json(samples, name="GET /")))
    assert rebuilt.stacks == samples.stacks
    assert rebuilt.unit == samples.unit


def test_document_has_the_fields_speedscope_reads() -> None:
    samples = StackSamples.from_collapsed(COLLAPSED)
    document = json.loads(speedscope_json(samples, name="GET /"))
    assert document["$schema"] == SCHEMA_URL
    assert document["name"] == "GET /"
    assert document["activeProfileIndex"] == 0
    assert document["exporter"] == f"redline {redline_version()}"
    (profile,) = document["profiles"]
    assert profile["type"] == "sampled"
    assert profile["name"] == "GET /"
    assert profile["startValue"] == 0
    assert profile["endValue"] == 17
    assert sum(profile["weights"]) == 17
    assert all(isinstance(w, int) for w in profile["weights"])


def test_frames_are_listed_once_and_locations_only_when_known() -> None:
    samples = StackSamples.from_collapsed(COLLAPSED)
    frames = json.loads(speedscope_json(samples, name="p"))["shared"]["frames"]
    assert len(frames) == 5
    assert len({json.dumps(frame, sort_keys=True) for frame in frames}) == 5
    assert {"name": "MainThread"} in frames
    assert {"name": "hot", "file": "app.py", "line": 5} in frames


@pytest.mark.parametrize(
    ("unit", "expected"), [("samples", "none"), ("us", "microseconds"), ("bytes", "bytes")]
)
def test_units_map_to_speedscope_units(unit: str, expected: str) -> None:
    samples = StackSamples.from_collapsed("a;b 1.5\n", unit=unit)
    (profile,) = json.loads(speedscope_json(samples, name="p"))["profiles"]
    assert profile["unit"] == expected
    assert profile["weights"] == [1.5]


def test_output_is_deterministic_whatever_the_order_stacks_came_in() -> None:
    lines = COLLAPSED.splitlines()
    forward = speedscope_json(StackSamples.from_collapsed("\n".join(lines)), name="p")
    backward = speedscope_json(StackSamples.from_collapsed("\n".join(reversed(lines))), name="p")
    assert forward == backward


def test_non_positive_weights_are_left_out() -> None:
    samples = StackSamples()
    samples.add([Frame("kept")], 2)
    samples.add([Frame("dropped")], 0)
    document = json.loads(speedscope_json(samples, name="p"))
    assert document["shared"]["frames"] == [{"name": "kept"}]
    assert document["profiles"][0]["weights"] == [2]


def test_empty_samples_give_an_empty_profile() -> None:
    document = json.loads(speedscope_json(StackSamples(), name="p"))
    assert document["shared"]["frames"] == []
    assert document["profiles"][0]["samples"] == []
    assert document["profiles"][0]["endValue"] == 0


def test_an_unknown_unit_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"unit must be one of \['bytes', 'samples', 'us'\], got 'ns'"
    ):
        speedscope_json(StackSamples(unit="ns"), name="p")
