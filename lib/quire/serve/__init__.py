"""``quire serve``: the stakeholder apps on Voilà, with a landing page and the archive of runs.

One process, one configuration: Voilà's own application (not the jupyter_server
extension, whose kernel websocket accepts ``execute_request``) with

* the app notebooks of ``notebooks/apps/`` rendered with code hidden, in the ``lab``
  template restyled by ``templates/voila/quire`` (Quire CSS linked from this server; the
  lab template's Font Awesome CDN links are removed — Voilà bundles the icons);
* three handlers of our own: ``/`` (landing: apps and the latest runs of each report),
  ``/archive/<report>/<day>/<run>/report.{html,pdf}`` (a succeeded run's report files
  only, no link followed: :mod:`quire.serve.archive`) and ``/quire/...`` (stylesheets,
  brand logo); Voilà's static and template files answer 404, never 500, for what is not there;
* a preheated app's page that shows the computed app at once: the app's display carries its
  HTML snapshot, which the template serves in the page and the live widget replaces; static
  files gzip-compressed once, Voilà's scripts from a versioned path and cached by browsers
  (:mod:`quire.serve.assets`); a kernel handed to a page is not culled before the page connects;
* an app kernel reachable by the user whose page got it only (:mod:`quire.serve.kernels`);
* token authentication on by default, the token kept out of the log (:mod:`quire.serve.logs`)
  and out of the start line unless it was generated for a terminal; preheated kernels (a pool per app) and culling of
  idle kernels — a closed page does not free its kernel (voila#1458), the culler does
  (Voilà's pooling kernel manager already spares the kernels waiting in the pool).

Client-facing mode (``--client SLUG``) serves the client app only, pinned to that client
through :data:`quire.apps.base.TENANT_ENV` in every kernel's environment, and the landing
page and archive show that client's runs only.
"""

from __future__ import annotations

import mimetypes
import os
import re
import secrets
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import FileFindHandler, JupyterHandler
from jupyter_server.services.kernels.handlers import KernelHandler
from jupyter_server.utils import url_path_join
from tornado import web
from traitlets import Dict, List, Unicode
from traitlets.config import Config
from voila import __version__ as voila_version
from voila.app import Voila
from voila.static_file_handler import MultiStaticFileHandler, TemplateStaticFileHandler
from voila.tornado.contentshandler import VoilaContentsHandler
from voila.request_info_handler import RequestInfoSocketHandler
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from quire.apps import APPS
from quire.apps.base import TENANT_ENV
from quire import console
from quire.config import Settings, masked_url
from quire.console.access import (TENANT_HEADER, brand_of, login_url_without_token, pin_app, pinned, tenant_of,
                                  url_without_token)
from quire.console.reports import is_client_report
from quire.errors import ConfigError, ParameterError, QuireError
from quire.serve.archive import collect_runs, read_archive_file
from quire.serve.assets import (CompressedStatic, ImmutableStatic, LabextensionsHandler, VersionedStylesheet,
                                file_version, folders_version)
from quire.serve.kernels import KernelOwners, OwnKernelHandler, OwnKernelWebsocketHandler, OwnShutdownHandler
from quire.serve.logs import redact_token_in_logs

#: Rendered reports hold no script and no remote resource: forbid both, in a sandbox (their data links download).
ARCHIVE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; frame-ancestors 'self'; "
               "sandbox allow-downloads")
LANDING_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'self'"


@dataclass
class ServeOptions:
    """What ``quire serve`` was asked for (the CLI's options)."""

    ip: str = "127.0.0.1"
    port: int = 8866
    auth: bool = True
    token: str | None = None          # None: generated (or QUIRE_SERVE_TOKEN)
    client: str | None = None         # client-facing mode: the one client served
    preheat: bool = True
    pool_size: int = 1
    cull_idle_timeout: int = 600      # seconds a kernel without a page may idle before it is shut down
    cull_interval: int = 60
    base_url: str = "/"
    apps: list[str] = field(default_factory=lambda: list(APPS))


