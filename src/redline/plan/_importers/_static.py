"""Static assets in a recording: images, stylesheets, scripts and fonts.

A browser's HAR holds every file a page loaded; a load test of the service usually
wants its API and pages, not the CDN's files. An entry is static when its response's
media type or its URL path's extension says so.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlsplit

#: Media type prefixes of static assets.
STATIC_MEDIA_PREFIXES = ("image/", "font/")
#: Whole media types of static assets (scripts have had many names; RFC 9239 section 6).
STATIC_MEDIA_TYPES = frozenset(
    {
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/ecmascript",
        "application/font-woff",
        "application/x-font-woff",
        "application/x-font-ttf",
        "application/vnd.ms-fontobject",
    }
)
#: URL path extensions of static assets.
STATIC_EXTENSIONS = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".avif",
        ".svg",
        ".ico",
        ".bmp",
        ".css",
        ".js",
        ".mjs",
        ".map",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
    }
)


def is_static(url: str, media_type: str) -> bool:
    """Whether a response is a static asset, by ``media_type`` (``"text/css; charset=..."``)
    or by the extension of ``url``'s path."""
    essence = media_type.partition(";")[0].strip().lower()
    if essence.startswith(STATIC_MEDIA_PREFIXES) or essence in STATIC_MEDIA_TYPES:
        return True
    return PurePosixPath(urlsplit(url).path).suffix.lower() in STATIC_EXTENSIONS
