"""JUnit XML for CI systems: each threshold (and each regression verdict) a test case.

The format is the one Jenkins, GitLab, GitHub Actions reporters and Azure
Pipelines read: ``<testsuites>`` holding one ``<testsuite>`` with ``tests``,
``failures``, ``errors``, ``skipped`` and ``time``, and a ``<testcase>`` per check
with ``name``, ``classname`` and ``time``, failed ones holding ``<failure
message="..." type="...">``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from redline.load import RunResult
from redline.report._files import write_report

__all__ = ["GateCase", "junit_xml", "threshold_cases", "write_junit"]


@dataclass(frozen=True)
class GateCase:
    """One pass/fail check of a run, as CI shows it."""

    #: What was checked (``"p95<300ms"``, ``"p95 of GET /cart"``).
    name: str
    #: The group it belongs to (``"thresholds"``, ``"regressions"``).
    classname: str
    passed: bool
    #: Why it failed, or what was observed, one line.
    message: str = ""


def threshold_cases(result: RunResult) -> list[GateCase]:
    """Every threshold of ``result`` as a case."""
    return [
        GateCase(
            name=outcome.threshold.source,
            classname="thresholds",
            passed=outcome.passed,
            message=f"observed {outcome.observed:g}" if outcome.observed is not None else "",
        )
        for outcome in result.thresholds
    ]


def junit_xml(suite: str, cases: Sequence[GateCase], *, time_s: float) -> str:
    """The JUnit document for ``cases`` in one suite named ``suite``."""
    failures = sum(1 for case in cases if not case.passed)
    root = ET.Element(
        "testsuites",
        {"name": "redline", "tests": str(len(cases)), "failures": str(failures), "errors": "0"},
    )
    element = ET.SubElement(
        root,
        "testsuite",
        {
            "name": suite,
            "tests": str(len(cases)),
            "failures": str(failures),
            "errors": "0",
            "skipped": "0",
            "time": f"{time_s:.3f}",
        },
    )
    for case in cases:
        testcase = ET.SubElement(
            element, "testcase", {"name": case.name, "classname": case.classname, "time": "0"}
        )
        if not case.passed:
            failure = ET.SubElement(
                testcase, "failure", {"message": case.message or "failed", "type": case.classname}
            )
            failure.text = case.message
        elif case.message:
            ET.SubElement(testcase, "system-out").text = case.message
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: Path, suite: str, cases: Sequence[GateCase], *, time_s: float) -> None:
    """Write :func:`junit_xml` to ``path``; a ReportError says why when it cannot."""
    write_report(path, junit_xml(suite, cases, time_s=time_s), flag="--junit")