class QuireRenderHandler(TornadoVoilaHandler):
    """Voilà's render handler restricted to the apps this server serves (a 404 for any other path).

    A request that signs in with ``?token=`` is sent to the same URL without it (the login
    cookie is set): Voilà hands a page's URL to kernels, in the environment of the kernel
    that refills the pool (``VOILA_REQUEST_URL``) or of one it starts for the page.

    A preheated kernel handed to a page has its idle time restarted: it may have waited in
    its pool for longer than the cull timeout, and the culler, which spares kernels only
    while they are in a pool, would otherwise shut it down in the second before the page's
    websocket connects (the page then never comes live).
    """

    def get_login_url(self) -> str:
        return login_url_without_token(self)

    async def get(self, path: str | None = None) -> None:
        if path not in self.settings["quire"]["notebooks"]:
            raise web.HTTPError(404)
        if not pin_app(self, path, self.settings["quire"]["client"]):
            raise web.HTTPError(403)  # a client's token: its own client's app only
        if (clean := url_without_token(self)) is not None:
            return self.redirect(clean)
        # The page's close sends its kernel's shutdown with the _xsrf cookie's value: set the cookie now,
        # or the shutdown is refused (403 '_xsrf' argument missing) and the kernel waits for the culler.
        self.xsrf_token  # noqa: B018
        waiting = self._preheated_kernels()
        try:
            with self.settings["quire"]["kernel_owners"].serving(self):  # the page's kernel is this user's only
                return await super().get(path)
        finally:
            self._touch(waiting - self._preheated_kernels())

    def _preheated_kernels(self) -> set[str]:
        """Ids of the kernels ready in Voilà's pools (none without preheating)."""
        ready = set()
        for pool in getattr(self.kernel_manager, "_pools", {}).values():
            for item in pool:
                if item.done() and not item.cancelled() and item.exception() is None:
                    ready.add(item.result()["kernel_id"])
        return ready

    def _touch(self, kernel_ids: set[str]) -> None:
        now = datetime.now(timezone.utc)
        for kernel_id in kernel_ids:
            if kernel_id in self.kernel_manager:
                self.kernel_manager.get_kernel(kernel_id).last_activity = now

    def should_use_rendered_notebook(self, *args: Any) -> bool:
        # A preheated kernel belongs to no client: a client's user gets a fresh kernel pinned to its client.
        return not pinned(self) and super().should_use_rendered_notebook(*args)


class QuireHandler(JupyterHandler):
    """Base of our pages: authenticated like Voilà's, with a strict Content-Security-Policy."""

    csp = LANDING_CSP

    @property
    def content_security_policy(self) -> str:
        return self.csp

    def get_login_url(self) -> str:
        return login_url_without_token(self)

    @property
    def quire(self) -> dict[str, Any]:
        return self.settings["quire"]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # jupyter_server's error page needs its own static files, which this server does not have.
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code}: {self._reason}\n")


class LandingHandler(QuireHandler):
    """``/``: the apps, and for each report its latest published runs."""

    @web.authenticated
    def get(self) -> None:
        if (clean := url_without_token(self)) is not None:
            return self.redirect(clean)
        q = self.quire
        template = q["jinja"].get_template("landing.html.j2")
        self.set_header("Cache-Control", "no-store")
        tenant = tenant_of(self, q["client"])
        apps = q["app_cards"] if tenant == q["client"] else [a for a in q["app_cards"] if a["name"] == "client"]
        # A client's user is shown the reports made per client only: not even the others' titles.
        titles = {r: t for r, t in q["report_titles"].items() if not tenant or r in q["client_reports"]}
        self.finish(template.render(base_url=self.base_url, apps=apps,
                                    reports=collect_runs(q["outputs"], titles, tenant, q["report_defaults"],
                                                        masked_url(q["settings"].warehouse)),
                                    brand=q["brand_name"], client_mode=bool(tenant)))


