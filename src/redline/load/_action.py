"""A named request as a virtual user runs it: the prepared bytes, where they
go, the checks on the answer and the recorder that counts the outcome."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from redline.load._http import Endpoint, PreparedRequest
from redline.metrics import EndpointRecorder
from redline.plan import Plan, RequestSpec

__all__ = ["Action", "ActionPicker", "build_actions"]

#: Outcome recorded when the status is not one the plan expects.
CHECK_FAILED = "check_failed"
#: Outcome recorded when an ``extract`` pattern finds nothing in the body.
EXTRACT_FAILED = "extract_failed"


@dataclass(slots=True)
class Action:
    """One named request, ready for the hot path."""

    request: PreparedRequest
    endpoint: Endpoint
    recorder: EndpointRecorder
    expect_status: frozenset[int] | None
    extract: tuple[tuple[str, re.Pattern[bytes]], ...]
    bytes_out: int
    #: A small number naming ``endpoint`` within the plan (for fast lookups).
    slot: int
    #: True when there is nothing to judge but the status (no checks, no extraction).
    plain: bool = False

    def __post_init__(self) -> None:
        self.plain = self.expect_status is None and not self.extract

    def judge(self, status: int, body: bytes | None, into: dict[str, bytes]) -> int | str | None:
        """Return the failure outcome for a response, or None when it passed.

        Extracted values are stored in ``into`` (the virtual user's variables).
        """
        if self.expect_status is not None:
            if status not in self.expect_status:
                return CHECK_FAILED
        elif status >= 400:
            return status
        for name, pattern in self.extract:
            match = pattern.search(body or b"")
            if match is None:
                return EXTRACT_FAILED
            into[name] = match.group(1)
        return None


def build_actions(plan: Plan, *, keep_bodies: bool = False) -> list[Action]:
    """Prepare every request of ``plan`` once, before the load starts.

    Args:
        plan: the validated plan.
        keep_bodies: keep every response body (a Python scenario may read any).
    """
    endpoints: dict[str, Endpoint] = {}
    actions = []
    for spec in plan.requests:
        url = spec.url  # absolute once the plan is validated
        key = "/".join(url.split("/", 3)[:3])
        if key not in endpoints:
            endpoints[key] = Endpoint.from_url(url, verify_tls=plan.verify_tls)
        slot = list(endpoints).index(key)
        actions.append(_build_action(spec, url, endpoints[key], slot, keep_bodies))
    return actions


def _build_action(
    spec: RequestSpec, url: str, endpoint: Endpoint, slot: int, keep_body: bool
) -> Action:
    body = spec.body.encode() if spec.body is not None else None
    request = PreparedRequest.build(
        name=spec.name,
        method=spec.method,
        url=url,
        headers=spec.headers,
        body=body,
        endpoint=endpoint,
        keep_body=keep_body or bool(spec.extract),
    )
    return Action(
        request=request,
        endpoint=endpoint,
        recorder=EndpointRecorder(spec.name),
        expect_status=frozenset(spec.expect_status) if spec.expect_status else None,
        extract=tuple((name, re.compile(rx.encode())) for name, rx in spec.extract.items()),
        bytes_out=len(request.wire),
        slot=slot,
    )


class ActionPicker:
    """Chooses the next action by weight: a table lookup, cheap enough per request."""

    __slots__ = ("_table", "_single", "_random")

    def __init__(self, actions: Sequence[Action], weights: Sequence[int], *, seed: int) -> None:
        self._table = [a for a, w in zip(actions, weights, strict=True) for _ in range(w)]
        self._single = actions[0] if len(actions) == 1 else None
        self._random = random.Random(seed)

    @property
    def only(self) -> Action | None:
        """The one action when the plan has a single request, else None."""
        return self._single

    def pick(self) -> Action:
        """The action for the next iteration."""
        if self._single is not None:
            return self._single
        return self._table[int(self._random.random() * len(self._table))]
