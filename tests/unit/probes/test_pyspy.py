"""py-spy's flags and failures: what redline asks it and what a user reads when it cannot."""

from __future__ import annotations

import pytest

from redline.errors import ConfigError
from redline.probes import PySpyConfig
from redline.probes._profile_command import python_target
from redline.probes._pyspy import _failure


def test_default_flags_follow_subprocesses_by_function_with_full_paths() -> None:
    assert PySpyConfig().flags() == [
        "--rate", "100", "--full-filenames", "--subprocesses", "--function",
    ]  # fmt: skip
    chosen = PySpyConfig(rate_hz=250, native=True, idle=True, gil=True, subprocesses=False,
                         by_line=True).flags()  # fmt: skip
    assert chosen == ["--rate", "250", "--full-filenames", "--native", "--idle", "--gil"]


@pytest.mark.parametrize("rate", [0, 1001])
def test_a_rate_out_of_range_names_the_flag_and_the_range(rate: int) -> None:
    with pytest.raises(ConfigError, match=rf"--rate: {rate} samples a second .* 1\.\.1000"):
        PySpyConfig(rate_hz=rate).validate()


@pytest.mark.parametrize(
    ("stderr", "message", "hint"),
    [
        ("Error: Permission denied (os error 13)", "ptrace is not permitted", "SYS_PTRACE"),
        ("Error: Operation not permitted", "ptrace is not permitted", "redline profile --"),
        (
            "Error: Failed to find python version from target process",
            "--pid 42: process 42 is not a Python process",
            "perf",
        ),
        (
            "Error: No python processes found in process 42 or any of its subprocesses",
            "--pid 42: process 42 is not a Python process",
            "interpreter",
        ),
        ("Error: Failed to get process executable name", "--pid 42: no process 42", "ps -ef"),
    ],
)
def test_py_spy_failures_become_one_line_with_a_hint(stderr: str, message: str, hint: str) -> None:
    error = _failure(42, stderr + "\n\nStack backtrace:\n   0: anyhow::error\n")
    assert message in error.message
    assert error.hint is not None and hint in error.hint


def test_an_unknown_failure_keeps_py_spys_first_line() -> None:
    error = _failure(42, "\nError: something new\nmore\n")
    assert error.message == "py-spy could not profile process 42: Error: something new"


def test_python_target_strips_the_interpreter_and_its_options() -> None:
    assert python_target(["python3", "-u", "app.py", "--port", "1"]) == ["app.py", "--port", "1"]
    assert python_target(["/usr/bin/python", "-m", "pkg.srv"]) == ["-m", "pkg.srv"]
    with pytest.raises(ConfigError, match=r"--memory: 'node app\.js' is not a Python command"):
        python_target(["node", "app.js"], flag="--memory")
    with pytest.raises(ConfigError, match="names no program"):
        python_target(["python", "-u"])
