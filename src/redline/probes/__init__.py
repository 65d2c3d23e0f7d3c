"""Evidence collectors, one module per source.

Each probe reads its source when asked and returns plain figures; none starts
a thread or knows of another. :class:`redline.metrics.ResourceSampler` calls
them once a second during a run.

- :class:`HostProbe`: the machine's CPU, load, memory, context switches,
  network and TCP states, from ``/proc``.
- :class:`ProcessTreeProbe`: a process and its descendants (the server under
  test): CPU, RSS/USS, threads, file descriptors, I/O, TCP connections and its
  cgroup's throttling, from ``/proc`` and ``/sys/fs/cgroup``.
"""

from __future__ import annotations

from redline.probes._host import HostProbe
from redline.probes._process import ProcessTreeProbe, process_exists

__all__ = ["HostProbe", "ProcessTreeProbe", "process_exists"]
