"""JUnit XML and the Markdown summary: what CI systems and pull requests read."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from redline.errors import ReportError
from redline.report._junit import GateCase, junit_xml, threshold_cases, write_junit
from redline.report._markdown import markdown_summary, write_markdown
from tests.unit.report.test_outputs import _result

#: The JUnit report format as CI systems read it (see the file's comment).
JUNIT_SCHEMA = xmlschema.XMLSchema(
    str(Path(__file__).parents[2] / "fixtures" / "junit" / "junit.xsd")
)
#: Attributes the common JUnit consumers (Jenkins, GitLab, GitHub reporters) require.
SUITE_ATTRIBUTES = {"name", "tests", "failures", "errors", "time"}
CASE_ATTRIBUTES = {"name", "classname", "time"}


def _check_junit_shape(text: str) -> ET.Element:
    JUNIT_SCHEMA.validate(text)  # raises with the first element that does not fit
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    assert SUITE_ATTRIBUTES <= set(suite.attrib)
    cases = suite.findall("testcase")
    assert int(suite.attrib["tests"]) == len(cases) == int(root.attrib["tests"])
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(suite.attrib["failures"]) == len(failed) == int(root.attrib["failures"])
    for case in cases:
        assert CASE_ATTRIBUTES <= set(case.attrib)
        assert set(child.tag for child in case) <= {"failure", "system-out"}
    float(suite.attrib["time"])
    return suite


def test_thresholds_become_cases_and_failures_carry_the_observed_value() -> None:
    result = _result()
    cases = threshold_cases(result)
    suite = _check_junit_shape(junit_xml("checkout", cases, time_s=result.elapsed_s))
    by_name = {c.attrib["name"]: c for c in suite.findall("testcase")}
    failed = by_name["p95[items]<1ms"].find("failure")
    assert failed is not None
    assert failed.attrib["message"].startswith("observed 4")
    assert by_name["error_rate<60%"].find("failure") is None
    assert suite.attrib["name"] == "checkout"


def test_names_with_markup_characters_are_escaped() -> None:
    cases = [GateCase('p95 of "GET /a&b" <x>', "regressions", False, "p95 +12% (5% .. 19%)")]
    suite = _check_junit_shape(junit_xml("s", cases, time_s=1.0))
    assert suite.find("testcase").attrib["name"] == 'p95 of "GET /a&b" <x>'  # type: ignore[union-attr]


def test_markdown_has_the_verdict_the_endpoints_and_each_check() -> None:
    result = _result()
    text = markdown_summary(result, threshold_cases(result))
    assert text.startswith("### redline: ")
    assert "checks failed" in text
    assert "| items |" in text and "| all |" in text
    assert "| ❌ | `p95[items]<1ms` |" in text
    assert "| ✅ | `error_rate<60%` |" in text


def test_unwritable_paths_are_report_errors(tmp_path: Path) -> None:
    result = _result()
    missing = tmp_path / "missing" / "x"
    with pytest.raises(ReportError, match="--junit: cannot write"):
        write_junit(missing, "s", [], time_s=0.0)
    with pytest.raises(ReportError, match="--markdown: cannot write"):
        write_markdown(missing, result, [])


def test_the_schema_refuses_a_case_without_a_classname() -> None:
    bad = '<testsuites><testsuite name="s" tests="1" failures="0" errors="0" time="0">'
    bad += '<testcase name="x" time="0"/></testsuite></testsuites>'
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        JUNIT_SCHEMA.validate(bad)
