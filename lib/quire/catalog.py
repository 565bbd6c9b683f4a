"""The report catalog: ``reports.yaml`` parsed into typed, validated :class:`ReportSpec` objects.

A catalog entry says *which* notebook a report runs and *how* its parameters may be
set from outside; the notebook's ``parameters`` cell says their names and defaults.
:func:`quire.parameters.declared_parameters` reconciles the two.
"""

from __future__ import annotations

import keyword
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from quire import yamltext
from quire.errors import ConfigError
from quire.problems import worded

ReportId = Annotated[str, StringConstraints(pattern=worded(
    r"^[a-z][a-z0-9_-]{0,39}$", "start with a lower-case letter and hold only lower-case letters, digits, '-' and "
    "'_' (40 at most), e.g. weekly-sales"))]
# period, client and experiment are also checked against the warehouse before a run.
ParamType = Literal["str", "int", "float", "bool", "date", "period", "choice", "brand", "client", "experiment"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Model):
    """How one notebook parameter may be set from outside (CLI, schedule, app)."""

    type: ParamType
    help: str = ""
    choices: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _choices_only_for_choice(self) -> "ParameterSpec":
        if (self.type == "choice") != bool(self.choices):
            raise ValueError("'choices' is required for type 'choice' and only allowed there")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min:g}) is above 'max' ({self.max:g}): no value could be given")
        return self


# The client fields a fan-out can be narrowed by (``quire run --clients``, a schedule's ``clients``).
FAN_OUT_FIELDS = ("sector", "plan", "region", "brand")


class ScheduleSpec(_Model):
    """When the scheduler runs a report, and how (used by the scheduler service; see scheduler/README.md).

    A cron expression (5 fields, read in ``timezone``) or an interval. ``parameters``
    are the run's fixed parameters; ``clients`` narrows a per-client report's fan-out
    (``field: value`` as ``quire run --clients``). ``timeout_seconds`` bounds a whole run
    (kernel included); a run later than ``misfire_grace_seconds`` after its due time is
    skipped (missed runs are coalesced into one either way).
    """

    cron: str | None = None
    interval_minutes: int | None = Field(default=None, ge=1)
    # Seconds: for demos and the service tests; production schedules use cron or minutes.
    interval_seconds: int | None = Field(default=None, ge=1)
    timezone: str = "UTC"
    parameters: dict[str, str | int | float | bool] = Field(default_factory=dict)
    clients: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: int | None = Field(default=None, ge=1)
    misfire_grace_seconds: int = Field(default=3600, ge=1)

    @field_validator("clients")
    @classmethod
    def _known_fields(cls, filters: dict[str, str]) -> dict[str, str]:
        # Checked here so `quire validate` finds a typo, not the first due time.
        from quire.parameters import did_you_mean

        for name in filters:
            if name not in FAN_OUT_FIELDS:
                raise ValueError(f"cannot select clients by {name!r}; {did_you_mean(name, FAN_OUT_FIELDS)}"
                                 f"use one of {', '.join(FAN_OUT_FIELDS)}")
        return filters

    @model_validator(mode="after")
    def _one_trigger(self) -> "ScheduleSpec":
        given = [x for x in (self.cron, self.interval_minutes, self.interval_seconds) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'cron', 'interval_minutes' or 'interval_seconds'")
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}; use an IANA name such as Europe/Berlin") from None
        if self.cron is not None:
            from quire.crontab import crontab_trigger

            try:
                trigger = crontab_trigger(self.cron, zone)
            except ValueError as exc:
                raise ValueError(f"cron {self.cron!r} is not a valid 5-field expression ({exc})") from None
            # "0 7 31 2 *" parses but no day matches it: the report would never run, and nothing would say so.
            if trigger.get_next_fire_time(None, datetime.now(zone)) is None:
                raise ValueError(f"cron {self.cron!r} never fires: no date matches it (31 February?)")
        return self


