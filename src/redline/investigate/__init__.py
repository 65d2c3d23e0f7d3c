"""``redline investigate``: the whole loop, from a system's description to a proven fix.

It joins the other parts and belongs to none of them (docs/decisions.md):

- :func:`run_plan`: one measured run, with its sampler and watchers (shared with ``redline run``).
"""

from redline.investigate._assembly import profile_schedule, run_plan

__all__ = ["profile_schedule", "run_plan"]
