"""A comparison of two runs, for the terminal (Rich) and for a pull request (Markdown).

Every row shows the interval of the change, not just the point, beside its
verdict: a reader sees how sure the verdict is. Nothing is computed here;
:mod:`redline.compare` did the statistics.
"""

from __future__ import annotations

import math
from typing import Final

from rich.console import Group
from rich.table import Table
from rich.text import Text

from redline.compare import (
    Comparison,
    Delta,
    EndpointComparison,
    Metric,
    NotComparable,
    Verdict,
)
from redline.report._terminal import format_latency

__all__ = ["comparison_markdown", "render_comparison", "shown_endpoints"]

#: How each verdict looks in the terminal.
VERDICT_STYLES: Final = {
    Verdict.REGRESSED: "bold red",
    Verdict.IMPROVED: "bold green",
    Verdict.NO_CHANGE: "grey50",
}
#: How each verdict reads in Markdown.
VERDICT_MARKS: Final = {
    Verdict.REGRESSED: "🔴 **regressed**",
    Verdict.IMPROVED: "🟢 improved",
    Verdict.NO_CHANGE: "⚪ no significant change",
}
#: Column headings, shared by both renderers.
_HEADINGS: Final = ("endpoint", "metric", "baseline", "candidate", "change", "interval", "verdict")


def render_comparison(result: Comparison | NotComparable) -> Group:
    """The comparison as Rich renderables: a heading, one table, the summary and notes."""
    if isinstance(result, NotComparable):
        lines = [Text.assemble(("not comparable: ", "bold red"), _versus(result))]
        lines += [Text(f"  • {reason}") for reason in result.reasons]
        lines += [Text(f"  note: {note}", style="grey50") for note in result.notes]
        return Group(*lines)
    heading = Text.assemble(
        ("compare ", "bold red"),
        _versus(result),
        " · ",
        (result.verdict.value, VERDICT_STYLES[result.verdict]),
    )
    parts: list[Text | Table] = [heading, Text(_settings_line(result), style="grey50")]
    parts.append(_table(result))
    parts.append(Text(result.summary()))
    parts += [Text(f"note: {note}", style="grey50") for note in result.notes]
    return Group(*parts)


def comparison_markdown(result: Comparison | NotComparable) -> str:
    """The comparison as GitHub-flavoured Markdown, for a pull-request comment."""
    if isinstance(result, NotComparable):
        lines = ["### redline compare: not comparable", "", _md(_versus(result)), ""]
        lines += [f"- {_md(reason)}" for reason in result.reasons]
        lines += [f"- note: {_md(note)}" for note in result.notes]
        return "\n".join(lines) + "\n"
    lines = [
        f"### redline compare: {VERDICT_MARKS[result.verdict]}",
        "",
        f"{_md(_versus(result))}. {_md(_settings_line(result))}",
        "",
        "| " + " | ".join(_HEADINGS) + " |",
        "|" + "|".join(["---", "---", "--:", "--:", "--:", "--:", "---"]) + "|",
    ]
    for label, endpoint in shown_endpoints(result):
        for delta in endpoint.deltas.values():
            cells = [_code(label), *_cells(delta)[:-1], VERDICT_MARKS[delta.verdict]]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", _md(result.summary())]
    if result.notes:
        lines += [""] + [f"- note: {_md(note)}" for note in result.notes]
    return "\n".join(lines) + "\n"


def _table(result: Comparison) -> Table:
    confidence = f"{result.settings.confidence:.0%} interval"
    table = Table(title_justify="left")
    for heading in _HEADINGS:
        right = heading in ("baseline", "candidate", "change", "interval")
        label = confidence if heading == "interval" else heading
        table.add_column(label, justify="right" if right else "left")
    for label, endpoint in shown_endpoints(result):
        for index, delta in enumerate(endpoint.deltas.values()):
            *cells, verdict = _cells(delta)
            table.add_row(
                label if index == 0 else "",
                *cells,
                Text(verdict, style=VERDICT_STYLES[delta.verdict]),
                end_section=index == len(endpoint.deltas) - 1,
            )
    return table


def shown_endpoints(result: Comparison) -> list[tuple[str, EndpointComparison]]:
    """The endpoints to show, labelled; a lone endpoint that is all the traffic shows once."""
    endpoints = result.endpoints
    if len(endpoints) == 2 and endpoints[0].requests == endpoints[1].requests:
        return [(f"{endpoints[0].label} = {endpoints[1].label}", endpoints[0])]
    return [(endpoint.label, endpoint) for endpoint in endpoints]


def _cells(delta: Delta) -> list[str]:
    """metric, baseline, candidate, change, interval, verdict."""
    return [
        delta.metric.value,
        _value(delta.metric, delta.baseline),
        _value(delta.metric, delta.candidate),
        _change(delta),
        _interval(delta),
        delta.verdict.value,
    ]


def _value(metric: Metric, value: float) -> str:
    if metric is Metric.THROUGHPUT:
        return f"{value:,.1f}/s"
    if metric is Metric.ERROR_RATE:
        return f"{value:.2%}"
    return format_latency(value)


def _change(delta: Delta) -> str:
    if delta.change is not None:
        return _signed_percent(delta.change)
    if delta.metric is Metric.ERROR_RATE:
        return f"{delta.difference * 100:+.2f} pp"
    return "n/a"


def _interval(delta: Delta) -> str:
    if delta.interval is not None and all(math.isfinite(v) for v in delta.interval):
        low, high = delta.interval
        return f"{_signed_percent(low)} … {_signed_percent(high)}"
    low, high = delta.difference_interval
    if not (math.isfinite(low) and math.isfinite(high)):
        return "n/a"
    if delta.metric is Metric.ERROR_RATE:
        return f"{low * 100:+.2f} … {high * 100:+.2f} pp"
    return f"{low:+,.0f} … {high:+,.0f}"


def _signed_percent(share: float) -> str:
    return f"{share:+.1%}"


def _versus(result: Comparison | NotComparable) -> str:
    if isinstance(result, NotComparable):
        return f"baseline {result.baseline!r} vs candidate {result.candidate!r}"
    base, cand = result.baseline, result.candidate
    return (
        f"baseline {base.name!r} ({base.steady_seconds} steady s) vs "
        f"candidate {cand.name!r} ({cand.steady_seconds} steady s)"
    )


def _settings_line(result: Comparison) -> str:
    settings = result.settings
    return (
        f"response time; a change counts when its {settings.confidence:.0%} interval excludes 0 "
        f"and it is at least {settings.min_effect:.0%} "
        f"(block bootstrap of seconds, {settings.resamples:,} resamples, seed {settings.seed})"
    )


def _md(text: str) -> str:
    """Escape what would break a Markdown table cell or start markup."""
    return text.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def _code(text: str) -> str:
    """A code span in a table cell: only a pipe (the cell's end) and backticks need care."""
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"
