"""The commented ``redline.toml`` that ``redline init`` writes; it loads with
:func:`~redline.plan.load_context` as it is (a test checks)."""

from __future__ import annotations

__all__ = ["EXAMPLE_CONTEXT"]

#: Every key of ``redline.toml``, each with what it is and its range.
EXAMPLE_CONTEXT = """\
# redline.toml: the system under study, for redline investigate, context and demo.
# Every key is described in docs/context.md. Top-level keys come before the [sections].

# Where the service runs: local, dev or staging. Production is refused.
environment = "local"

# The service's databases, as connection strings: postgresql://user[:password]@host[:port]/db,
# mysql://user[:password]@host[:port]/db or sqlite:///path/to/file.db. Loopback, or a host
# in target.allowed_hosts. Passwords are never printed.
databases = []
# e.g. databases = ["postgresql://shop@127.0.0.1:5432/shop"]

# Its caches: redis://[user[:password]@]host[:port][/number] or memcached://host[:port].
caches = []
# e.g. caches = ["redis://127.0.0.1:6379/0"]

[target]
# The URLs to load (absolute http(s); each becomes a request named after its path).
# Instead of urls, plan = "plan.toml" names a plan file (relative to this file), and then
# [target] holds nothing else.
urls = ["http://127.0.0.1:8080/"]
# The plan's name in the run history.
name = "my-service"
# Hosts besides loopback that may be loaded (only hosts you own), e.g. ["api.staging.internal"].
allowed_hosts = []
# The load, as in a plan file: constant-vus (vus 1..50000, duration 10s..24h),
# constant-arrival-rate (rate 0.1/s..100000/s), ramping-vus, ... (see docs/load-shapes.md).
executor = { type = "constant-vus", vus = 10, duration = "30s" }
# Also allowed, as in a plan file: test, think_time, pacing, workers, connect_timeout,
# request_timeout, verify_tls, cookies.

[sla]
# Latency limits (a number with us, ms or s; above 0): p50, p90, p95, p99, max.
p95 = "300ms"
p99 = "1s"
# The largest share of failed requests: 0%..100%, or a fraction 0..1.
error_rate = "1%"
# The least throughput, requests per second: 0.1..100000.
min_rps = 50

[server]
# The server's process: pid = 4242 (1..4194304) for a running one, or a command that redline
# starts and stops. One of the two; leave the section out if redline should not watch it.
command = "python -m http.server 8080 --bind 127.0.0.1"

[capacity]
# The peak load the service must carry, requests per second: 0.1..100000.
expected_peak_rps = 200
# How fast that peak grows a month: 0%..1000%, or a fraction 0..10.
growth_per_month = "10%"
"""
