"""Little's law: concurrency from throughput and response time, and the check it allows.

``L = λ·W``: the requests in a system equal their arrival rate times the time
each spends in it. For an open-model (arrival-rate) level it gives the
concurrency the load held: ``N = X·R``. For a closed-model level, every VU is
either waiting for a response or thinking, so ``VUs = X·(R + Z)`` must hold;
when it does not, the measurement is broken: the generator could not keep its
VUs busy (it was the bottleneck), or VUs sat idle.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LITTLE_TOLERANCE", "LittleCheck", "little_check", "little_concurrency"]

#: A closed-model level breaks Little's law when the VUs it implies differ from
#: the configured ones by more than this share.
LITTLE_TOLERANCE = 0.20


def little_concurrency(rps: float, mean_response_s: float) -> float:
    """``N = X·R``: the requests in flight on average at ``rps`` and ``mean_response_s``."""
    return rps * mean_response_s


@dataclass(frozen=True)
class LittleCheck:
    """One closed-model level against Little's law."""

    vus: float
    #: ``X·(R + Z)``: the VUs the measured throughput and times imply.
    implied_vus: float

    @property
    def deviation(self) -> float:
        """``implied / configured − 1``: negative when fewer VUs were busy than configured."""
        return self.implied_vus / self.vus - 1 if self.vus > 0 else 0.0

    @property
    def broken(self) -> bool:
        """Whether the level's measurement breaks the law (beyond :data:`LITTLE_TOLERANCE`)."""
        return abs(self.deviation) > LITTLE_TOLERANCE

    def explanation(self) -> str:
        """What the check says, in a sentence."""
        said = f"VUs {self.vus:g} vs X·(R+Z) = {self.implied_vus:.1f} ({self.deviation:+.0%})"
        if not self.broken:
            return f"{said}: consistent"
        if self.deviation < 0:
            return (
                f"{said}: broken measurement: fewer VUs were busy than configured "
                "(the generator was the bottleneck, or VUs sat idle)"
            )
        return f"{said}: broken measurement: more requests in flight than VUs (miscounted)"


def little_check(
    *, vus: float, rps: float, mean_response_s: float, think_s: float = 0.0
) -> LittleCheck:
    """Check a closed-model level: ``vus`` ≈ ``rps`` × (``mean_response_s`` + ``think_s``)."""
    return LittleCheck(vus=vus, implied_vus=rps * (mean_response_s + think_s))
