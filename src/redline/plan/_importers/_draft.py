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
    """

    name: str
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    expect_status: list[int] | None = None


@dataclass(frozen=True, slots=True)
class PlanDraft:
    """A plan read from another format, without its executor.

    Attributes:
        name: the plan's name (it titles the run's summary).
        origin: what it was imported from, for the file's first comment line,
            e.g. ``"the HAR file shop.har"``.
        base_url: joined to every request URL that is a path.
        requests: in the order of the source.
        verify_tls: ``False`` when the source asked not to verify certificates (``curl -k``).
        notes: more comment lines for the top of the file: what was skipped, which
            hosts were seen, what the user may need to add.
    """

    name: str
    origin: str
    base_url: str | None
    requests: list[DraftRequest]
    verify_tls: bool = True
    notes: list[str] = field(default_factory=list)
