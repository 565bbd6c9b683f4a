"""The Quire console and API, served by ``quire serve`` in the same process with the same authentication.

One face for the server (:mod:`quire.serve`): :func:`configure` (identity provider, cookies,
Content-Security-Policy of the Voilà pages), :func:`build` (the console's shared state) and
:func:`handlers` (its routes). Inside:

* :mod:`.access` — who is asking: the server token, console tokens (role, client), cookies;
* :mod:`.reports` — the catalog's parameter types as form fields and JSON Schema; requests
  validated by :func:`quire.pipeline.prepare`, exactly as ``quire run`` validates;
* :mod:`.pages` (HTML) and :mod:`.api` (``/api/v1``, :mod:`.openapi`) — runs are *queued*
  in the state database (:mod:`quire.state.queue`) and executed by the scheduler's
  workers, never in the web process;
* :mod:`.runs`, :mod:`.compare`, :mod:`.schedules` — what the pages and the API show.

Templates are ``templates/console/`` (the report stylesheet family); ``console.js`` only
moves focus to form errors and follows a live run's status.
"""

from __future__ import annotations

from typing import Any

import jinja2
from traitlets.config import Config

from quire.config import Settings
from quire.console.base import Console

#: Voilà's app pages: Voilà's template needs its inline scripts (without them no app renders) and
#: inline styles, but no eval, nothing may come from or go to another origin, and no other site may frame them.
VOILA_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
             "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
             "base-uri 'self'; form-action 'self'; frame-ancestors 'self'")
#: Cookies: the login cookie is HttpOnly (jupyter_server's default); both it and the _xsrf cookie are
#: SameSite=Lax, so no other site's form or script request carries them.
COOKIE_OPTIONS = {"samesite": "Lax"}


def configure(c: Config, settings: Settings, client: str | None) -> None:
    """Set the server's identity provider (console tokens), cookie flags and the Voilà pages' CSP."""
    from quire.console.access import QuireIdentityProvider

    c.Voila.identity_provider_class = QuireIdentityProvider
    c.QuireIdentityProvider.quire_state_url = settings.state
    c.QuireIdentityProvider.quire_client = client or ""
    c.QuireIdentityProvider.cookie_options = dict(COOKIE_OPTIONS)


def tornado_settings() -> dict[str, Any]:
    """Tornado application settings the console needs (applied to every handler of the server)."""
    return {"headers": {"Content-Security-Policy": VOILA_CSP, "X-Content-Type-Options": "nosniff",
                        "Referrer-Policy": "same-origin"},
            "xsrf_cookie_kwargs": dict(COOKIE_OPTIONS)}


def build(settings: Settings, *, server_client: str | None, reports: list[str], brand: Any, brand_name: str) -> Console:
    """The console's shared state: state database, catalog view, templates."""
    from quire.console.reports import ReportCatalog
    from quire.state import open_state

    jinja = jinja2.Environment(loader=jinja2.FileSystemLoader(str(settings.templates_dir / "console")),
                               autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return Console(settings=settings, engine=open_state(settings.state),
                   catalog=ReportCatalog(settings, reports if server_client else None), jinja=jinja,
                   server_client=server_client, brand=brand, brand_name=brand_name,
                   reports=set(reports) if server_client else None)


def handlers(base: str, settings: Settings) -> list[tuple]:
    """Every route of the console and the API under ``base`` (the server's base URL)."""
    from quire.console.api import api_handlers
    from quire.console.pages import page_handlers

    return api_handlers(base) + page_handlers(base, str(settings.templates_dir / "console" / "static"))


__all__ = ["Console", "VOILA_CSP", "build", "configure", "handlers", "tornado_settings"]
