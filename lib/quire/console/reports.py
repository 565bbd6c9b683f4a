"""The catalog as the console shows it: reports, their parameters as form fields and as JSON Schema.

Both the run form and the API's schema come from one source: the catalog's
:class:`~quire.catalog.ParameterSpec` joined with the notebook's declared parameters
(:func:`quire.parameters.declared_parameters`), with the values the warehouse offers for
``client``, ``experiment`` and ``period``. A request is validated by the same
:func:`quire.pipeline.prepare` as ``quire run``, so the form, the API and the CLI accept
and refuse exactly the same values with the same one-line messages.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from quire.catalog import Catalog, ReportSpec, load_catalog
from quire.config import Settings
from quire.console.access import Access
from quire.errors import ParameterError, QuireError
from quire.parameters import DeclaredParameter, declared_parameters
from quire.periods import LATEST, Period, add_months

#: Seconds the warehouse's lists (clients, experiments, data range) are reused before being read again.
OPTIONS_TTL = 60.0
PERIOD_PATTERN = r"^(latest|\d{4}(-(0[1-9]|1[0-2])|-[Qq][1-4])?)$"


class AccessError(QuireError):
    """The request's token may not do this (another client's run, a role too low)."""


class NotFound(QuireError):
    """No such report, run or file (for this requester)."""


@dataclass(frozen=True)
class Options:
    """What the warehouse offers: active clients (slug, name), experiments (key, name), complete months."""

    clients: tuple[tuple[str, str], ...] = ()
    experiments: tuple[tuple[str, str], ...] = ()
    first_month: date | None = None
    last_month: date | None = None
    error: str | None = None  # the warehouse could not be read: forms still work, lists are empty

    @cached_property
    def client_labels(self) -> dict[str, str]:
        """Each active client's name for display, with its slug beside it where another client's name reads the
        same (two clients called "Acme Ltd", or one with a zero-width space in it): no list shows two alike."""
        reads = Counter(_reading(name) for _, name in self.clients)
        return {slug: f"{name} ({slug})" if reads[_reading(name)] > 1 else name for slug, name in self.clients}

    def periods(self) -> list[tuple[str, str]]:
        """(key, label) suggestions: latest, the last 12 months, 4 quarters and 2 years within the data."""
        if self.last_month is None or self.first_month is None:
            return [("latest", "Latest complete month")]
        found = [("latest", f"Latest complete month ({self.last_month:%B %Y})")]
        candidates = [Period(add_months(self.last_month, -k), "month") for k in range(12)]
        q_last = date(self.last_month.year, 3 * ((self.last_month.month - 1) // 3) + 1, 1)
        if add_months(q_last, 2) > self.last_month:  # the quarter of the last month is not complete yet
            q_last = add_months(q_last, -3)
        candidates += [Period(add_months(q_last, -3 * k), "quarter") for k in range(4)]
        y_end = self.last_month.year if self.last_month.month == 12 else self.last_month.year - 1
        candidates += [Period(date(y_end - k, 1, 1), "year") for k in range(2)]
        for p in candidates:
            if p.start >= self.first_month and p.last_month <= self.last_month:
                found.append((p.key, p.label))
        return found


def _reading(name: str) -> str:
    """How a name reads on screen: compatibility forms folded (a full-width "Ａ" is "A"), the characters shown as
    nothing dropped (zero-width space, joiners, direction marks) and runs of spaces as one."""
    shown = "".join(c for c in unicodedata.normalize("NFKC", name) if unicodedata.category(c) != "Cf")
    return " ".join(shown.split())


class ReportCatalog:
    """The reports of the catalog with their declared parameters, cached per catalog and notebook change."""

    def __init__(self, settings: Settings, reports: list[str] | None = None) -> None:
        self.settings = settings
        self.only = set(reports) if reports is not None else None
        self._lock = threading.Lock()
        self._catalog: tuple[float, Catalog] | None = None
        self._declared: dict[str, tuple[float, dict[str, DeclaredParameter]]] = {}
        self._options: tuple[float, Options] | None = None

    # -- the catalog and each report's declared parameters ---------------------------------
    def catalog(self) -> Catalog:
        mtime = self.settings.catalog_path.stat().st_mtime
        with self._lock:
            if self._catalog is None or self._catalog[0] != mtime:
                self._catalog = (mtime, load_catalog(self.settings.catalog_path))
            return self._catalog[1]

    def reports(self, access: Access | None = None) -> list[ReportSpec]:
        """The reports this server offers (a client's user: those with a client parameter), in catalog order."""
        return [s for s in self.catalog().reports.values() if (self.only is None or s.id in self.only)
                and (access is None or not access.client or is_client_report(s))]

    def get(self, report_id: str, access: Access | None = None) -> ReportSpec:
        """A report of this server (for this requester); :class:`NotFound` naming the known ones otherwise."""
        offered = {s.id: s for s in self.reports(access)}
        spec = offered.get(report_id)
        if spec is None:
            known = ", ".join(offered) or "none"
            raise NotFound(f"unknown report {report_id!r}; this server has: {known}", report=report_id)
        return spec

    def declared(self, spec: ReportSpec) -> dict[str, DeclaredParameter]:
        """The notebook's parameters typed by the catalog (read again only when the notebook changes)."""
        mtime = spec.notebook_path(self.settings.home).stat().st_mtime
        key = f"{spec.id}:{spec.notebook}"
        with self._lock:
            hit = self._declared.get(key)
            if hit and hit[0] == mtime:
                return hit[1]
        declared = declared_parameters(spec, self.settings.home)
        with self._lock:
            self._declared[key] = (mtime, declared)
        return declared

    # -- what the warehouse offers ----------------------------------------------------------
    def options(self) -> Options:
        now = time.monotonic()
        with self._lock:
            if self._options and self._options[0] > now:
                return self._options[1]
        options = self._read_options()
        with self._lock:
            self._options = (now + (OPTIONS_TTL if options.error is None else 5.0), options)
        return options

    def _read_options(self) -> Options:
        from quire.warehouse import queries
        from quire.warehouse.engine import connection

        try:
            with connection(self.settings.warehouse) as conn:
                clients = queries.clients(conn)
                experiments = queries.experiments(conn)
                first, last = queries.data_range(conn)
        except Exception as exc:  # the pages must still render; the run form then says why its lists are empty
            return Options(error=f"the warehouse cannot be read ({str(exc).splitlines()[0][:200]})")
        active = queries.offered_clients(clients)
        experiments = experiments.dropna(subset=["key"])  # runs are named by key: without one it is no choice
        return Options(
            clients=tuple(zip(active["slug"].astype(str), active["name"].astype(str))),
            experiments=tuple(zip(experiments["key"].astype(str), experiments["name"].astype(str))),
            first_month=first, last_month=last)

    def client_name(self, slug: str | None, *, with_slug: bool = False) -> str:
        """A client's name for display: ``Options.client_labels``'s, or always "name (slug)" ``with_slug``; its
        slug alone if the warehouse has no such active client."""
        if not slug:
            return ""
        options = self.options()
        if with_slug:
            name = dict(options.clients).get(slug, slug)
            return name if name == slug else f"{name} ({slug})"
        return options.client_labels.get(slug, slug)

    # -- validation: the same path as `quire run` -------------------------------------------
    def plan(self, report_id: str, given: dict[str, Any], access: Access):
        """Validate a run request as ``quire run`` does and check the requester may make it; the RunPlan."""
        from quire.pipeline import prepare

        spec = self.get(report_id, access)
        given = dict(given)
        if access.client:
            client_params = [n for n, p in spec.parameters.items() if p.type == "client"]
            if not client_params:
                raise AccessError(f"report '{spec.id}' is not a client report; this token runs "
                                  f"reports of client '{access.client}' only")
            for name in client_params:
                value = str(given.setdefault(name, access.client)).strip()
                if value != access.client:
                    raise AccessError(f"parameter '{name}': this token may run reports of client "
                                      f"'{access.client}' only, not {value!r}")
        plan = prepare(spec.id, given, self.settings)
        if access.client and (plan.tenant is None or plan.tenant.slug != access.client):
            raise AccessError(f"this token may run reports of client '{access.client}' only")
        return plan


def is_client_report(spec: ReportSpec) -> bool:
    """Whether a report runs for one client (it has a ``client`` parameter)."""
    return any(p.type == "client" for p in spec.parameters.values())


# --------------------------------------------------------------------------------------- fields
@dataclass
class Field:
    """One parameter as a form field and as JSON Schema."""

    name: str
    type: str
    label: str
    help: str
    default: Any
    choices: list[tuple[str, str]]  # (value, label); empty for free input
    min: float | None = None
    max: float | None = None
    fixed: bool = False  # a client user's own client: shown, not editable

    @property
    def input(self) -> str:
        """The HTML control: select, checkbox, number, date or text (with suggestions)."""
        if self.type == "bool":
            return "checkbox"
        if self.type in ("choice", "brand", "client", "experiment"):
            return "select"
        if self.type in ("int", "float"):
            return "number"
        return "date" if self.type == "date" else "text"

    @property
    def step(self) -> str:
        return "1" if self.type == "int" else "any"

    def schema(self) -> dict[str, Any]:
        """This parameter as JSON Schema (draft 2020-12)."""
        out: dict[str, Any] = {"title": self.label, "description": self.help, "x-quire-type": self.type}
        if self.type == "int":
            out["type"] = "integer"
        elif self.type == "float":
            out["type"] = "number"
        elif self.type == "bool":
            out["type"] = "boolean"
        else:
            out["type"] = "string"
        number = int if self.type == "int" else float
        if self.min is not None:
            out["minimum"] = number(self.min)
        if self.max is not None:
            out["maximum"] = number(self.max)
        if self.type == "date":
            out["format"] = "date"
        elif self.type == "period":
            out["pattern"] = PERIOD_PATTERN
            out["examples"] = [value for value, _ in self.choices[:4]]
        elif self.type == "str":
            out.update(minLength=1, maxLength=200)
        elif self.choices:
            out["enum"] = [value for value, _ in self.choices]
        if self.default not in (None, "") or self.type in ("bool", "int", "float"):
            out["default"] = self.default
        return out


def fields(spec: ReportSpec, declared: dict[str, DeclaredParameter], options: Options,
           access: Access) -> list[Field]:
    """The report's parameters as form fields, in the notebook's order, scoped to the requester."""
    from quire.brand import list_brands

    found = []
    for name, d in declared.items():
        p = d.spec
        choices: list[tuple[str, str]] = []
        fixed = False
        if p.type == "choice":
            choices = [(c, c) for c in p.choices or ()]
        elif p.type == "brand":
            choices = [(b, b) for b in list_brands()]
        elif p.type == "client":
            choices = [(slug, name_) for slug, name_ in options.clients if access.sees(slug)]
            fixed = access.client is not None
        elif p.type == "experiment":
            newest = options.experiments[-1][1] if options.experiments else None  # oldest first
            choices = [(LATEST, f"Latest ({newest})" if newest else "Latest"), *options.experiments]
        elif p.type == "period":
            choices = options.periods()
        default = access.client if fixed else d.default
        found.append(Field(name, p.type, name.replace("_", " ").capitalize(), d.help or p.help, default, choices,
                           p.min, p.max, fixed))
    return found


def parameters_schema(report_id: str, report_fields: list[Field]) -> dict[str, Any]:
    """The JSON Schema of a report's ``parameters`` object (every parameter optional: defaults apply)."""
    required = [f.name for f in report_fields if f.type == "client"]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": f"Parameters of {report_id}",
            "type": "object", "additionalProperties": False,
            "properties": {f.name: f.schema() for f in report_fields}, "required": required}


