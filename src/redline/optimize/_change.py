"""A Change: one thing redline may do to the system under test, with its way back.

Every fix redline can apply (an index, a setting, an edit to a file, a kernel
parameter, test data) is first described as a :class:`Change`: what it does,
the exact SQL or command that applies it, the one that undoes it, and how to
check that it took effect. The journal (a later part of ``redline.optimize``)
records a Change before it runs; this module only holds the type.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redline.errors import ConfigError

__all__ = ["Change", "ChangeKind"]

_FIELDS = ("kind", "summary", "apply", "undo", "verify", "target")


class ChangeKind(enum.Enum):
    """What sort of thing a :class:`Change` alters."""

    #: A database index, created and dropped with SQL.
    INDEX = "index"
    #: A server setting (``ALTER SYSTEM SET work_mem ...``, a config file entry).
    SETTING = "setting"
    #: An edit to a file of the service (code or configuration), as a patch.
    FILE_EDIT = "file_edit"
    #: An operating-system tunable (``sysctl net.core.somaxconn``).
    KERNEL_PARAMETER = "kernel_parameter"
    #: Rows or files generated for a test (seed data), removed by the undo.
    TEST_DATA = "test_data"


@dataclass(frozen=True, kw_only=True)
class Change:
    """One change to the system under test, with how to undo and verify it.

    Example::

        Change(
            kind=ChangeKind.INDEX,
            summary="index orders (customer_id)",
            apply='CREATE INDEX CONCURRENTLY "redline_orders_customer_id_idx" ...',
            undo='DROP INDEX CONCURRENTLY IF EXISTS "public"."redline_orders_customer_id_idx"',
            verify="SELECT indisvalid FROM pg_index WHERE ...",
            target="postgresql://app:***@127.0.0.1:5432/shop",
        )
    """

    kind: ChangeKind
    #: What it does, in one line for people.
    summary: str
    #: The SQL or command that makes the change.
    apply: str
    #: The SQL or command that reverses it.
    undo: str
    #: The SQL or command that shows the change took effect.
    verify: str
    #: Where it applies: a redacted DSN, a host, a file; never a secret.
    target: str

    def to_dict(self) -> dict[str, str]:
        """For the journal and ``--json``."""
        return {
            "kind": self.kind.value,
            "summary": self.summary,
            "apply": self.apply,
            "undo": self.undo,
            "verify": self.verify,
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        """Read what :meth:`to_dict` wrote.

        Raises:
            ConfigError: a field is missing or not a string, or the kind is unknown.
        """
        for name in _FIELDS:
            if not isinstance(data.get(name), str):
                raise ConfigError(
                    f"change.{name}: expected a string, got {data.get(name)!r}",
                    hint="a change needs kind, summary, apply, undo, verify and target",
                )
        kinds = {k.value: k for k in ChangeKind}
        if data["kind"] not in kinds:
            raise ConfigError(
                f"change.kind: expected one of {', '.join(kinds)}, got {data['kind']!r}"
            )
        return cls(
            kind=kinds[data["kind"]],
            summary=data["summary"],
            apply=data["apply"],
            undo=data["undo"],
            verify=data["verify"],
            target=data["target"],
        )
