"""Plan files in YAML: the same keys as a TOML plan, for teams whose configs are YAML.

name: checkout
base_url: http://127.0.0.1:8080
executor: {type: constant-vus, vus: 10, duration: 30s}
requests:
  - {name: home, url: /}
"""

from __future__ import annotations

from pathlib import Path

import yaml

from redline.errors import ConfigError
from redline.plan._plan import Plan
from redline.plan._toml import plan_from_file_data, read_plan_text

__all__ = ["load_yaml_plan"]


def load_yaml_plan(path: Path) -> Plan:
    """Read and validate a YAML plan file (``.yaml`` or ``.yml``).

    Raises:
        ConfigError: the file cannot be read, is not YAML (``"plan.yaml:3:7: invalid
            YAML: ..."``), is not a mapping, or describes an invalid plan.
    """
    text = read_plan_text(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(_syntax_error(path, exc)) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level is {type(data).__name__}; allowed a mapping of plan keys "
            "(name, base_url, requests, executor, ...)"
        )
    return plan_from_file_data(data, path)


def _syntax_error(path: Path, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is None:
        return f"{path}: invalid YAML: {problem}"
    return f"{path}:{mark.line + 1}:{mark.column + 1}: invalid YAML: {problem}"
