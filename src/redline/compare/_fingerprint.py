"""What makes two runs the same test: a fingerprint of the plan's requests and executor.

Two runs are comparable when they sent the same requests in the same way. The
fingerprint covers, per request: its name, method, path and query (not the
scheme, host or port, so the same plan against two deployments compares),
header *names* (values may be secrets, redacted as ``***`` in results files),
a digest of the body, the weight and the expected status; then the plan's
steps, its scenarios (their executor types, requests and steps) and the
executor's *type*. How hard the load was (VUs, rate, duration) is not part of
it: :func:`load_shape` describes that, and a comparison notes when it differs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from redline.plan import Plan

__all__ = ["load_shape", "plan_fingerprint"]

#: Hex digits kept of the SHA-256 digest: enough to tell plans apart, short to read.
FINGERPRINT_HEX_DIGITS: Final = 16
#: Executor fields that set how hard and how long the load is.
_LOAD_FIELDS: Final = (
    "vus",
    "rate",
    "max_vus",
    "duration",
    "iterations",
    "start_vus",
    "start_rate",
    "min",
    "max",
    "period",
    "shape",
)


def plan_fingerprint(plan: Plan | Mapping[str, Any]) -> str:
    """A short digest of what the plan sends and its executor type.

    Args:
        plan: a :class:`~redline.plan.Plan`, or its JSON form (a results
            file's ``plan`` object).

    Example::

        plan_fingerprint(results["plan"])  # "3f9c2a7be01d44c5"
    """
    data = _as_mapping(plan)
    scenarios = data.get("scenarios") or {}
    canonical = {
        "executor": _executor_type(data.get("executor")),
        "requests": [_request(r) for r in data.get("requests") or [] if isinstance(r, Mapping)],
        "steps": data.get("steps") or [],
        "scenario": _file_name(data.get("scenario")),
        "scenarios": {
            name: {
                "executor": _executor_type(s.get("executor")),
                "requests": s.get("requests") or [],
                "steps": s.get("steps") or [],
            }
            for name, s in sorted(scenarios.items())
            if isinstance(s, Mapping)
        },
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_HEX_DIGITS]


def load_shape(plan: Plan | Mapping[str, Any]) -> str:
    """How hard and how long the plan loads, in one line (``"constant-vus vus=8 duration=60"``).

    With scenarios, each scenario's shape, separated by ``; ``.
    """
    data = _as_mapping(plan)
    scenarios = data.get("scenarios") or {}
    if scenarios:
        return "; ".join(
            f"{name}: {_executor_shape(s.get('executor'))}"
            for name, s in sorted(scenarios.items())
            if isinstance(s, Mapping)
        )
    return _executor_shape(data.get("executor"))


def _as_mapping(plan: Plan | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(plan, Plan):
        dumped: dict[str, Any] = plan.model_dump(mode="json", by_alias=True)
        return dumped
    return plan


def _executor_type(executor: object) -> str | None:
    if isinstance(executor, Mapping):
        return str(executor.get("type"))
    return None


def _executor_shape(executor: object) -> str:
    if not isinstance(executor, Mapping):
        return "unknown"
    parts = [str(executor.get("type"))]
    parts += [f"{key}={executor[key]}" for key in _LOAD_FIELDS if executor.get(key) is not None]
    stages = executor.get("stages")
    if isinstance(stages, list):
        # Each stage as target/duration: enough to see that two ramps differ.
        steps = [
            f"{s.get('target')}/{s.get('duration')}s" for s in stages if isinstance(s, Mapping)
        ]
        parts.append(f"stages={','.join(steps)}")
    return " ".join(parts)


def _request(request: Mapping[str, Any]) -> dict[str, Any]:
    url = urlsplit(str(request.get("url", "")))
    headers = request.get("headers") or {}
    body = request.get("body")
    return {
        "name": request.get("name"),
        "method": str(request.get("method", "GET")).upper(),
        "target": url.path + (f"?{url.query}" if url.query else ""),
        "headers": sorted(str(name).lower() for name in headers),
        "body": None if body is None else hashlib.sha256(str(body).encode()).hexdigest(),
        "weight": request.get("weight"),
        "expect_status": request.get("expect_status"),
    }


def _file_name(path: object) -> str | None:
    if not isinstance(path, str):
        return None
    return path.replace("\\", "/").rsplit("/", 1)[-1]