#: Fields of a posted form that are no parameter: the cross-site request forgery token.
FORM_CONTROLS = ("_xsrf",)


def form_values(arguments: dict[str, list[bytes]], report_fields: list[Field]) -> dict[str, str]:
    """A posted form's values for the declared parameters (blank fields: the notebook's default).

    Raises :class:`ParameterError` for a field the form does not have or a value given twice, as the API and
    ``quire run`` refuse them: the form itself sends neither (a checkbox's hidden "false" beside its "true" aside).
    """
    known = {f.name: f for f in report_fields}
    unknown = sorted(set(arguments) - set(known) - set(FORM_CONTROLS))
    if unknown:
        raise ParameterError(f"unknown parameter {unknown[0]!r}; this report takes {', '.join(known) or 'none'}",
                             parameter=unknown[0])
    values: dict[str, str] = {}
    for f in report_fields:
        raw = [v.decode("utf-8", "replace") for v in arguments.get(f.name, [])]
        if f.type == "bool":
            values[f.name] = "true" if "true" in raw else "false"
            continue
        if len(raw) > 1:
            raise ParameterError(f"parameter '{f.name}' was given {len(raw)} times; give it once", parameter=f.name)
        if raw and raw[0].strip():
            values[f.name] = raw[0].strip()
    return values


def json_safe(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as stored in the run history (dates as ISO text)."""
    import json

    return json.loads(json.dumps(params, default=str))


def problem(exc: QuireError) -> tuple[int, dict[str, Any]]:
    """HTTP status and JSON body of a Quire error: the CLI's one-line message, and the parameter if any."""
    from quire.errors import ConfigError, StateError, WarehouseError

    status = (403 if isinstance(exc, AccessError) else 404 if isinstance(exc, NotFound) else
              422 if isinstance(exc, ParameterError) else 503 if isinstance(exc, (WarehouseError, StateError)) else
              500 if isinstance(exc, ConfigError) else 400)
    body: dict[str, Any] = {"error": str(exc), "status": status}
    if getattr(exc, "parameter", None):
        body["parameter"] = exc.parameter
    return status, body
