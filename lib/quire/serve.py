"""``quire serve``: the stakeholder apps on Voilà, with a landing page and the archive of runs.

One process, one configuration: Voilà's own application (not the jupyter_server
extension, whose kernel websocket accepts ``execute_request``) with

* the app notebooks of ``notebooks/apps/`` rendered with code hidden, in the ``lab``
  template restyled by ``templates/voila/quire`` (Quire CSS linked from this server; the
  lab template's Font Awesome CDN links are removed — Voilà bundles the icons);
* three handlers of our own: ``/`` (landing: apps and the latest runs of each report),
  ``/archive/<report>/<day>/<run>/report.{html,pdf}`` (published runs only, nothing else
  under ``outputs/``) and ``/quire/...`` (stylesheets, brand logo);
* token authentication on by default, preheated kernels (a pool per app) and culling of
  idle kernels — a closed page does not free its kernel (voila#1458), the culler does
  (Voilà's pooling kernel manager already spares the kernels waiting in the pool).

Client-facing mode (``--client SLUG``) serves the client app only, pinned to that client
through :data:`quire.apps.base.TENANT_ENV` in every kernel's environment, and the landing
page and archive show that client's runs only.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jupyter_server.base.handlers import JupyterHandler
from tornado import web
from traitlets import Dict, List, Unicode
from traitlets.config import Config
from voila.app import Voila
from voila.tornado.contentshandler import VoilaContentsHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from quire.apps import APPS
from quire.apps.base import TENANT_ENV
from quire import console
from quire.archive import latest_runs
from quire.config import Settings
from quire.console.access import TENANT_HEADER, brand_of, pin_app, pinned, tenant_of
from quire.errors import ConfigError, ParameterError

RUNS_PER_REPORT = 5
#: The only archive paths served: a published run's HTML or PDF (never its notebook, run.json or the state folder).
ARCHIVE_FILE = re.compile(r"^(?P<report>[a-z0-9][a-z0-9_-]{0,63})/(?P<day>\d{4}-\d{2}-\d{2})/"
                          r"(?P<run>[A-Za-z0-9][A-Za-z0-9_-]{0,127})/"
                          r"(?P<file>report\.html|report\.pdf|report\.xlsx|table-\d{2}(-[a-z0-9-]{1,40})?\.csv)$")
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
    """Voilà's render handler restricted to the apps this server serves (a 404 for any other path)."""

    async def get(self, path: str | None = None) -> None:
        if path not in self.settings["quire"]["notebooks"]:
            raise web.HTTPError(404)
        if not pin_app(self, path, self.settings["quire"]["client"]):
            raise web.HTTPError(403)  # a client's token: its own client's app only
        # The page's close sends its kernel's shutdown with the _xsrf cookie's value: set the cookie now,
        # or the shutdown is refused (403 '_xsrf' argument missing) and the kernel waits for the culler.
        self.xsrf_token  # noqa: B018
        return await super().get(path)

    def should_use_rendered_notebook(self, *args: Any) -> bool:
        # A preheated kernel belongs to no client: a client's user gets a fresh kernel pinned to its client.
        return not pinned(self) and super().should_use_rendered_notebook(*args)


class QuireHandler(JupyterHandler):
    """Base of our pages: authenticated like Voilà's, with a strict Content-Security-Policy."""

    csp = LANDING_CSP

    @property
    def content_security_policy(self) -> str:
        return self.csp

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
        q = self.quire
        template = q["jinja"].get_template("landing.html.j2")
        self.set_header("Cache-Control", "no-store")
        tenant = tenant_of(self, q["client"])
        apps = q["app_cards"] if tenant == q["client"] else [a for a in q["app_cards"] if a["name"] == "client"]
        self.finish(template.render(base_url=self.base_url, apps=apps,
                                    reports=collect_runs({**q, "client": tenant}), brand=q["brand_name"],
                                    client_mode=bool(tenant)))


class ArchiveHandler(QuireHandler):
    """``/archive/...``: one published run's ``report.html`` or ``report.pdf``; everything else is a 404."""

    csp = ARCHIVE_CSP

    @web.authenticated
    def get(self, path: str) -> None:
        q = self.quire
        file = resolve_archive_path(q["outputs"], path, q["reports"], tenant_of(self, q["client"]))
        if file is None:
            raise web.HTTPError(404)
        self.set_header("Content-Type", mimetypes.guess_type(file.name)[0] or "application/octet-stream")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(file.read_bytes())


class BrandHandler(QuireHandler):
    """``/quire/brand.css`` and ``/quire/brand-logo``: the served brand's colours and logo."""

    def get(self, what: str) -> None:
        brand = brand_of(self, self.quire["console"])  # a client's user sees its client's brand
        if what == "brand.css":
            self.set_header("Content-Type", "text/css; charset=utf-8")
            self.finish(brand.css_variables())
        elif what == "brand-logo":
            self.set_header("Content-Type", mimetypes.guess_type(brand.logo_path.name)[0] or "image/svg+xml")
            self.finish(brand.logo_path.read_bytes())
        else:
            raise web.HTTPError(404)


