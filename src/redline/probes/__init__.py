"""Evidence collectors, one module per source.

Each probe reads its source when asked and returns plain figures; none starts
a thread or knows of another. :class:`redline.metrics.ResourceSampler` calls
them once a second during a run.

- :class:`HostProbe`: the machine's CPU, load, memory, context switches,
  network and TCP states, from ``/proc``.
- :class:`ProcessTreeProbe`: a process and its descendants (the server under
  test): CPU (with the busiest process and thread), RSS/USS, threads, file
  descriptors, I/O, TCP connections, usable cores and its cgroup's throttling,
  from ``/proc``, netlink ``sock_diag`` and ``/sys/fs/cgroup``.
- :func:`host_info`: the machine's fixed figures (cores, memory, ephemeral
  ports, ``somaxconn``, our open-files limit), once per run.
"""

from __future__ import annotations

from redline.probes._host import HostProbe, host_info
from redline.probes._pid import process_exists
from redline.probes._process import ProcessTreeProbe

__all__ = ["HostProbe", "ProcessTreeProbe", "host_info", "process_exists"]
