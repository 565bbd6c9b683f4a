"""What every console page and API handler shares: the console's state, authentication, CSP, timing, errors."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jupyter_server.base.handlers import JupyterHandler
from sqlalchemy.engine import Engine
from tornado import web

from quire.config import Settings
from quire.console.access import Access, access_of, login_url_without_token, url_without_token
from quire.console.reports import AccessError, NotFound, ReportCatalog, problem
from quire.errors import QuireError

#: Console pages: scripts, styles and images from this server only; frames only of this server's reports.
CONSOLE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'")
#: A downloaded or framed report file: no script, nothing remote, in a sandbox (downloads of its data allowed).
FILE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; frame-ancestors 'self'; "
            "sandbox allow-downloads")
#: What an API request without valid credentials is told.
UNAUTHENTICATED = ("not signed in: send 'Authorization: Bearer <token>' with the server's token or one from "
                   "`quire tokens create`")
#: The API answers JSON only.
API_CSP = "default-src 'none'; frame-ancestors 'none'"


@dataclass
class Console:
    """The console's shared state in the server process (``settings["quire"]["console"]``)."""

    settings: Settings
    engine: Engine
    catalog: ReportCatalog
    jinja: jinja2.Environment
    server_client: str | None
    brand: Any  # the server's Brand
    brand_name: str
    #: The reports a client-facing server offers; None on an internal one: every report of the catalog as it
    #: reads now (a report added to the catalog while the server runs is offered, and its runs found, at once).
    reports: set[str] | None
    _brands: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def outputs(self) -> Path:
        return self.settings.outputs_dir

    def brand_for(self, access: Access):
        """The brand a requester sees: their client's, else the server's."""
        if not access.client or access.client == self.server_client:
            return self.brand
        with self._lock:
            if access.client in self._brands:
                return self._brands[access.client]
        brand = self._client_brand(access.client)
        with self._lock:
            self._brands[access.client] = brand
        return brand

    def _client_brand(self, slug: str):
        from quire.brand import load_brand
        from quire.warehouse import queries
        from quire.warehouse.engine import connection

        try:
            with connection(self.settings.warehouse) as conn:
                row = queries.client_by_slug(conn, slug)
            return load_brand(str(row["brand"]), self.settings.templates_dir) if row is not None else self.brand
        except QuireError:
            return self.brand


class ConsoleHandler(JupyterHandler):
    """Base of the console's handlers: authenticated like every page of the server, timed, with a strict CSP."""

    csp = CONSOLE_CSP
    api = False

    @property
    def content_security_policy(self) -> str:
        return self.csp

    def get_login_url(self) -> str:
        return login_url_without_token(self)

    @property
    def console(self) -> Console:
        return self.settings["quire"]["console"]

    @property
    def access(self) -> Access:
        return access_of(self)

    async def prepare(self, *args: Any, **kwargs: Any) -> None:
        self._started = time.perf_counter()
        if not self.api:
            await super().prepare(*args, **kwargs)
            if (clean := url_without_token(self)) is not None:
                self.redirect(clean)  # a page, not a program: the token leaves the address bar
            return
        try:
            await super().prepare(*args, _redirect_to_login=False, **kwargs)  # a program gets a status, not a login page
        except web.HTTPError as e:
            # Nobody is signed in (no token, or a wrong or revoked one): 401 asks for credentials, so that a
            # client knows to authenticate; 403 stays for a known requester who may not do this.
            if e.status_code == 403 and self.current_user is None and self.check_host():
                raise web.HTTPError(401, UNAUTHENTICATED) from None
            raise

    def require(self, role: str) -> Access:
        """The requester's access, if it includes ``role``; 403 otherwise."""
        access = self.access
        if not access.allows(role):
            raise AccessError(f"this needs the {role} role; your access is {access.role}")
        return access

    def finish(self, chunk: Any = None):
        # Server-Timing: what the server spent on this response (read by bench/console.py and browsers' devtools).
        if not self._headers_written and hasattr(self, "_started"):
            self.set_header("Server-Timing", f"app;dur={(time.perf_counter() - self._started) * 1000:.1f}")
        return super().finish(chunk)

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(data, default=str))

    def send_error_for(self, exc: QuireError) -> None:
        """A Quire error as this handler answers errors (JSON for the API, a page otherwise)."""
        status, body = problem(exc)
        if self.api:
            self.write_json(body, status)
        else:
            self.render_error(status, str(exc))

    def _handle_request_exception(self, e: BaseException) -> None:
        # tornado's hook for an exception escaping prepare/get/post: a QuireError is the user's mistake or a
        # refusal, answered with its one-line message (JSON or page) instead of a logged 500.
        if isinstance(e, QuireError) and not self._finished:
            self.send_error_for(e)
            return
        super()._handle_request_exception(e)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = exc.log_message if isinstance(exc, web.HTTPError) and exc.log_message else self._reason
        if self.api:
            self.set_header("Content-Type", "application/json; charset=utf-8")
            if status_code == 401:
                self.set_header("WWW-Authenticate", 'Bearer realm="quire"')
            elif status_code == 405:  # RFC 9110: say which methods this address has
                self.set_header("Allow", ", ".join(m for m in ("GET", "POST") if self._has_method(m)))
            self.finish(json.dumps({"error": message, "status": status_code}))
        else:
            self.render_error(status_code, message)

    def _has_method(self, method: str) -> bool:
        return getattr(type(self), method.lower()) is not getattr(web.RequestHandler, method.lower())

    # -- pages -----------------------------------------------------------------------------
    def render_error(self, status: int, message: str) -> None:
        self.set_status(status)
        try:
            access = self.access
        except web.HTTPError:
            access = None
        self.finish(self.page_html("error.html.j2", status=status, message=message, access=access,
                                   title={403: "Not allowed", 404: "Not found", 422: "Cannot run"}.get(status, "Error")))

    def page_html(self, template: str, **context: Any) -> str:
        console = self.console
        access = context.pop("access", None) or (self.access if self.current_user else None)
        brand = console.brand_for(access) if access else console.brand
        return console.jinja.get_template(template).render(
            base=self.base_url, access=access, xsrf_form_html=self.xsrf_form_html,
            brand_name=console.brand_name if brand is console.brand else brand.name, **context)

    def render_page(self, template: str, status: int = 200, **context: Any) -> None:
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        self.finish(self.page_html(template, **context))


__all__ = ["API_CSP", "CONSOLE_CSP", "Console", "ConsoleHandler", "FILE_CSP", "NotFound"]