def resolve_archive_path(outputs: Path, path: str, reports: set[str], client: str | None) -> Path | None:
    """The file an ``/archive/`` path names, or None when it is not a published run's report of this server.

    The path must match :data:`ARCHIVE_FILE` exactly (so no ``..``, no other file), name a
    report of the catalog, resolve inside ``outputs`` and belong to a succeeded run; in
    client-facing mode, a run of that client.
    """
    m = ARCHIVE_FILE.match(path)
    if not m or m["report"] not in reports:
        return None
    root = outputs.resolve()
    folder = (root / m["report"] / m["day"] / m["run"]).resolve()
    file = (folder / m["file"]).resolve()
    if not file.is_relative_to(root) or not file.is_file():
        return None
    record = read_run(folder)
    if record is None or record.get("status") != "succeeded":
        return None
    if client is not None and (record.get("report") != "client" or record.get("client") != client):
        return None
    return file


def read_run(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def collect_runs(q: dict[str, Any]) -> list[dict[str, Any]]:
    """For each report shown: its title and latest runs (date, period, client, status, links)."""
    shown = []
    for report, title in q["report_titles"].items():
        runs = []
        for folder in latest_runs(q["outputs"], report, limit=200 if q["client"] else RUNS_PER_REPORT):
            record = read_run(folder) or {}
            if q["client"] and record.get("client") != q["client"]:
                continue
            rel = folder.relative_to(q["outputs"]).as_posix()
            runs.append({
                "date": str(record.get("finished_at") or record.get("started_at") or folder.parent.name)[:16].replace("T", " "),
                "period": record.get("period") or "", "client": record.get("client_name") or "",
                "status": record.get("status") or "unknown",
                "html": f"archive/{rel}/report.html" if (folder / "report.html").is_file() else None,
                "pdf": f"archive/{rel}/report.pdf" if (folder / "report.pdf").is_file() else None,
            })
            if len(runs) >= RUNS_PER_REPORT:
                break
        shown.append({"id": report, "title": title, "runs": runs})
    return shown


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
        settings = super().init_settings()
        settings["quire"] = self.quire_settings
        return settings

    def init_handlers(self) -> list:
        kept = []
        for handler in super().init_handlers():
            cls = handler[1]
            if cls in (TornadoVoilaTreeHandler, VoilaContentsHandler):
                continue  # the landing page replaces Voilà's file tree; no contents API
            if cls is TornadoVoilaHandler:
                handler = (handler[0], QuireRenderHandler, *handler[2:])
            kept.append(handler)
        base = self.server_url or self.base_url
        ours = [
            (base, LandingHandler),
            (f"{base}archive/(.*)", ArchiveHandler),
            (f"{base}quire/(brand\\.css|brand-logo)", BrandHandler),
            (f"{base}quire/static/(.*)", web.StaticFileHandler, {"path": self.quire_static_dirs[0]}),
            (f"{base}quire/report/(.*)", web.StaticFileHandler, {"path": self.quire_static_dirs[1]}),
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

    with connection(settings.warehouse) as conn:
        row = queries.client_by_slug(conn, slug)
    if row is None or row["status"] != "active":
        raise ParameterError(f"--client: no active client {slug!r} in the warehouse; `quire clients` lists them",
                             parameter="client")
    return str(row["name"]), str(row["brand"])


def build_app(opts: ServeOptions, settings: Settings) -> tuple[QuireVoila, str]:
    """A configured, initialised server and the URL to open (with the token)."""
    from quire.brand import load_brand
    from quire.catalog import load_catalog

    apps_dir = settings.notebooks_dir / "apps"
    apps = ["client"] if opts.client else [a for a in opts.apps if (apps_dir / f"{a}.ipynb").is_file()]
    if not apps:
        raise ConfigError(f"no app notebooks in {apps_dir}")
    if opts.client:
        client_name, brand_key = check_client(opts.client, settings)
        os.environ[TENANT_ENV] = opts.client  # inherited by every kernel, preheated ones included
    else:
        client_name, brand_key = None, "quire"
        os.environ.pop(TENANT_ENV, None)  # internal mode is never pinned by a stray variable
    brand = load_brand(brand_key, settings.templates_dir)
    # Kernels read the same warehouse and archive as this process.
    os.environ.setdefault("QUIRE_WAREHOUSE_URL", settings.warehouse)
    os.environ.setdefault("QUIRE_OUTPUTS", str(settings.outputs_dir))

    token = "" if not opts.auth else (opts.token or os.environ.get("QUIRE_SERVE_TOKEN") or secrets.token_urlsafe(24))
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
        "app_cards": app_cards(settings, apps), "jinja": jinja, "brand": brand,
        "brand_name": client_name or brand.name, "settings": settings,
        "console": console.build(settings, server_client=opts.client, reports=reports, brand=brand,
                                 brand_name=client_name or brand.name),
    }
    app.initialize([])
    host = "127.0.0.1" if opts.ip in ("", "0.0.0.0") else opts.ip
    url = f"http://{host}:{opts.port}{opts.base_url}" + (f"?token={token}" if token else "")
    return app, url


def serve(opts: ServeOptions, settings: Settings, announce=print) -> None:
    """Build the server, announce its URL (with the token) and serve until interrupted."""
    app, url = build_app(opts, settings)
    announce(url)
    app.start()
