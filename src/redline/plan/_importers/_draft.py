"""What an importer produces: a plan in the making, before it is written as TOML.

Importers build :class:`PlanDraft` from a HAR file, an OpenAPI document or a curl
command; :func:`~redline.plan._importers.render_plan` writes it, adds the executor,
and checks that the result loads as a :class:`~redline.plan.Plan`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DraftRequest:
    """One request as imported; the fields mean what :class:`~redline.plan.RequestSpec`'s do.

    ``url`` is a path (joined to the plan's ``base_url``) or an absolute URL.
    ``extract`` maps a variable to the JSON path of the value it takes from the
    response (written ``extract = { id = { json = "$.id" } }``); ``comments`` are
    written as comment lines at the top of the request's table.
    """

    name: str
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    expect_status: list[int] | None = None
    extract: dict[str, str] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DraftStep:
    """One ``[[steps]]`` entry: the request it runs and the pause after it (0: none)."""

    request: str
    think_time_s: float = 0.0


@dataclass(frozen=True, slots=True)
class PlanDraft:
    """A plan read from another format, without its executor.

    Attributes:
        name: the plan's name (it titles the run's summary).
        origin: what it was imported from, for the file's first comment line,
            e.g. ``"the HAR file shop.har"``.
        base_url: joined to every request URL that is a path.
        requests: in the order of the source.
        steps: the order an iteration runs the requests in, with the pauses between
            them; empty: each iteration picks one request by weight (a mix).
        verify_tls: ``False`` when the source asked not to verify certificates (``curl -k``).
        notes: more comment lines for the top of the file: what was skipped, which
            hosts were seen, what the user may need to add.
    """

    name: str
    origin: str
    base_url: str | None
    requests: list[DraftRequest]
    steps: list[DraftStep] = field(default_factory=list)
    verify_tls: bool = True
    notes: list[str] = field(default_factory=list)
