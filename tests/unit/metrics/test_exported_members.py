"""redline.metrics exports exactly its public face."""

from __future__ import annotations

import redline.metrics


def test_all_lists_every_public_name_once() -> None:
    exported = redline.metrics.__all__
    assert len(exported) == len(set(exported))
    public = {
        name for name in vars(redline.metrics) if not name.startswith("_") and name != "annotations"
    }
    assert set(exported) == public


def test_every_export_is_documented() -> None:
    for name in redline.metrics.__all__:
        member = getattr(redline.metrics, name)
        if callable(member) and not isinstance(member, type(int | str)):
            assert member.__doc__, name