class ArchiveHandler(QuireHandler):
    """``/archive/...``: a reader's file of one published run (``report.html``, ``report.pdf``, ``report.xlsx``, its
    table CSVs); everything else is a 404."""

    csp = ARCHIVE_CSP

    @web.authenticated
    def get(self, path: str) -> None:
        q = self.quire
        found = read_archive_file(q["outputs"], path, q["reports"], tenant_of(self, q["client"]))
        if found is None:
            raise web.HTTPError(404)
        name, data = found
        self.set_header("Content-Type", mimetypes.guess_type(name)[0] or "application/octet-stream")
        self.set_header("X-Content-Type-Options", "nosniff")
        # One reader's report: kept by their browser a minute, by no shared cache (a proxy in front of the server).
        self.set_header("Cache-Control", "private, max-age=60")
        self.finish(data)  # to a HEAD, tornado sends the headers (Content-Length included) and no body

    @web.authenticated
    def head(self, path: str) -> None:
        self.get(path)


class BrandHandler(QuireHandler):
    """``/quire/brand.css`` and ``/quire/brand-logo``: the served brand's colours and logo.

    Open without the token: the login, logout and error pages wear the brand too (the logo
    was a broken image there).
    """

    @allow_unauthenticated
    def get(self, what: str) -> None:
        brand = brand_of(self, self.quire["console"])  # a client's user sees its client's brand
        if what == "brand.css":
            self.set_header("Content-Type", "text/css; charset=utf-8")
            self.finish(brand.css_variables())
        elif what == "brand-logo":
            self.set_header("Content-Type", mimetypes.guess_type(brand.logo_path.name)[0] or "image/svg+xml")
            self.finish(brand.logo_bytes())
        else:
            raise web.HTTPError(404)


class NotFoundStatic:
    """Mixin for static file handlers: a missing file, or a path out of their folders, is a 404.

    Tornado's and Voilà's handlers answer 403 ("not in root static directory") for a path
    that leads out of their folder, and Voilà's also when a file is in none of its folders;
    for a visitor both simply do not exist.
    """

    async def get(self, path: str, include_body: bool = True) -> None:
        try:
            await super().get(path, include_body)  # type: ignore[misc]
        except web.HTTPError as exc:
            if exc.status_code == 403:  # tornado's "not in root static directory", for a path with ../ or a link
                raise web.HTTPError(404) from None
            raise


class TemplateStaticHandler(NotFoundStatic, CompressedStatic, TemplateStaticFileHandler):
    """``/voila/templates/<template>/static/<file>`` only; any other path under ``/voila/templates/`` is a 404.

    Voilà's own handler unpacks the path blindly and answers 500 to ``/voila/templates/``,
    ``…/lab/index.html.j2`` or ``…/lab/static/`` (a traceback in the log for each probe).
    """

    _PATH = re.compile(r"[A-Za-z0-9_-]+/static/[A-Za-z0-9_.@~+-][A-Za-z0-9_.@~+/-]*")

    def parse_url_path(self, url_path: str) -> str:
        parts = url_path.split("/")
        if not self._PATH.fullmatch(url_path) or any(p in ("", ".", "..") for p in parts):
            raise web.HTTPError(404)
        return super().parse_url_path(url_path)


class StaticHandler(NotFoundStatic, CompressedStatic, MultiStaticFileHandler):
    """Voilà's ``/voila/static/`` files, with a 404 for a missing one."""


class VersionedStaticHandler(ImmutableStatic, StaticHandler):
    """Voilà's static files under ``/voila/static/v-<version of them all>/``, where its pages take them from."""


class QuireStaticHandler(NotFoundStatic, CompressedStatic, VersionedStylesheet, web.StaticFileHandler):
    """Quire's stylesheets (``/quire/static/``, ``/quire/report/``), with a 404 for a path outside their folder."""


#: Voilà's handlers that Quire replaces by a stricter or faster subclass.
REPLACED = {TornadoVoilaHandler: QuireRenderHandler, TemplateStaticFileHandler: TemplateStaticHandler,
            MultiStaticFileHandler: StaticHandler, FileFindHandler: LabextensionsHandler,
            KernelHandler: OwnKernelHandler, VoilaKernelWebsocketHandler: OwnKernelWebsocketHandler,
            VoilaShutdownKernelHandler: OwnShutdownHandler}


