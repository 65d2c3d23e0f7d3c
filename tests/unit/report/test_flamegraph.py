"""The flame graph SVG: well-formed, escaped, proportional, deterministic."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from redline.errors import ConfigError
from redline.probes._stacks import Frame, StackSamples
from redline.report._flamegraph import (
    FRAME_HEIGHT_PX,
    HEADER_HEIGHT_PX,
    SIDE_MARGIN_PX,
    flamegraph_svg,
)

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def _frames(root: ET.Element) -> dict[str, ET.Element]:
    """Each frame's rect by the start of its tooltip (the frame, before the colon)."""
    frames = {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        rect = group.find(f"{SVG}rect")
        if title is not None and rect is not None:
            assert title.text is not None
            frames[title.text.rpartition(": ")[0]] = rect
    return frames


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_is_well_formed_with_one_rect_per_merged_frame() -> None:
    samples = StackSamples.from_collapsed("a;b 3\na;c 1\na;b;d 2\n")
    root = _parse(flamegraph_svg(samples, title="demo"))
    assert set(_frames(root)) == {"all", "a", "b", "c", "d"}
    assert "demo" in _texts(root)
    assert "Total: 6 samples" in _texts(root)


def test_widths_are_proportional_to_weight() -> None:
    samples = StackSamples.from_collapsed("a;b 3\na;c 1\n")
    frames = _frames(_parse(flamegraph_svg(samples, title="t", width_px=1000)))
    b_px, c_px = (float(frames[name].attrib["width"]) for name in ("b", "c"))
    assert b_px == pytest.approx(3 * c_px, abs=1)
    assert float(frames["a"].attrib["width"]) == pytest.approx(1000 - 2 * SIDE_MARGIN_PX, abs=1)


def test_root_is_at_the_bottom_and_children_sorted_by_name() -> None:
    samples = StackSamples.from_collapsed("a;zeta 1\na;alpha 1\n")
    frames = _frames(_parse(flamegraph_svg(samples, title="t")))
    rows = {name: float(rect.attrib["y"]) for name, rect in frames.items()}
    assert rows["all"] > rows["a"] > rows["alpha"] == rows["zeta"]
    assert rows["alpha"] == HEADER_HEIGHT_PX
    assert float(frames["alpha"].attrib["x"]) < float(frames["zeta"].attrib["x"])


def test_tooltip_names_location_weight_and_share() -> None:
    samples = StackSamples.from_collapsed(
        "main (app.py:10);work (app.py:5) 3\nmain (app.py:10) 1\n"
    )
    root = _parse(flamegraph_svg(samples, title="t"))
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "work (app.py:5): 3 samples, 75.00%" in titles


def test_microseconds_are_shown_as_milliseconds() -> None:
    samples = StackSamples.from_collapsed("main;work 1500\nmain 500\n", unit="us")
    root = _parse(flamegraph_svg(samples, title="t"))
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "work: 1.50 ms, 75.00%" in titles
    assert "Total: 2 ms" in _texts(root)


def test_bytes_are_shown_in_binary_units() -> None:
    samples = StackSamples.from_collapsed("main;keep 3145728\nmain 1048576\n", unit="bytes")
    root = _parse(flamegraph_svg(samples, title="t"))
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "keep: 3.0 MiB, 75.00%" in titles
    assert "Total: 4.0 MiB" in _texts(root)


def test_function_names_are_escaped() -> None:
    samples = StackSamples()
    samples.add([Frame("<module>", "app.py", 1), Frame("<lambda>", "a&b.py", 2)], 5)
    svg = flamegraph_svg(samples, title='"<title>" & more')
    root = _parse(svg)
    assert "&lt;module&gt;" in svg
    assert "<module (" not in svg
    assert {"<module> (app.py:1)", "<lambda> (a&b.py:2)"} <= set(_frames(root))
    assert '"<title>" & more' in _texts(root)


def test_control_characters_do_not_break_the_xml() -> None:
    samples = StackSamples()
    samples.add([Frame("native\x00frame")], 1)
    _parse(flamegraph_svg(samples, title="t"))


def test_long_labels_are_truncated_and_narrow_ones_dropped() -> None:
    long_name = "a_function_with_a_name_far_too_long_for_its_rectangle"
    samples = StackSamples.from_collapsed(f"root;{long_name} 10\nroot;x 90\nroot;tiny 1\n")
    labels = _texts(_parse(flamegraph_svg(samples, title="t", width_px=1200)))
    cut = [label for label in labels if label.startswith("a_function")]
    assert len(cut) == 1 and cut[0].endswith("..") and len(cut[0]) < len(long_name)
    assert "tiny" not in labels  # about 12 px wide: too narrow for any text


def test_tiny_frames_are_omitted_and_counted() -> None:
    samples = StackSamples.from_collapsed("main;big 100000\nmain;small;deeper 1\nmain;other 2\n")
    root = _parse(flamegraph_svg(samples, title="t"))
    assert set(_frames(root)) == {"all", "main", "big"}
    assert "3 frames narrower than 0.1% of the width omitted" in _texts(root)


def test_no_footer_when_nothing_is_omitted() -> None:
    root = _parse(flamegraph_svg(StackSamples.from_collapsed("a 1\n"), title="t"))
    assert not [text for text in _texts(root) if "omitted" in text]


def test_height_grows_with_depth() -> None:
    shallow = _parse(flamegraph_svg(StackSamples.from_collapsed("a 1\n"), title="t"))
    deep = _parse(flamegraph_svg(StackSamples.from_collapsed("a;b;c;d 1\n"), title="t"))
    grown_px = int(deep.attrib["height"]) - int(shallow.attrib["height"])
    assert grown_px == 3 * FRAME_HEIGHT_PX


def test_deep_recursion_is_drawn_without_hitting_the_recursion_limit() -> None:
    samples = StackSamples()
    samples.add([Frame("recurse", "r.py", 1)] * 3000, 1)
    frames = list(_parse(flamegraph_svg(samples, title="t")).iter(f"{SVG}rect"))
    assert len(frames) == 1 + 1 + 3000  # the background, "all", each call


def test_output_is_deterministic_and_colours_follow_the_name() -> None:
    text = "m;b 3\nm;a 1\nn;a 2\n"
    first = flamegraph_svg(StackSamples.from_collapsed(text), title="t")
    reordered = "\n".join(reversed(text.splitlines()))
    assert flamegraph_svg(StackSamples.from_collapsed(reordered), title="t") == first
    frames = _frames(_parse(first))
    colours = [rect.attrib["fill"] for name, rect in frames.items() if name == "a"]
    assert len(set(colours)) == 1
    assert all(rect.attrib["fill"].startswith("#") for rect in frames.values())


def test_frames_differing_only_in_location_are_drawn_apart() -> None:
    samples = StackSamples()
    samples.add([Frame("f"), Frame("g", "x.py", 1)], 1)
    samples.add([Frame("f"), Frame("g")], 1)
    assert {"g", "g (x.py:1)"} <= set(_frames(_parse(flamegraph_svg(samples, title="t"))))


def test_empty_samples_say_so() -> None:
    root = _parse(flamegraph_svg(StackSamples(), title="t"))
    assert "no samples" in _texts(root)
    assert not _frames(root)


def test_zero_weights_are_empty_too() -> None:
    samples = StackSamples()
    samples.add([Frame("a")], 0)
    assert "no samples" in _texts(_parse(flamegraph_svg(samples, title="t")))


def test_too_narrow_a_picture_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"width_px must be at least 200, got 50"):
        flamegraph_svg(StackSamples(), title="t", width_px=50)


def test_an_unknown_unit_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"unit must be one of \['bytes', 'samples', 'us'\], got 'ns'"
    ):
        flamegraph_svg(StackSamples(unit="ns"), title="t")