class ReportSpec(_Model):
    """One report type of the catalog."""

    id: ReportId
    title: str
    notebook: str
    description: str
    owner: str
    brand: str = "quire"
    formats: tuple[Literal["html", "pdf"], ...] = ("html", "pdf")
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    schedule: ScheduleSpec | None = None
    fan_out: Literal["none", "clients"] = "none"
    recipients: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _clients_only_when_fanned_out(self) -> "ReportSpec":
        if self.schedule and self.schedule.clients and self.fan_out != "clients":
            raise ValueError("schedule.clients narrows a per-client fan-out; this report has no 'fan_out: clients'")
        if self.schedule and "client" in self.schedule.parameters and self.fan_out == "clients":
            # Each run of the fan-out sets its own client: the fixed one passed every check and was never used.
            raise ValueError("schedule.parameters.client: the scheduler runs this report once for each client that "
                             "schedule.clients selects (every active client without it), so a fixed client is never "
                             "used; remove it, and narrow the clients with schedule.clients (e.g. {sector: "
                             "municipality}) if need be")
        return self

    @field_validator("parameters")
    @classmethod
    def _names_python_can_assign(cls, parameters: dict[str, ParameterSpec]) -> dict[str, ParameterSpec]:
        # A run sets each parameter as a variable of the notebook: "class" or "min-events" passed every check and
        # then failed the run with a SyntaxError in a cell the analyst never wrote.
        for name in parameters:
            if keyword.iskeyword(name):
                raise ValueError(f"parameter {name!r} is a Python keyword, which no variable can be named (a run "
                                 f"sets each parameter as one in the notebook); rename it, e.g. {name + '_name'!r}")
            if not name.isidentifier():
                raise ValueError(f"parameter {name!r} is not a Python name, which a run needs (it sets each parameter "
                                 "as a variable in the notebook): use letters, digits and underscores, e.g. 'min_events'")
        return parameters

    @field_validator("notebook")
    @classmethod
    def _notebook_inside_the_project(cls, value: str) -> str:
        # A path is read relative to QUIRE_HOME: "../../etc/passwd" or "/etc/x" would run a file from elsewhere.
        path = Path(value)
        if path.is_absolute() or ".." in path.parts or path.suffix != ".ipynb":
            raise ValueError(f"{value!r}: give a notebook inside the project, relative to it, e.g. notebooks/report.ipynb")
        return value

    @field_validator("formats")
    @classmethod
    def _html_always(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        # The HTML is the report (the archive, the e-mail and the PDF are made from it): it cannot be left out.
        if "html" not in values:
            raise ValueError("must include html (the PDF is printed from it); e.g. [html] or [html, pdf]")
        return values

    @field_validator("owner")
    @classmethod
    def _owner_is_an_address(cls, value: str) -> str:
        _one_address(value)
        return value

    @field_validator("recipients")
    @classmethod
    def _recipients_are_addresses(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            _one_address(value)
        return values

    def notebook_path(self, home: Path) -> Path:
        return (home / self.notebook).resolve()


def _one_address(value: str) -> None:
    """Owners and recipients are mailed: refuse at validation what delivery would refuse after the run."""
    from quire.delivery.headers import one_recipient
    from quire.errors import DeliveryError

    try:
        one_recipient(value)
    except DeliveryError as exc:
        raise ValueError(exc.message) from None


class Catalog(_Model):
    reports: dict[str, ReportSpec]

    def get(self, report_id: str) -> ReportSpec:
        """The spec of ``report_id``, or a :class:`ConfigError` listing the known reports."""
        from quire.parameters import did_you_mean  # it imports this module

        try:
            return self.reports[report_id]
        except KeyError:
            known = ", ".join(sorted(self.reports)) or "none"
            raise ConfigError(f"unknown report {report_id!r}; {did_you_mean(report_id, self.reports)}the catalog has: "
                              f"{known}", report=report_id) from None


def _describe(error: ValidationError, path: Path) -> str:
    from quire.problems import describe

    where, message = describe(error, Catalog, hidden={"id"})[0]  # the report's id is its key
    return f"{path}: {'.'.join(str(p) for p in where)}: {message}"


def load_catalog(path: Path) -> Catalog:
    """Read and validate the catalog; every problem becomes a one-line :class:`ConfigError`."""
    try:
        raw: Any = yamltext.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"catalog not found: {path}", hint="set QUIRE_HOME to the project folder") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r})",
                          hint="save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the catalog {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("reports"), dict):
        raise ConfigError(f"{path}: expected a mapping with a 'reports' key")
    entries = {rid: {"id": rid, **(body or {})} for rid, body in raw["reports"].items()}
    try:
        return Catalog(reports=entries)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
