"""The page around the sections: the template, its CSS and JS inlined, and markup helpers.

The template (``templates/page.html``) and assets (``assets/report.css``,
``assets/report.js``) are package data beside this module, read once and
inlined, so the report is one file that needs nothing else. Every text taken
from a results document goes through :func:`esc`.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from string import Template

__all__ = ["Cell", "Section", "esc", "figures_list", "page", "table"]


def esc(text: object) -> str:
    """Text for HTML, ``<``, ``&`` and quotes escaped."""
    return html.escape(str(text), quote=True)


@functools.cache
def _asset(*parts: str) -> str:
    return resources.files(__package__).joinpath(*parts).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Section:
    """One part of the report: its anchor, heading and HTML body."""

    id: str
    title: str
    body: str

    def html(self) -> str:
        return f'<section id="{esc(self.id)}"><h2>{esc(self.title)}</h2>\n{self.body}\n</section>'


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, the raw value sorting uses, and whether it is a number."""

    text: str
    value: float | str | None = None
    numeric: bool = False
    css: str = ""

    def html(self) -> str:
        classes = " ".join(c for c in ("num" if self.numeric else "", self.css) if c)
        css = f' class="{classes}"' if classes else ""
        value = "" if self.value is None else f' data-value="{esc(self.value)}"'
        return f"<td{css}{value}>{esc(self.text)}</td>"


def table(
    headings: Sequence[str],
    rows: Sequence[Sequence[Cell | str]],
    *,
    numeric: Sequence[bool] = (),
    sortable: bool = False,
    footer: Sequence[Cell | str] = (),
    css: str = "",
) -> str:
    """A table; ``numeric[i]`` right-aligns column ``i`` (and sorts it as numbers)."""
    heads = []
    for i, heading in enumerate(headings):
        is_num = i < len(numeric) and numeric[i]
        sort = f' data-sort="{"num" if is_num else "text"}"' if sortable else ""
        css_num = ' class="num"' if is_num else ""
        heads.append(f'<th scope="col"{css_num}{sort}>{esc(heading)}</th>')
    body = "".join(f"<tr>{''.join(_cell(c) for c in row)}</tr>" for row in rows)
    foot = f"<tfoot><tr>{''.join(_cell(c) for c in footer)}</tr></tfoot>" if footer else ""
    classes = " ".join(c for c in ("sortable" if sortable else "", css) if c)
    opening = f'<table class="{classes}">' if classes else "<table>"
    return (
        f'<div class="wide">{opening}'
        f"<thead><tr>{''.join(heads)}</tr></thead><tbody>{body}</tbody>{foot}</table></div>"
    )


def _cell(cell: Cell | str) -> str:
    return cell.html() if isinstance(cell, Cell) else f"<td>{esc(cell)}</td>"


def figures_list(figures: Sequence[tuple[str, str]]) -> str:
    """Key figures as labelled tiles: ``(label, value with its unit)``."""
    items = "".join(
        f'<li><span class="label">{esc(label)}</span><span class="value">{esc(value)}</span></li>'
        for label, value in figures
    )
    return f'<ul class="figures">{items}</ul>'


@dataclass(frozen=True, kw_only=True)
class PageText:
    """What the page says around its sections (plain text; escaped here)."""

    title: str
    heading: str
    subtitle: str
    footer: str
    version: str


def page(text: PageText, sections: Sequence[Section]) -> str:
    """The whole report: the template with its CSS, JS and sections inlined."""
    nav = "\n".join(f'<li><a href="#{esc(s.id)}">{esc(s.title)}</a></li>' for s in sections)
    text_html = Template(_asset("templates", "page.html")).substitute(
        title=esc(text.title),
        heading=esc(text.heading),
        subtitle=esc(text.subtitle),
        footer=esc(text.footer),
        version=esc(text.version),
        style=_asset("assets", "report.css"),
        script=_asset("assets", "report.js"),
        nav=nav,
        sections="\n".join(s.html() for s in sections),
    )
    # Every character outside ASCII as a reference (µ, –, names in any script): the
    # file reads the same whatever encoding it is written or served in. The CSS and JS
    # are ASCII already (references are not decoded inside <style> and <script>).
    return text_html.encode("ascii", "xmlcharrefreplace").decode("ascii")
