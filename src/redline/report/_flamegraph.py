"""A flame graph of sampled call stacks as one self-contained SVG.

Glossary:
    merged frame: a frame on one call path: the stacks that share the same
        frames from the root up to it are drawn as one rectangle (Brendan
        Gregg's flame graph), whichever order the samples came in.
    weight: samples (py-spy), microseconds (pyinstrument) or bytes (memory
        profiles), as :attr:`StackSamples.unit` says; tooltips show
        microseconds as ms and bytes in binary units (KiB, MiB).

The root (``all``, every stack) is at the bottom; each row up is one call
deeper. A rectangle's width is its share of the total weight, siblings are
sorted by frame so the same samples always give the same picture, and frames
too narrow to see are left out and counted in the footer. The file needs
nothing else (no script, font or stylesheet), so it opens in a browser tab and
in an ``<img>`` alike.
"""

from __future__ import annotations

import colorsys
import html
import re
import zlib
from dataclasses import dataclass, field

from redline.errors import ConfigError
from redline.probes._stacks import Frame, StackSamples
from redline.units import format_bytes

__all__ = ["flamegraph_svg"]

#: Height of one row (one call depth), gap included.
FRAME_HEIGHT_PX = 16
#: Space between the frames and the picture's left and right edges.
SIDE_MARGIN_PX = 10
#: Space above the frames for the title and subtitle.
HEADER_HEIGHT_PX = 48
#: Space below the frames for the footer.
FOOTER_HEIGHT_PX = 24
#: The narrowest picture that still shows a label or two.
SMALLEST_WIDTH_PX = 200
#: Frames narrower than this share of the frames' width are omitted: they
#: cannot be seen or hovered, and a deep profile would otherwise hold tens of
#: thousands of invisible rectangles.
MIN_FRAME_FRACTION = 0.001
#: Label font size; the font is the viewer's generic monospace.
FONT_SIZE_PX = 12
#: Advance of one monospace character, about 0.6 em in common fonts; used to
#: decide how much of a label fits, since the SVG cannot measure text itself.
CHAR_WIDTH_PX = 0.6 * FONT_SIZE_PX
#: Space between a rectangle's left edge and its label.
LABEL_PADDING_PX = 3
#: What replaces the end of a label that does not fit.
ELLIPSIS = ".."
#: The hue band colours are drawn from: orange to yellow. A single warm band
#: reads the same under the common colour-vision deficiencies, and lightness
#: varies too, so neighbours differ without relying on hue alone.
HUE_MIN_DEG = 20.0
HUE_MAX_DEG = 52.0
LIGHTNESS_MIN = 0.55
LIGHTNESS_MAX = 0.72
SATURATION = 0.9
#: Name of the bottom rectangle, the whole profile.
ROOT_NAME = "all"
#: How a weight is shown for each :attr:`StackSamples.unit`: divide by, then name.
UNIT_DISPLAY = {"samples": (1.0, "samples"), "us": (1000.0, "ms")}
#: The unit of memory profiles, whose weights are shown by :func:`format_bytes`.
BYTES_UNIT = "bytes"
#: Every unit a flame graph can show.
UNITS = sorted([*UNIT_DISPLAY, BYTES_UNIT])
#: Characters XML 1.0 forbids even escaped (C0 controls bar tab, newline and
#: return; lone surrogates; U+FFFE/U+FFFF): a native frame's name may hold one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class _Node:
    """A merged frame: its weight and the frames called from it."""

    frame: Frame | None  # None for the root, which stands for every stack
    weight: float = 0.0
    children: dict[Frame, _Node] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.frame.function if self.frame is not None else ROOT_NAME

    @property
    def label(self) -> str:
        return str(self.frame) if self.frame is not None else ROOT_NAME


@dataclass(frozen=True)
class _Box:
    """Where a merged frame is drawn."""

    node: _Node
    depth: int
    x_px: float
    width_px: float


