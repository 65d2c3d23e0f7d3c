"""``redline capacity``'s flags, and the command on a stored run without sockets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from redline.cli import app
from redline.cli._capacity import parse_growth, parse_peak, parse_sla
from redline.errors import ConfigError
from redline.store import RunStore


@pytest.mark.parametrize(
    ("text", "limit_us"),
    [("p95<300ms", 300_000.0), ("p95<=1s", 1_000_000.0), ("p95 < 50ms", 50_000.0)],
)
def test_sla_is_a_p95_limit(text: str, limit_us: float) -> None:
    assert parse_sla(text) == limit_us


@pytest.mark.parametrize("text", ["p99<300ms", "p95>300ms", "p95<300ms over 30s", "fast", ""])
def test_an_sla_that_is_not_a_p95_limit_is_refused_naming_the_flag_and_form(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^--sla: .* is not an SLA; allowed p95<DURATION"):
        parse_sla(text)


@pytest.mark.parametrize(("text", "share"), [("10%/month", 0.10), ("2.5%", 0.025), ("0%/mo", 0.0)])
def test_growth_is_a_percentage_a_month(text: str, share: float) -> None:
    assert parse_growth(text) == pytest.approx(share)


@pytest.mark.parametrize("text", ["10", "10%/year", "-5%/month", "ten"])
def test_a_malformed_growth_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^--growth: .* allowed PERCENT%/month"):
        parse_growth(text)


@pytest.mark.parametrize(("text", "rps"), [("1200/s", 1200.0), ("1200", 1200.0), ("0.5/s", 0.5)])
def test_peak_is_a_rate(text: str, rps: float) -> None:
    assert parse_peak(text) == rps


@pytest.mark.parametrize("text", ["0/s", "-3/s", "1200/m", "lots"])
def test_a_malformed_peak_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^--peak: .* allowed a rate above 0 as N/s"):
        parse_peak(text)


def stored(db: Path, levels: list[int]) -> str:
    phases = [
        {"name": f"step {i}", "kind": "hold", "start_s": 10.0 * i, "end_s": 10.0 * i + 10,
         "level": float(n), "unit": "VUs", "warmup_s": 0.0, "requests": [], "count": 100 * n,
         "rps": 100.0 * n / (1 + 0.1 * (n - 1)), "error_rate": 0.0, "p50_us": 9_000,
         "p95_us": 10_000 * n, "p99_us": 10_000 * n, "covered_end_s": 10.0 * i + 10}
        for i, n in enumerate(levels)
    ]  # fmt: skip
    document: dict[str, Any] = {
        "run": {"id": "20260101-000000-abcdef", "name": "t", "elapsed_s": 60.0,
                "started_at": "2026-01-01T00:00:00+00:00", "status": "completed",
                "partial": False},
        "plan": {"base_url": "http://127.0.0.1:1"},
        "summary": {"total": {"rps": 1.0, "error_rate": 0.0, "response": {"p95": 1}}},
        "analysis": {"phases": phases},
        "series": {"intervals": [
            {"endpoint": "/", "second": 10 * i + 5,
             "response": {"count": 10, "mean": 10_000.0 * (1 + 0.1 * (n - 1))}}
            for i, n in enumerate(levels)
        ]},
    }  # fmt: skip
    with RunStore.open(db) as store:
        return store.save_document(document)


def test_fewer_than_six_levels_print_the_table_and_say_the_fit_needs_six(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    run_id = stored(db, [1, 2, 4, 8])
    result = CliRunner().invoke(app, ["capacity", run_id[:10], "--history", str(db)])
    assert result.exit_code == 0, result.output
    assert "load points" in result.output
    assert "USL fit: needs 6 load points, this run has 4" in result.output


def test_six_levels_print_the_fit_and_the_sla_answers(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    run_id = stored(db, [1, 2, 4, 8, 16, 32])
    result = CliRunner().invoke(
        app, ["capacity", run_id, "--history", str(db), "--sla", "p95<100ms",
              "--peak", "100/s", "--growth", "10%/month"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "USL fit (6 points): σ = 0.1000" in result.output
    assert "highest throughput with p95 ≤ 100.00 ms" in result.output
    assert "USL fit: " in result.output.split("p95 ≤ 100.00 ms")[1]
    assert "forecast: the SLA breaks in month" in result.output
