"""Where the live dashboard listens and what every request must carry."""

from __future__ import annotations

import dataclasses
import ipaddress
import secrets

from redline.errors import ConfigError
from redline.plan import check_port, is_loopback  # one loopback rule, the targets' own

__all__ = [
    "AUTO_TOKEN",
    "DEFAULT_HOST",
    "MIN_TOKEN_CHARS",
    "DashboardConfig",
    "is_loopback",
]

#: Where the dashboard listens unless ``--dashboard-host`` says otherwise.
DEFAULT_HOST = "127.0.0.1"
#: ``--dashboard-token auto``: generate a token (and print it).
AUTO_TOKEN = "auto"
#: Shortest token accepted: a guessable token protects nothing.
MIN_TOKEN_CHARS = 16
#: Bytes of randomness in a generated token (``secrets.token_urlsafe``).
GENERATED_TOKEN_BYTES = 24


@dataclasses.dataclass(frozen=True)
class DashboardConfig:
    """The dashboard's address and access token (``redline run --dashboard-*``).

    Binding to anything but loopback takes both an explicit ``host`` and a
    ``token``: the dashboard can stop the run, and ``/metrics`` shows the
    plan's endpoint names, so nobody else on the network gets either without it.

    Example::

        config = DashboardConfig(port=8089).with_token()
        problems = config.validate()  # [] when it can be served
    """

    #: The address to listen on: an IP address or ``localhost``.
    host: str = DEFAULT_HOST
    #: The port; 0 picks a free one.
    port: int = 0
    #: A token every request must carry; :data:`AUTO_TOKEN` to generate one; None for none.
    token: str | None = None

    @property
    def loopback(self) -> bool:
        """Whether only this machine can reach the dashboard."""
        return is_loopback(self.host)

    def validate(self) -> list[ConfigError]:
        """Every problem with these settings (the token itself is never repeated)."""
        problems = []
        if self.port != 0:  # 0: a free one
            try:
                check_port(self.port, field="--dashboard-port")
            except ConfigError as exc:
                problems.append(ConfigError(exc.message, hint="leave it out to use a free port"))
        if not self.loopback and not _is_address(self.host):
            problems.append(
                ConfigError(
                    f"--dashboard-host: must be an IP address or localhost, got {self.host!r}"
                )
            )
        elif not self.loopback and self.token is None:
            problems.append(
                ConfigError(
                    f"--dashboard-host: {self.host!r} is not loopback, so the dashboard "
                    "needs --dashboard-token TOKEN (or --dashboard-token auto)",
                    hint="anyone who reaches the address could stop the run without one",
                )
            )
        token = self.token
        if token is not None and token != AUTO_TOKEN and len(token) < MIN_TOKEN_CHARS:
            problems.append(
                ConfigError(
                    f"--dashboard-token: must be at least {MIN_TOKEN_CHARS} characters, "
                    f"got {len(token)}",
                    hint="use --dashboard-token auto to have one generated",
                )
            )
        return problems

    def with_token(self) -> DashboardConfig:
        """These settings with :data:`AUTO_TOKEN` replaced by a freshly generated token."""
        if self.token != AUTO_TOKEN:
            return self
        return dataclasses.replace(self, token=secrets.token_urlsafe(GENERATED_TOKEN_BYTES))


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
