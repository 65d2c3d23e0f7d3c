"""redline.report.outputs exports exactly its public face, each part documented."""

from __future__ import annotations

import types

import redline.report.outputs as outputs


def test_all_lists_every_public_name_once() -> None:
    exported = outputs.__all__
    assert len(exported) == len(set(exported))
    public = {
        name
        for name, member in vars(outputs).items()
        if not name.startswith("_")
        and name != "annotations"
        and not isinstance(member, types.ModuleType)
        and name not in {"Path", "Sequence"}
    }
    assert set(exported) == public


def test_every_export_is_documented() -> None:
    for name in outputs.__all__:
        member = getattr(outputs, name)
        if callable(member):
            assert member.__doc__, name
