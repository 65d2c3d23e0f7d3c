"""Python scenario files: a module with a ``scenario = Scenario(...)``."""

from __future__ import annotations

from pathlib import Path

from redline.errors import ConfigError
from redline.plan._data import anchor_data_files
from redline.plan._plan import Plan
from redline.plan._user_code import UserCodeError, import_python_file
from redline.plan._validation import plan_from_mapping
from redline.scenario import Iteration, Scenario, users_iteration

__all__ = ["load_python_scenario", "scenario_iteration"]

#: The module-level name a scenario file must bind its Scenario to.
SCENARIO_NAME = "scenario"


def _import(path: Path) -> Scenario:
    try:
        module = import_python_file(path, prefix="redline_scenario_")
    except UserCodeError as exc:
        if exc.raised is not None:
            raise ConfigError(
                f"{path}: importing it raised {exc.raised}",
                hint="run it with python to see the traceback",
            ) from None
        if not path.is_file():
            raise ConfigError(
                f"{path}: cannot read: no such file", hint="check the scenario's path"
            ) from None
        raise ConfigError(f"{path}: cannot import it as Python") from None
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
