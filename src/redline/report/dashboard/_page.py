"""The dashboard page: ``assets/`` (HTML, CSS, JS written for redline) inlined into one document.

The page loads nothing else: no CDN, no chart library (the charts are drawn on
canvas by ``dashboard.js``). Its Content-Security-Policy allows exactly the
inlined script and style (by hash) and requests to the dashboard itself.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
from importlib import resources

__all__ = ["Page"]

#: Where the page's assets live, inside this package.
ASSETS = "assets"
#: The placeholders ``page.html`` holds for the inlined assets.
STYLE_SLOT, SCRIPT_SLOT = "/*STYLE*/", "/*SCRIPT*/"


def _asset(name: str) -> str:
    return (resources.files(__package__) / ASSETS / name).read_text(encoding="utf-8")


def _hash_source(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


@dataclasses.dataclass(frozen=True)
class Page:
    """The page's HTML and the Content-Security-Policy to serve it with."""

    html: str
    content_security_policy: str

    @classmethod
    @functools.cache
    def load(cls) -> Page:
        """Inline the assets (once per process)."""
        style, script = _asset("dashboard.css"), _asset("dashboard.js")
        html = _asset("page.html").replace(STYLE_SLOT, style).replace(SCRIPT_SLOT, script)
        policy = "; ".join(
            (
                "default-src 'none'",
                f"script-src {_hash_source(script)}",
                f"style-src {_hash_source(style)}",
                "connect-src 'self'",
                "img-src 'self' data:",
                "base-uri 'none'",
                "form-action 'none'",
                "frame-ancestors 'none'",
            )
        )
        return cls(html, policy)
