"""Static files: the UI from ``ui/``, the OpenAPI document and the API docs page.

Paths are resolved inside the root and anything that escapes it (``..``, encoded or not,
absolute paths, symlinks pointing out) is a 404, never a file from elsewhere.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from urllib.parse import unquote

from .apigw import HttpResponse, error_response

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}
_SECURITY_HEADERS = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")]

# What a deployed bucket's config.json says, for the local stack (so the UI never sees a 404).
LOCAL_CONFIG = b'{"apiBaseUrl": "", "local": true}'

_PLACEHOLDER = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Exception Playbooks (local)</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}</style>
</head><body><h1>Exception Playbooks</h1>
<p>The local stack is running, but <code>ui/index.html</code> does not exist yet.</p>
<ul><li><a href="/api/docs">API documentation</a></li><li><a href="/healthz">/healthz</a></li></ul>
</body></html>"""


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


def safe_join(root: Path, url_path: str) -> Path | None:
    """The file under ``root`` that ``url_path`` names, or None if it would leave ``root``."""
    decoded = unquote(url_path)
    if "\x00" in decoded or "\\" in decoded:
        return None
    parts = [p for p in decoded.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    base = root.resolve()
    candidate = base.joinpath(*parts).resolve() if parts else base
    if candidate != base and not candidate.is_relative_to(base):
        return None
    return candidate


class StaticFiles:
    def __init__(self, root: Path):
        self.root = root

    def get(self, url_path: str, if_none_match: str | None = None, head: bool = False) -> HttpResponse:
        target = safe_join(self.root, url_path)
        if target is not None and target.is_dir():
            target = target / "index.html"
        if target is None or not target.is_file():
            if url_path == "/config.json":  # the UI's runtime config: locally, same origin, local sign-in
                return HttpResponse(
                    200,
                    [
                        ("Content-Type", CONTENT_TYPES[".json"]),
                        ("Cache-Control", "no-store"),
                        *_SECURITY_HEADERS,
                    ],
                    LOCAL_CONFIG,
                )
            if url_path in ("/", "/index.html") and not (self.root / "index.html").is_file():
                return HttpResponse(
                    200, [("Content-Type", CONTENT_TYPES[".html"]), *_SECURITY_HEADERS], _PLACEHOLDER
                )
            return error_response(404, "NOT_FOUND", f"No file at {url_path}")
        stat = target.stat()
        etag = '"' + hashlib.sha1(f"{stat.st_mtime_ns}-{stat.st_size}".encode()).hexdigest()[:20] + '"'
        headers = [
            ("Content-Type", content_type(target)),
            ("Cache-Control", "no-cache"),  # always revalidate: the UI changes while developing
            ("ETag", etag),
            *_SECURITY_HEADERS,
        ]
        if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
            return HttpResponse(304, headers, b"")
        body = b"" if head else target.read_bytes()
        if head:
            headers.append(("Content-Length", str(stat.st_size)))
        return HttpResponse(200, headers, body)


def openapi_document(path: Path) -> HttpResponse:
    """The committed OpenAPI document, read on every request (it is regenerated while running)."""
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        return error_response(404, "NOT_FOUND", "openapi.json has not been generated yet (make openapi)")
    return HttpResponse(200, [("Content-Type", "application/json"), ("Cache-Control", "no-cache")], body)


def docs_page() -> HttpResponse:
    body = resources.files("local").joinpath("assets/docs.html").read_bytes()
    return HttpResponse(200, [("Content-Type", CONTENT_TYPES[".html"]), *_SECURITY_HEADERS], body)
