"""Findings from a cache's analysis (``redline cache analyze``), whichever the server.

The rules of each server live beside this: :mod:`._redis_rules` and
:mod:`._memcached_rules`; findings are ranked like a run's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redline.diagnose._finding import Finding, ranked
from redline.diagnose._memcached_rules import memcached_findings
from redline.diagnose._redis_rules import redis_findings
from redline.probes._memcached import MemcachedAnalysis
from redline.probes._redis import RedisAnalysis

__all__ = ["cache_findings"]


def cache_findings(analysis: RedisAnalysis | MemcachedAnalysis) -> list[Finding]:
    """Every finding of the analysis, worst first."""
    return ranked(CACHE_FINDERS[type(analysis)](analysis))


#: The findings of each kind of analysis.
CACHE_FINDERS: dict[type, Callable[[Any], list[Finding]]] = {
    RedisAnalysis: redis_findings,
    MemcachedAnalysis: memcached_findings,
}
