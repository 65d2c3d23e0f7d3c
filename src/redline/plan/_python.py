"""Python scenario files: a module with a ``scenario = Scenario(...)``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from redline.errors import ConfigError
from redline.plan._data import anchor_data_files
from redline.plan._plan import Plan
from redline.plan._validation import plan_from_mapping
from redline.scenario import Iteration, Scenario, users_iteration

__all__ = ["load_python_scenario", "scenario_iteration"]

#: The module-level name a scenario file must bind its Scenario to.
SCENARIO_NAME = "scenario"


def _import(path: Path) -> Scenario:
    if not path.is_file():
        raise ConfigError(f"{path}: cannot read: no such file", hint="check the scenario's path")
    module_name = f"redline_scenario_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path}: cannot import it as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's module failed to import: say where, in one line
        raise ConfigError(
            f"{path}: importing it raised {type(exc).__name__}: {exc}",
            hint="run it with python to see the traceback",
        ) from exc
    scenario = getattr(module, SCENARIO_NAME, None)
    if not isinstance(scenario, Scenario):
        raise ConfigError(
            f"{path}: {SCENARIO_NAME!r} is {type(scenario).__name__}; "
            "allowed a redline.scenario.Scenario bound to the name 'scenario'"
        )
    if scenario.iteration_function is not None and scenario.users:
        raise ConfigError(
            f"{path}: the scenario has both an iteration function and user types; choose one"
        )
    if scenario.iteration_function is None and not scenario.users:
        raise ConfigError(
            f"{path}: the scenario has no iteration function and no user types; "
            "decorate an async function with @scenario.iteration, or a User class with "
            "@scenario.user(weight=...)"
        )
    return scenario


def load_python_scenario(path: Path) -> Plan:
    """Import a Python scenario file and validate its plan.

    Raises:
        ConfigError: the file cannot be imported, has no ``scenario``, or its
            plan keys are invalid (one line, as for TOML plans).
    """
    scenario = _import(path)
    # Test-data files are named relative to the scenario file, as for a TOML plan.
    data = anchor_data_files({**scenario.plan, "scenario": str(path.resolve())}, path.parent)
    return plan_from_mapping(data, source=str(path))


def scenario_iteration(plan: Plan) -> Iteration | None:
    """The iteration function of ``plan``'s Python scenario, or None for a plain plan."""
    if plan.scenario is None:
        return None
    scenario = _import(Path(plan.scenario))
    if scenario.users:
        return users_iteration(scenario.users)
    return scenario.iteration_function