def flamegraph_svg(samples: StackSamples, *, title: str, width_px: int = 1200) -> str:
    """Draw ``samples`` as a flame graph: a standalone SVG document.

    Stacks with a weight of zero or less are ignored. Hovering a rectangle
    shows ``function (file:line): N samples, P%`` (ms when the unit is ``us``,
    KiB or MiB when it is ``bytes``).

    Args:
        samples: the stacks, root first, and their weights.
        title: shown at the top.
        width_px: the picture's width; its height follows from the deepest stack.

    Returns:
        The SVG text, or one that says "no samples" when there is nothing to draw.

    Raises:
        ConfigError: ``width_px`` is below :data:`SMALLEST_WIDTH_PX`.
        ValueError: ``samples.unit`` is not ``samples``, ``us`` or ``bytes``.

    Example::

        svg = flamegraph_svg(StackSamples.from_collapsed(text), title="GET /users")
    """
    if width_px < SMALLEST_WIDTH_PX:
        raise ConfigError(
            f"width_px must be at least {SMALLEST_WIDTH_PX}, got {width_px!r}",
            hint="pass a wider picture",
        )
    if samples.unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {samples.unit!r}")
    root = _tree(samples)
    header = _header(title, f"Total: {_amount(root.weight, samples.unit)}", width_px)
    if root.weight <= 0:
        return _document(width_px, HEADER_HEIGHT_PX + FOOTER_HEIGHT_PX, [*header, _no_samples()])
    boxes, omitted = _layout(root, width_px - 2 * SIDE_MARGIN_PX)
    rows = 1 + max(box.depth for box in boxes)
    body = [_frame(box, rows, root.weight, samples.unit) for box in boxes]
    footer = _footer(omitted, HEADER_HEIGHT_PX + rows * FRAME_HEIGHT_PX)
    height_px = HEADER_HEIGHT_PX + rows * FRAME_HEIGHT_PX + FOOTER_HEIGHT_PX
    return _document(width_px, height_px, [*header, *body, *footer])


def _tree(samples: StackSamples) -> _Node:
    """Merge the stacks into one tree of frames under a root that holds them all."""
    root = _Node(None)
    for stack, weight in samples.stacks.items():
        if weight <= 0:
            continue
        node = root
        node.weight += weight
        for frame in stack:
            node = node.children.setdefault(frame, _Node(frame))
            node.weight += weight
    return root


def _sort_key(frame: Frame) -> tuple[str, str, int]:
    # Frame's own ordering compares None with str when only the location differs.
    return (frame.function, frame.file or "", frame.line if frame.line is not None else -1)


def _layout(root: _Node, frames_width_px: float) -> tuple[list[_Box], int]:
    """Place every frame wide enough to show; also count the frames left out.

    The walk keeps its own stack rather than recursing: a deeply recursive
    program's stacks would otherwise reach Python's recursion limit.
    """
    scale = frames_width_px / root.weight
    min_width_px = frames_width_px * MIN_FRAME_FRACTION
    boxes: list[_Box] = []
    omitted = 0
    pending = [(root, 0, float(SIDE_MARGIN_PX))]
    while pending:
        node, depth, x_px = pending.pop()
        width_px = node.weight * scale
        if width_px < min_width_px:
            omitted += _count(node)
            continue
        boxes.append(_Box(node, depth, x_px, width_px))
        for frame in sorted(node.children, key=_sort_key):
            child = node.children[frame]
            pending.append((child, depth + 1, x_px))
            x_px += child.weight * scale
    boxes.sort(key=lambda box: (box.depth, box.x_px))
    return boxes, omitted


def _count(node: _Node) -> int:
    """How many merged frames ``node`` and everything it calls make."""
    total = 0
    pending = [node]
    while pending:
        current = pending.pop()
        total += 1
        pending.extend(current.children.values())
    return total


def _amount(weight: float, unit: str) -> str:
    """``weight`` in the unit a reader expects: ``1,234 samples``, ``12.50 ms``, ``1.5 MiB``."""
    if unit == BYTES_UNIT:
        return format_bytes(weight)
    divisor, name = UNIT_DISPLAY[unit]
    value = weight / divisor
    digits = 0 if value.is_integer() else 2
    return f"{value:,.{digits}f} {name}"


