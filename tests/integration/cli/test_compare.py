"""``redline compare``, the CI gate on ``redline run`` and ``redline trend``, end to end."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from redline.demo.capacity import capacity_server
from tests.integration.cli.test_run import redline
from tests.unit.report.test_ci_outputs import JUNIT_SCHEMA


def _run(url: str, db: Path, *extra: str) -> tuple[int, str, str]:
    proc = redline(
        "run", url, "--vus", "4", "--duration", "10s", "--workers", "1", "--quiet",
        "--history", str(db), *extra,
    )  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr


def _run_id(stdout: str) -> str:
    return stdout.rsplit("saved as run ", 1)[1].split()[0]


def test_a_slower_service_fails_the_gate_and_ci_outputs_say_why(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    with capacity_server(slots=8, service_s=0.005) as fast:
        code, out, err = _run(fast.url, db)
        assert code == 0, out + err
        first = _run_id(out)
    assert redline("baseline", "set", first, "--name", "shop", "--history", str(db)).returncode == 0
    junit, markdown = tmp_path / "junit.xml", tmp_path / "summary.md"
    with capacity_server(slots=8, service_s=0.009) as slow:  # every request 4 ms slower
        code, out, err = _run(
            slow.url, db, "--baseline", "shop", "--fail-on-regression",
            "--junit", str(junit), "--markdown", str(markdown),
        )  # fmt: skip
    assert code == 98, out + err
    assert "regressed" in out
    JUNIT_SCHEMA.validate(junit.read_text())
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    failed = [c.attrib["name"] for c in suite.iter("testcase") if c.find("failure") is not None]
    assert "p95 of all" in failed or any(name.startswith("p95 of") for name in failed)
    assert "❌" in markdown.read_text()
    second = _run_id(out)

    # Judged by hand: JSON with the improvement figures, and the same run against itself.
    compared = redline("compare", "shop", second, "--json", "--history", str(db))
    assert compared.returncode == 0, compared.stderr
    figures = json.loads(compared.stdout)["improvement"]
    assert set(figures) == {
        "response_time_improvement",
        "throughput_increase",
        "resource_reduction",
        "cost_savings",
    }
    assert figures["resource_reduction"] is None  # no server samples: no figure
    same = redline("compare", second, second, "--fail-on-regression", "--history", str(db))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "regressed" not in same.stdout

    # A run of another plan (here: the same file with another method) is refused by hand.
    exported = tmp_path / "other.json"
    export = redline(
        "export", second, "--format", "json", "-o", str(exported), "--history", str(db)
    )
    assert export.returncode == 0, export.stderr
    document = json.loads(exported.read_text())
    document["plan"]["requests"][0]["method"] = "POST"
    exported.write_text(json.dumps(document))
    refused = redline("compare", "shop", str(exported), "--history", str(db))
    assert refused.returncode == 2
    assert "cannot compare" in refused.stderr and "the plans differ" in refused.stderr
    assert (
        redline("compare", "shop", str(exported), "--force", "--history", str(db)).returncode == 0
    )

    # The gate's verdict is the stored run's.
    listed = redline("runs", "--history", str(db))
    assert "regressed" in listed.stdout

    # Over the stored runs: the trend and its sparkline.
    trend = redline("trend", "--name", "run", "--metric", "p95", "--history", str(db))
    assert trend.returncode == 0, trend.stderr
    assert "over 2 runs" in trend.stdout


def test_gate_mistakes_are_one_line(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    no_baseline = redline(
        "run", "http://127.0.0.1:9/", "--fail-on-regression", "--history", str(db), "--quiet"
    )
    assert no_baseline.returncode == 2  # refused before any load was sent
    assert "--fail-on-regression: needs --baseline NAME" in no_baseline.stderr
    typo = redline("run", "http://127.0.0.1:9/", "--baseline", "shpo", "--history", str(db))
    assert typo.returncode == 2
    assert "--baseline: 'shpo' is neither a baseline nor a stored run id" in typo.stderr
    unknown = redline("compare", "nope", "alsonope", "--history", str(db))
    assert unknown.returncode == 2
    assert len(unknown.stderr.strip().splitlines()) <= 2  # the error, and perhaps a hint
