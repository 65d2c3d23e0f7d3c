"""The HTML report: one self-contained page from a results document.

:func:`render_html_report` reads a results document (``redline run --out``,
or a stored run's) and returns the page: headline and thresholds, charts over
time, the latency distribution, endpoints, resources, findings, capacity,
flame graphs and database statements, and with a :class:`Baseline` the
comparison. Charts are SVG drawn here (:mod:`._charts`); the template and the
CSS/JS assets beside this module are inlined, so the file works offline.
"""

from redline.report.html._report import Baseline, render_html_report

__all__ = ["Baseline", "render_html_report"]