def _xml(text: str) -> str:
    """``text`` safe inside an XML element or a quoted attribute."""
    return html.escape(_NOT_XML.sub("\ufffd", text), quote=True)


def _colour(function: str) -> str:
    """A warm colour picked by the function's name, the same on every run.

    crc32 rather than ``hash()``, which Python salts per process.
    """
    digest = zlib.crc32(function.encode("utf-8", "surrogatepass"))
    hue_deg = HUE_MIN_DEG + (digest % 1024) / 1023 * (HUE_MAX_DEG - HUE_MIN_DEG)
    lightness = LIGHTNESS_MIN + (digest >> 10) % 1024 / 1023 * (LIGHTNESS_MAX - LIGHTNESS_MIN)
    red, green, blue = colorsys.hls_to_rgb(hue_deg / 360, lightness, SATURATION)
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in (red, green, blue))


def _fitted(name: str, width_px: float) -> str:
    """As much of ``name`` as fits in ``width_px``, ending in ``..`` if cut; may be empty."""
    fits = int((width_px - 2 * LABEL_PADDING_PX) / CHAR_WIDTH_PX)
    if len(name) <= fits:
        return name
    if fits <= len(ELLIPSIS):
        return ""
    return name[: fits - len(ELLIPSIS)] + ELLIPSIS


def _frame(box: _Box, rows: int, total: float, unit: str) -> str:
    """One rectangle with its tooltip and, when there is room, its label."""
    node = box.node
    y_px = HEADER_HEIGHT_PX + (rows - 1 - box.depth) * FRAME_HEIGHT_PX
    share = node.weight / total
    tooltip = f"{node.label}: {_amount(node.weight, unit)}, {share:.2%}"
    parts = [
        "<g>",
        f"<title>{_xml(tooltip)}</title>",
        f'<rect x="{box.x_px:.2f}" y="{y_px}" width="{box.width_px:.2f}" '
        f'height="{FRAME_HEIGHT_PX - 1}" rx="2" fill="{_colour(node.name)}"/>',
    ]
    label = _fitted(node.name, box.width_px)
    if label:
        text_x_px = box.x_px + LABEL_PADDING_PX
        text_y_px = y_px + FRAME_HEIGHT_PX - 4  # baseline, clear of descenders
        parts.append(f'<text x="{text_x_px:.2f}" y="{text_y_px}">{_xml(label)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _header(title: str, subtitle: str, width_px: int) -> list[str]:
    middle_px = width_px / 2
    return [
        f'<text x="{middle_px:.1f}" y="20" text-anchor="middle" font-size="16">'
        f"{_xml(title)}</text>",
        f'<text x="{middle_px:.1f}" y="38" text-anchor="middle" fill="#555555">'
        f"{_xml(subtitle)}</text>",
    ]


def _no_samples() -> str:
    return f'<text x="{SIDE_MARGIN_PX}" y="{HEADER_HEIGHT_PX + 12}">no samples</text>'


def _footer(omitted: int, top_px: int) -> list[str]:
    if omitted == 0:
        return []
    noun = "frame" if omitted == 1 else "frames"
    text = f"{omitted:,} {noun} narrower than {MIN_FRAME_FRACTION:.1%} of the width omitted"
    return [f'<text x="{SIDE_MARGIN_PX}" y="{top_px + 16}" fill="#555555">{text}</text>']


def _document(width_px: int, height_px: int, elements: list[str]) -> str:
    """The SVG document around ``elements``, on a white background."""
    opening = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width_px}" '
        f'height="{height_px}" viewBox="0 0 {width_px} {height_px}">\n'
        f'<rect width="{width_px}" height="{height_px}" fill="#ffffff"/>\n'
        f'<g font-family="monospace" font-size="{FONT_SIZE_PX}" fill="#000000">\n'
    )
    return opening + "\n".join(elements) + "\n</g>\n</svg>\n"
