"""Plan files: TOML in, a validated :class:`Plan` out, or one line saying what is wrong."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from redline.errors import ConfigError
from redline.plan._data import anchor_data_files
from redline.plan._plan import Plan
from redline.plan._validation import plan_from_mapping

#: Where tomllib says an error is; Python 3.11 puts it only in the message.
_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _syntax_error(path: Path, exc: tomllib.TOMLDecodeError) -> ConfigError:
    reason = str(exc)
    position = _POSITION.search(reason)
    if position is None:
        return ConfigError(f"{path}: invalid TOML: {reason}")
    line, column = position.groups()
    return ConfigError(
        f"{path}:{line}:{column}: invalid TOML: {reason[: position.start()]}",
        hint='a common cause is text without quotes: write duration = "30s", not duration = 30s',
    )


def load_plan(path: Path) -> Plan:
    """Read and validate a TOML plan file.

    Args:
        path: the plan file.

    Returns:
        The validated plan. Scope is not checked: call :meth:`Plan.validate_scope`.

    Raises:
        ConfigError: the file cannot be read (``"plan.toml: cannot read: ..."``), is not
            TOML (``"plan.toml:3:7: invalid TOML: ..."``), or describes an invalid plan
            (``"plan.toml: executor.vus: 0 is out of range; allowed 1..50000"``).

    Example::

        plan = load_plan(Path("checkout.toml"))
        plan.validate_scope()
    """
    text = read_plan_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(path, exc) from None
    return plan_from_file_data(data, path)


def read_plan_text(path: Path) -> str:
    """A plan file's text; a ConfigError names the file when it cannot be read as UTF-8."""
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read: {exc.strerror or exc}", hint="check the plan file's path"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def plan_from_file_data(data: Mapping[str, Any], path: Path) -> Plan:
    """Validate a plan file's parsed data; its test-data files are relative to it."""
    return plan_from_mapping(anchor_data_files(data, path.parent), source=str(path))
