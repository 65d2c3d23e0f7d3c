"""Plans from mappings: every pydantic error becomes a one-line :class:`ConfigError`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from redline.errors import ConfigError
from redline.plan._executors import EXECUTOR_CONFIGS
from redline.plan._plan import Plan
from redline.plan._problem import InputError, Problem, join_path, short

#: Messages for pydantic's own error types, after the path. ``{input}`` is the bad value.
_PYDANTIC_DETAIL = {
    "missing": "missing; this key is required",
    "extra_forbidden": "unknown key",
    "model_type": "{input} is not a table",
    "model_attributes_type": "{input} is not a table",
    "dict_type": "{input} is not a table",
    "list_type": "{input} is not a list",
    "string_type": "{input} is not a string",
    "bool_type": "{input} is not true or false",
}


def _location(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # pydantic puts the chosen executor type in the location of a discriminated
    # union, ("executor", "constant-vus", "vus"); the user never wrote it as a key.
    kept: list[int | str] = []
    for part in loc:
        if not (kept and kept[-1] == "executor" and part in EXECUTOR_CONFIGS):
            kept.append(part)
    return tuple(kept)


def _one_line(error: ErrorDetails, rename: Callable[[str], str]) -> InputError:
    loc = _location(error["loc"])
    context = error.get("ctx", {})
    cause = context.get("error")
    if isinstance(cause, Problem):
        where = rename(join_path("", loc + cause.at)) or "plan"
        return cause.error(f"{where}: {cause.detail}", hint=cause.hint)
    if error["type"] in ("union_tag_not_found", "union_tag_invalid"):
        tag = context.get("tag")
        what = "missing" if tag is None else f"{tag!r} is not an executor type"
        where = rename(join_path("", (*loc, "type")))
        return ConfigError(f"{where}: {what}; allowed {', '.join(EXECUTOR_CONFIGS)}")
    where = rename(join_path("", loc)) or "plan"
    template = _PYDANTIC_DETAIL.get(error["type"])
    if template is None:
        reason = error["msg"][:1].lower() + error["msg"][1:]
        return ConfigError(f"{where}: {short(error['input'])} is invalid; {reason}")
    return ConfigError(f"{where}: {template.format(input=short(error['input']))}")


def _as_written(path: str) -> str:
    return path


def config_errors(
    exc: ValidationError, *, rename: Callable[[str], str] = _as_written
) -> list[InputError]:
    """Turn every error pydantic found into a one-line :class:`ConfigError` (or a
    :class:`~redline.errors.ScopeError`, for production).

    Args:
        exc: what ``Plan.model_validate`` raised.
        rename: maps a TOML key path (``executor.duration``) to the name the user
            typed the value under, such as a CLI flag; the identity by default.
    """
    return [_one_line(error, rename) for error in exc.errors()]


def first_error(problems: list[InputError], *, source: str | None = None) -> InputError:
    """One error to raise for many: the first, of its own kind, saying how many more there
    are."""
    first = problems[0]
    more = len(problems) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    prefix = f"{source}: " if source else ""
    return type(first)(f"{prefix}{first.message}{suffix}", hint=first.hint)


def validate(data: Mapping[str, Any]) -> list[InputError]:
    """Every problem in a plan's raw data (as read from TOML), mutating nothing.

    An empty list means ``plan_from_mapping(data)`` will succeed. Problems inside a
    table that has an unknown key, or that depend on other keys being valid (such
    as unique request names), appear once the simpler problems are fixed.

    Example::

        for problem in validate(tomllib.loads(text)):
            ...  # "executor.vus: 0 is out of range; allowed 1..50000"
    """
    try:
        Plan.model_validate(dict(data))
    except ValidationError as exc:
        return config_errors(exc)
    return []


def plan_from_mapping(data: Mapping[str, Any], *, source: str | None = None) -> Plan:
    """Build a :class:`Plan` from raw data (as read from TOML).

    Args:
        data: the plan's keys and values.
        source: where the data came from (a file name), put in front of the error.

    Raises:
        ConfigError: the first problem, one line, with how many more there are.
        ScopeError: the first problem is ``environment`` naming production.
    """
    try:
        return Plan.model_validate(dict(data))
    except ValidationError as exc:
        raise first_error(config_errors(exc), source=source) from None
