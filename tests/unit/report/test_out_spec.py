"""``--out`` parsing: the results file, the typed forms, and a one-line error for each bad one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.report.outputs import (
    OTEL_INSTALL_HINT,
    OutputConfig,
    OutputKind,
    Outputs,
    build_output,
    parse_outputs,
)

ALLOWED = r"allowed PATH \(the results file\), json=FILE, csv=FILE, otlp=URL \(http or https\)"


def test_nothing_asked_gives_nothing() -> None:
    assert parse_outputs([]) == Outputs(results=None, streams=())


def test_a_bare_path_is_the_results_file_as_before(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    assert parse_outputs([str(path)]) == Outputs(results=path, streams=())


def test_a_path_with_an_equals_sign_that_is_not_a_word_is_a_path(tmp_path: Path) -> None:
    path = tmp_path / "a=b.json"
    assert parse_outputs([str(path)]).results == path


def test_typed_forms_are_kept_in_order_beside_the_results_file(tmp_path: Path) -> None:
    parsed = parse_outputs(
        [
            f"json={tmp_path / 'run.ndjson'}",
            str(tmp_path / "r.json"),
            f"csv={tmp_path / 'run.csv'}",
            "otlp=http://127.0.0.1:4318/v1/metrics",
        ]
    )
    assert parsed.results == tmp_path / "r.json"
    assert parsed.streams == (
        OutputConfig(OutputKind.JSON, str(tmp_path / "run.ndjson")),
        OutputConfig(OutputKind.CSV, str(tmp_path / "run.csv")),
        OutputConfig(OutputKind.OTLP, "http://127.0.0.1:4318/v1/metrics"),
    )
    assert parsed.streams[0].label == f"json={tmp_path / 'run.ndjson'}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/metrics"),
        ("http://localhost:4318/", "http://localhost:4318/v1/metrics"),
        ("https://[::1]:4318/custom/path", "https://[::1]:4318/custom/path"),
    ],
)
def test_an_otlp_url_without_a_path_gets_the_metrics_path(url: str, expected: str) -> None:
    assert parse_outputs([f"otlp={url}"]).streams[0].target == expected


def test_a_collector_elsewhere_is_allowed_when_the_plan_allows_its_host() -> None:
    parsed = parse_outputs(
        ["otlp=http://Collector.staging.internal:4318/v1/metrics"],
        allowed_hosts=["collector.staging.internal"],
    )
    assert parsed.streams[0].kind is OutputKind.OTLP


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("xml=a.xml", r"--out: 'xml=a.xml' has an unknown kind 'xml'; " + ALLOWED),
        ("json=", r"--out: 'json=' has no file; " + ALLOWED),
        ("csv=  ", r"--out: 'csv=  ' has no file; " + ALLOWED),
        ("otlp=", r"--out: 'otlp=' has no URL; " + ALLOWED),
        ("otlp=grpc://127.0.0.1:4317", r"'otlp=grpc://127.0.0.1:4317' is not an http\(s\) URL"),
        ("otlp=127.0.0.1:4318", r"'otlp=127.0.0.1:4318' is not an http\(s\) URL; " + ALLOWED),
        ("otlp=http:///v1/metrics", r"is not an http\(s\) URL"),
        ("otlp=http://127.0.0.1:99999/", r"--out: 'otlp=http://127.0.0.1:99999/' has a bad port"),
        (
            "otlp=http://collector:4318/v1/metrics",
            r"--out: 'otlp=http://collector:4318/v1/metrics': the collector's host 'collector' "
            r"is neither loopback \(127.0.0.0/8, ::1, localhost\) nor in the plan's "
            r"allowed_hosts \[\]; " + ALLOWED,
        ),
        ("json=/no/such/folder/run.ndjson", r"the folder '/no/such/folder' does not exist"),
        ("/no/such/folder/r.json", r"--out: '/no/such/folder/r.json': the folder"),
    ],
)
def test_each_bad_form_is_one_line_naming_out_and_the_value(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_outputs([value])
    assert "\n" not in str(caught.value)


def test_two_results_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--out: '.*b.json' is a second results file"):
        parse_outputs([str(tmp_path / "a.json"), str(tmp_path / "b.json")])


def test_two_outputs_to_one_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"writes to the same file as"):
        parse_outputs([f"json={tmp_path / 'x'}", f"csv={tmp_path / 'x'}"])
    with pytest.raises(ConfigError, match=r"writes to the same file as"):
        parse_outputs([str(tmp_path / "r.json"), f"json={tmp_path / 'r.json'}"])


def test_a_collector_out_of_scope_names_the_allowed_hosts() -> None:
    with pytest.raises(ConfigError, match=r"allowed_hosts \['api.staging'\]") as caught:
        parse_outputs(["otlp=http://10.0.0.9:4318"], allowed_hosts=["api.staging"])
    assert caught.value.hint is not None and "allowed_hosts" in caught.value.hint


def test_otlp_without_the_sdk_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import system report the module as missing.
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.metrics", None)
    with pytest.raises(ConfigError, match=r"needs the OpenTelemetry SDK") as caught:
        parse_outputs(["otlp=http://127.0.0.1:4318"])
    assert caught.value.hint == OTEL_INSTALL_HINT == "pip install 'redline[otel]'"


def test_json_and_csv_never_import_the_sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.metrics", None)
    parsed = parse_outputs([f"json={tmp_path / 'a'}", f"csv={tmp_path / 'b'}"])
    outputs = [build_output(config) for config in parsed.streams]
    assert [output.label for output, _ in outputs] == [
        f"json={tmp_path / 'a'}",
        f"csv={tmp_path / 'b'}",
    ]


def test_redline_starts_without_importing_opentelemetry() -> None:
    code = (
        "import sys, redline.cli, redline.report.outputs; "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
