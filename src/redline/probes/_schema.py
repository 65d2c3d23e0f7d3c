"""The version check every report a probe writes (as JSON) shares when it is read back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["readable_version"]


def readable_version(data: Mapping[str, Any], newest: int) -> int:
    """The document's ``schema_version`` (``newest`` when it has none).

    Raises:
        ValueError: the document is of a newer version than this redline reads.
    """
    version = int(data.get("schema_version", newest))
    if version > newest:
        raise ValueError(f"schema_version {version} is newer than this redline reads ({newest})")
    return version
