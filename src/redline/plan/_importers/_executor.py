"""The executor an imported plan starts with, from the import command's flags.

Without flags it is the plan's own default, ``constant-vus`` with 1 VU for 10 s;
``--vus`` and ``--duration`` change it, and ``--iterations`` makes it
``shared-iterations`` (``--duration`` is then the most it may take), as for ``redline run``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from redline.plan._executors import ConstantVusConfig, SharedIterationsConfig
from redline.plan._plan import DEFAULT_DURATION_S, DEFAULT_VUS
from redline.plan._units import format_duration
from redline.plan._validation import config_errors, first_error

#: The flag each executor key comes from, for messages.
_FLAG_FOR_KEY = {
    "vus": "--vus",
    "duration": "--duration",
    "max_duration": "--duration",
    "iterations": "--iterations",
}


def _flag_for(key: str) -> str:
    return _FLAG_FOR_KEY.get(key, key)


def executor_table(
    *, vus: int | None = None, duration: str | None = None, iterations: int | None = None
) -> dict[str, Any]:
    """The ``[executor]`` table to write, checked now so a bad flag never reaches the file.

    Raises:
        ConfigError: naming the flag, e.g. ``"--duration: '5s' is out of range; allowed 10s..24h"``.

    Example::

        executor_table(vus=4, iterations=100)
        # {"type": "shared-iterations", "vus": 4, "iterations": 100}
    """
    users = DEFAULT_VUS if vus is None else vus
    try:
        if iterations is not None:
            shared: dict[str, Any] = {"vus": users, "iterations": iterations}
            if duration is not None:
                shared["max_duration"] = duration
            config = SharedIterationsConfig.model_validate(shared)
            table: dict[str, Any] = {"type": config.type, "vus": config.vus}
            table["iterations"] = config.iterations
            if duration is not None:
                table["max_duration"] = format_duration(config.max_duration_s)
            return table
        constant = ConstantVusConfig.model_validate(
            {"vus": users, "duration": DEFAULT_DURATION_S if duration is None else duration}
        )
    except ValidationError as exc:
        raise first_error(config_errors(exc, rename=_flag_for)) from None
    return {
        "type": constant.type,
        "vus": constant.vus,
        "duration": format_duration(constant.duration_s),
    }
