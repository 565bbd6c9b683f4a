"""How ``quire serve`` sends its static files: compressed once, and cached by browsers for as long as they can.

An app page loads ~5 MB of Voilà and widget scripts (about 90 files). Here:

* a compressible file (scripts, stylesheets, SVG, JSON, TTF fonts) goes out gzip-compressed
  to a browser that accepts it (about a quarter of the bytes), compressed once per file
  version and kept in memory, not per request;
* a file whose URL names its version is cached by browsers for a year, never revalidated:
  Voilà's own scripts under ``/voila/static/v-<version>/`` (the version of all its static
  files; the page's ``fullStaticUrl`` points there, and Voilà's loader takes its chunks
  from it), the widget extensions' content-hashed chunks under ``/voila/labextensions/``,
  and Quire's stylesheets requested with ``?v=<hash of the file>``; any other file is
  revalidated (a 304 when unchanged), so an upgrade is never hidden by a stale copy.

Brotli is not offered: browsers ask for it over HTTPS only (behind a TLS proxy, the proxy
can add it).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import FileFindHandler

#: Cache-Control of a file whose URL changes with its content.
IMMUTABLE = "public, max-age=31536000, immutable"
COMPRESSIBLE = ("application/javascript", "text/javascript", "text/css", "application/json", "image/svg+xml",
                "text/plain", "font/ttf", "application/x-font-ttf", "application/vnd.ms-fontobject")
#: Below this a file is sent as it is: compression would save less than a packet.
MIN_COMPRESSED_SIZE = 1024
#: A webpack chunk named by its content, e.g. ``remoteEntry.c8c9eed2cdefdeac.js``, ``327.8166aeb81cfb2c0ff2f1.js``.
CONTENT_HASHED = re.compile(r"[^/]+\.[0-9a-f]{16,}\.(?:js|css|woff2?|ttf|eot|svg|png)")


@lru_cache(maxsize=2048)
def _gzipped(path: str, mtime_ns: int, size: int) -> bytes:
    """``path`` gzip-compressed (its mtime and size in the key: a changed file is compressed again)."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)


def accepts_gzip(request: Any) -> bool:
    """Whether the request's Accept-Encoding allows gzip (a ``q=0`` refusal included)."""
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class CompressedStatic:
    """Mixin for tornado static file handlers: compressible files gzip-compressed (see the module docstring).

    A Range request, a browser without gzip, a small or incompressible file: tornado's own
    path, unchanged.
    """

    _gzip_body: bytes | None = None

    async def get(self, path: str, include_body: bool = True) -> None:
        self._gzip_body = None
        if "Range" in self.request.headers or not accepts_gzip(self.request):  # type: ignore[attr-defined]
            return await super().get(path, include_body)  # type: ignore[misc]
        # Resolve the file as tornado does (the same methods: same checks, same errors).
        self.path = self.parse_url_path(path)  # type: ignore[attr-defined]
        absolute = self.get_absolute_path(self.root, self.path)  # type: ignore[attr-defined]
        self.absolute_path = self.validate_absolute_path(self.root, absolute)  # type: ignore[attr-defined]
        if self.absolute_path is None:
            return None
        stat = os.stat(self.absolute_path)
        compressible = self.get_content_type() in COMPRESSIBLE  # type: ignore[attr-defined]
        if not compressible or stat.st_size < MIN_COMPRESSED_SIZE:
            return await super().get(path, include_body)  # type: ignore[misc]
        self._gzip_body = _gzipped(self.absolute_path, stat.st_mtime_ns, stat.st_size)
        self.modified = self.get_modified_time()  # type: ignore[attr-defined]
        self.set_headers()  # type: ignore[attr-defined]
        if self.should_return_304():  # type: ignore[attr-defined]
            self.set_status(304)  # type: ignore[attr-defined]
            return None
        self.set_header("Content-Length", len(self._gzip_body))  # type: ignore[attr-defined]
        if include_body:
            self.write(self._gzip_body)  # type: ignore[attr-defined]
        return None

    def set_headers(self) -> None:
        super().set_headers()  # type: ignore[misc]
        if self.get_content_type() in COMPRESSIBLE:  # type: ignore[attr-defined]
            self.set_header("Vary", "Accept-Encoding")  # type: ignore[attr-defined]
        if self._gzip_body is not None:
            self.set_header("Content-Encoding", "gzip")  # type: ignore[attr-defined]

    def compute_etag(self) -> str | None:
        # The compressed and the plain file are two representations: two entity tags.
        etag = super().compute_etag()  # type: ignore[misc]
        if etag and self._gzip_body is not None:
            return etag[:-1] + '-gzip"'
        return etag


class ImmutableStatic:
    """Mixin for tornado static file handlers: every file is cached for a year (its URL names its version)."""

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", IMMUTABLE)  # type: ignore[attr-defined]


class LabextensionsHandler(CompressedStatic, FileFindHandler):
    """``/voila/labextensions/``: content-hashed chunks cached for a year, other files revalidated."""

    @allow_unauthenticated  # as jupyter_server's own handler: the login page may need them
    async def get(self, path: str, include_body: bool = True) -> None:
        return await super().get(path, include_body)

    @allow_unauthenticated
    async def head(self, path: str) -> None:
        return await self.get(path, include_body=False)

    def set_headers(self) -> None:
        super().set_headers()
        if CONTENT_HASHED.fullmatch(os.path.basename(self.path)):
            self.set_header("Cache-Control", IMMUTABLE)


class VersionedStylesheet:
    """Mixin for Quire's stylesheet handler: ``?v=`` equal to the file's hash, a year; anything else, revalidated."""

    def set_extra_headers(self, path: str) -> None:
        requested = self.get_argument("v", None)  # type: ignore[attr-defined]
        current = file_version(self.absolute_path)  # type: ignore[attr-defined]
        cache = IMMUTABLE if requested == current else "no-cache"
        self.set_header("Cache-Control", cache)  # type: ignore[attr-defined]

    def get_cache_time(self, path: str, modified: Any, mime_type: str) -> int:
        return 0  # the Cache-Control header is set above; no Expires


@lru_cache(maxsize=64)
def _file_version(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def file_version(path: str | os.PathLike) -> str:
    """A short hash of a file's content (recomputed when it changes)."""
    stat = os.stat(path)
    return _file_version(str(path), stat.st_mtime_ns, stat.st_size)


def folders_version(folders: list[str], salt: str = "") -> str:
    """A short hash of the names, sizes and times of every file under ``folders`` (and ``salt``)."""
    digest = hashlib.sha256(salt.encode())
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                stat = os.stat(os.path.join(root, name))
                digest.update(f"{os.path.relpath(os.path.join(root, name), folder)}:{stat.st_size}:"
                              f"{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