class QuireVoila(Voila):
    """Voilà with Quire's template, handlers and settings (see the module docstring)."""

    name = "quire-serve"
    quire_settings = Dict(help="Settings our handlers read (self.settings['quire']).")
    quire_template_dir = Unicode(help="templates/voila/quire")
    quire_static_dirs = List(Unicode(), help="Folders served under /quire/static/.")

    def _config_file_paths_default(self) -> list[str]:
        return []  # no voila.json from the working directory: this server is configured here only

    def setup_template_dirs(self) -> None:
        super().setup_template_dirs()
        # Our index.html.j2 comes first and extends Voilà's lab template by its full path.
        self.template_paths = [self.quire_template_dir, *self.template_paths]

    def init_settings(self) -> dict:
        # Before Voilà's settings: its preheating kernel manager takes the hook when it is made.
        self.static_version = folders_version(self.static_paths, salt=voila_version)
        self.voila_configuration.page_config_hook = self.versioned_urls
        settings = super().init_settings()
        settings["quire"] = self.quire_settings
        self.quire_settings["kernel_owners"] = KernelOwners(self.kernel_manager)
        # jupyter_server's error and logout pages extend its page.html, which needs a static_path this
        # server does not have (every 404 of its handlers logged a traceback, /logout answered 500): they
        # extend Quire's page.html instead.
        server_env = settings["jinja2_env"]
        server_env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(self.quire_template_dir), server_env.loader])
        return settings

    def versioned_urls(self, page_config: dict, base_url: str, **_: Any) -> dict:
        """Voilà's page_config_hook: its scripts from a versioned path, Quire's stylesheets with their hash.

        Both are then cached by browsers for a year (:mod:`quire.serve.assets`); a new
        version of either comes with a new URL.
        """
        page_config["fullStaticUrl"] = url_path_join(base_url, f"voila/static/v-{self.static_version}")
        page_config["quireStylesheets"] = {
            "report.css": file_version(Path(self.quire_static_dirs[1]) / "report.css"),
            "app.css": file_version(Path(self.quire_static_dirs[0]) / "app.css")}
        return page_config

    def init_handlers(self) -> list:
        kept = []
        for handler in super().init_handlers():
            cls = handler[1]
            if cls in (TornadoVoilaTreeHandler, VoilaContentsHandler):
                continue  # the landing page replaces Voilà's file tree; no contents API
            if cls is RequestInfoSocketHandler:
                # Voilà opens this websocket without authentication, to hand a viewer's request to a
                # preheated kernel that asks for it (voila.utils.wait_for_request). No app of ours
                # asks, and anyone who guessed a kernel's id would receive that viewer's request.
                continue
            handler = (handler[0], REPLACED.get(cls, cls), *handler[2:])
            kept.append(handler)
        base = self.server_url or self.base_url
        ours = [
            (base, LandingHandler),
            (url_path_join(base, f"voila/static/v-{self.static_version}/(.*)"), VersionedStaticHandler,
             {"paths": self.static_paths, "default_filename": "index.html"}),
            (f"{base}archive/(.*)", ArchiveHandler),
            (f"{base}quire/(brand\\.css|brand-logo)", BrandHandler),
            (f"{base}quire/static/(.*)", QuireStaticHandler, {"path": self.quire_static_dirs[0]}),
            (f"{base}quire/report/(.*)", QuireStaticHandler, {"path": self.quire_static_dirs[1]}),
        ]
        return console.handlers(base, self.quire_settings["settings"]) + ours + kept


def app_cards(settings: Settings, apps: list[str]) -> list[dict[str, str]]:
    """Title, description and notebook of each app, from the catalog entry of the report it is built on."""
    from quire.catalog import load_catalog

    catalog = load_catalog(settings.catalog_path)
    cards = []
    for name in apps:
        spec = catalog.reports.get(name)
        cards.append({"name": name, "notebook": f"{name}.ipynb",
                      "title": spec.title.replace(" report", "") if spec else name.capitalize(),
                      "description": spec.description if spec else ""})
    return cards


def check_client(slug: str, settings: Settings) -> tuple[str, str]:
    """(name, brand) of the active client ``slug``; a one-line ParameterError otherwise."""
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    if not slug.strip():
        raise ParameterError("--client is empty: give a client's slug (`quire clients` lists them), or leave the "
                             "option out for access to every client", parameter="client")
    with connection(settings.warehouse) as conn:
        row = queries.client_by_slug(conn, slug)
    if row is None or row["status"] != "active":
        raise ParameterError(f"--client: no active client {slug!r} in the warehouse; `quire clients` lists them",
                             parameter="client")
    return str(row["name"]), str(row["brand"])


#: The shortest token an operator may choose: the token is the only lock on every app and report.
MIN_TOKEN_LENGTH = 16


def check_token(token: str) -> None:
    """Refuse a chosen server token that is short enough to guess, or that a URL or a cookie would mangle."""
    fix = "choose a long random one, e.g. the output of: python -c 'import secrets; print(secrets.token_urlsafe(24))'"
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"QUIRE_SERVE_TOKEN has {len(token)} characters, too few to keep anyone out "
                          f"(at least {MIN_TOKEN_LENGTH}): {fix}")
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        raise ConfigError(f"QUIRE_SERVE_TOKEN holds spaces or characters that are not plain printable ASCII: {fix}")


def build_app(opts: ServeOptions, settings: Settings) -> tuple[QuireVoila, str]:
    """A configured, initialised server and the URL to announce (see :func:`announced_url` for the token)."""
    from quire.brand import load_brand
    from quire.catalog import load_catalog

    apps_dir = settings.notebooks_dir / "apps"
    apps = ["client"] if opts.client is not None else [a for a in opts.apps if (apps_dir / f"{a}.ipynb").is_file()]
    if not apps:
        raise ConfigError(f"no app notebooks in {apps_dir}")
    if opts.client is not None:  # checked even when empty: an unset variable must not serve every client
        client_name, brand_key = check_client(opts.client, settings)
        os.environ[TENANT_ENV] = opts.client  # inherited by every kernel, preheated ones included
    else:
        client_name, brand_key = None, "quire"
        os.environ.pop(TENANT_ENV, None)  # internal mode is never pinned by a stray variable
    brand = load_brand(brand_key, settings.templates_dir)
    # Kernels read the same warehouse and archive as this process.
    os.environ.setdefault("QUIRE_WAREHOUSE_URL", settings.warehouse)
    os.environ.setdefault("QUIRE_OUTPUTS", str(settings.outputs_dir))

    # Read, then removed from the environment every kernel inherits: the apps have no use for it.
    from_env = os.environ.pop("QUIRE_SERVE_TOKEN", None)
    chosen = opts.token or from_env
    if opts.auth and chosen:  # set but empty: as if unset, a token is generated
        check_token(chosen)
    token = "" if not opts.auth else (chosen or secrets.token_urlsafe(24))
    if token:
        redact_token_in_logs(token)
    template_dir = settings.templates_dir / "voila" / "quire"
    catalog = load_catalog(settings.catalog_path)
    reports = ["client"] if opts.client else list(catalog.reports)
    jinja = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir)), autoescape=True)

    c = Config()
    c.Voila.ip = opts.ip
    c.Voila.port = opts.port
    c.Voila.port_retries = 0
    c.Voila.open_browser = False
    c.Voila.base_url = opts.base_url
    c.Voila.root_dir = str(apps_dir)
    c.Voila.token = token
    c.VoilaConfiguration.template = "lab"
    c.VoilaConfiguration.theme = "light"
    c.VoilaConfiguration.strip_sources = True
    c.VoilaConfiguration.show_tracebacks = False
    # Every lab extension is a few more scripts for each visitor to load: the apps need the widgets only.
    c.VoilaConfiguration.extension_denylist = ["jupyterlab_pygments", "@voila-dashboards/jupyterlab-preview"]
    c.VoilaConfiguration.preheat_kernel = opts.preheat
    c.VoilaConfiguration.http_header_envs = [TENANT_HEADER]  # set by the server only (console.access.pin_app)
    c.VoilaConfiguration.default_pool_size = opts.pool_size
    # Voilà's pool preheats every notebook under root_dir; in client-facing mode only the client app.
    # Refill the pool a few seconds after a kernel is handed out, not while its page is still loading.
    c.VoilaKernelManager.fill_delay = 5
    c.VoilaKernelManager.preheat_denylist = [f"{a}.ipynb" for a in APPS if a not in apps]
    c.MappingKernelManager.cull_idle_timeout = opts.cull_idle_timeout
    c.MappingKernelManager.cull_interval = opts.cull_interval
    c.MappingKernelManager.cull_connected = False  # an open page keeps its kernel; a closed one is culled
    console.configure(c, settings, opts.client)  # console tokens, cookie flags
    c.Voila.tornado_settings = console.tornado_settings()  # CSP on every page, SameSite cookies

    app = QuireVoila(config=c)
    app.quire_template_dir = str(template_dir)
    app.quire_static_dirs = [str(template_dir / "static"), str(settings.templates_dir / "quire" / "static")]
    app.quire_settings = {
        "outputs": settings.outputs_dir, "client": opts.client, "notebooks": {f"{a}.ipynb" for a in apps},
        "reports": set(reports), "report_titles": {r: catalog.reports[r].title for r in reports if r in catalog.reports},
        "client_reports": {r for r in reports if r in catalog.reports and is_client_report(catalog.reports[r])},
        "report_defaults": _defaults(catalog, reports, settings),
        "app_cards": app_cards(settings, apps), "jinja": jinja, "brand": brand,
        "brand_name": client_name or brand.name, "settings": settings,
        "console": console.build(settings, server_client=opts.client, reports=reports, brand=brand,
                                 brand_name=client_name or brand.name),
    }
    app.initialize([])
    host = "127.0.0.1" if opts.ip in ("", "0.0.0.0") else opts.ip
    url = f"http://{host}:{opts.port}{opts.base_url}"
    if token:
        token_file = settings.outputs_dir / ".quire" / f"serve-{opts.port}.token"
        url = announced_url(url, token, generated=not chosen, token_file=token_file)
    return app, url


def announced_url(url: str, token: str, *, generated: bool, token_file: Path) -> str:
    """The URL ``quire serve`` prints, and with it the token only where no log can keep it.

    A token the operator chose (``QUIRE_SERVE_TOKEN``) is never printed. A generated one is
    printed on a terminal; when the output goes elsewhere (a service's journal, a file) it
    is written to ``token_file``, readable by its owner only, and the line names that file.
    """
    if not generated:
        return f"{url}?token=…  (the token is the value of QUIRE_SERVE_TOKEN)"
    if sys.stdout.isatty():
        return f"{url}?token={token}"
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.unlink(missing_ok=True)  # created afresh, so that its mode is ours whoever made the old one
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return f"{url}?token=…  (the token is in {token_file})"


def check_port_free(ip: str, port: int) -> None:
    """Refuse a port another server listens on before anything is started or written.

    Voilà finds out only when it listens, after the kernels were preheated and the token
    file written, which would replace the running server's token with one that opens nothing.
    """
    import errno

    from tornado.netutil import bind_sockets

    try:
        sockets = bind_sockets(port, ip or None)  # as tornado binds when it listens (SO_REUSEADDR included)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} is in use (another `quire serve`?)",
                              hint="stop that server, or choose another port with --port") from None
        raise ConfigError(f"cannot listen on {ip or '*'}:{port}: {exc.strerror}",
                          hint="choose a port above 1023 with --port, and an address of this machine with --ip") from None
    for sock in sockets:
        sock.close()


def _defaults(catalog, reports, settings: Settings) -> dict[str, dict[str, Any]]:
    """Each report's parameter defaults (its notebook's), so that the landing page names what a run changed."""
    from quire.parameters import declared_parameters

    found = {}
    for report in reports:
        try:
            found[report] = {n: d.default for n, d in declared_parameters(catalog.reports[report], settings.home).items()}
        except (KeyError, QuireError):  # a report the catalog lacks, or a notebook `quire validate` refuses
            found[report] = {}
    return found


def serve(opts: ServeOptions, settings: Settings, announce=print) -> None:
    """Build the server, announce its URL and serve until interrupted."""
    check_port_free(opts.ip, opts.port)
    app, url = build_app(opts, settings)
    announce(url)
    app.start()
