"""Typed configuration, read from the environment (``QUIRE_*``) with safe defaults.

Secrets (database passwords, SMTP credentials) come from the environment only;
nothing here is read from files in the repository.
"""

from __future__ import annotations

from functools import lru_cache
import os
import re
import shutil
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from quire.errors import ConfigError
from quire.problems import quoted, requirement

#: The most runs at once that ``QUIRE_SCHEDULER_WORKERS`` or ``--workers`` may ask for.
MAX_WORKERS = 64


def default_workers() -> int:
    """One run at once per core this process may use, at most :data:`MAX_WORKERS` (a bigger host's default
    was refused as a setting above the most, with the variable unset)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


#: The schemes of a Dask scheduler's address that name a host and a port.
DASK_SCHEMES = ("tcp", "tls", "ws", "wss")

#: The checkout this package lives in (``lib/quire`` -> repository root).
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Where Quire finds its catalog, notebooks and templates, and where it writes."""

    model_config = SettingsConfigDict(env_prefix="QUIRE_", extra="ignore")

    home: Path = Field(default=PROJECT_ROOT, description="Project root holding reports.yaml, notebooks/ and templates/.")
    outputs: Path | None = Field(default=None, description="Archive of rendered runs; default <home>/outputs.")
    warehouse_url: str | None = Field(default=None, description="SQLAlchemy URL of the warehouse; default the embedded DuckDB file.")
    state_url: str | None = Field(default=None, description="SQLAlchemy URL of Quire's own state; default a SQLite file.")
    kernel_name: str = Field(default="python3", description="Jupyter kernel that executes the notebooks.")
    # At most a week: the kernel client's clock overflows on ~1e10 s, which failed every run after it had started.
    execution_timeout: int = Field(default=600, ge=1, le=7 * 24 * 3600,
                                   description="Seconds a single cell may run before the run fails (at most a week).")
    # The scheduler service and delivery; see scheduler/README.md.
    run_timeout: int = Field(default=3600, ge=1, description="Default wall-clock seconds of one scheduled run (kernel included).")
    scheduler_workers: int = Field(default_factory=default_workers, ge=1, le=MAX_WORKERS,
                                   description="Runs executed at the same time by the scheduler (default: one per core, at most 64).")
    engine: Literal["batch", "papermill"] = Field(
        default="batch", description="batch: cells run in warm forked workers; papermill: a Jupyter kernel per run.")
    retry_limit: int = Field(default=3, ge=1, description="Attempts of a run that fails for a transient reason (first one included).")
    retry_base_seconds: float = Field(default=60.0, gt=0, description="First retry delay; doubles with each attempt.")
    queue_poll_seconds: float = Field(default=3.0, gt=0, le=60, description="How often the scheduler looks for runs queued from the console and for paused schedules.")
    lease_seconds: int = Field(default=60, ge=3, description="A scheduler that stops heartbeating loses the state database after this.")
    # Ten minutes: long enough for an analyst's next run after a look at the last one, short enough that an idle
    # service (the fork server, Playwright's driver and Chromium: ~0.8 GB) does not outstay a working session by much.
    warm_linger: int = Field(default=600, ge=0, le=7 * 24 * 3600,
                             description="Seconds the warm service a `quire run` leaves behind waits for the next command before it stops; 0: it leaves none.")
    pdf_renderer: Literal["auto", "chromium", "weasyprint"] = Field(
        default="auto", description="PDF renderer: auto (Chromium where installed), chromium or weasyprint.")
    dask_scheduler: str | None = Field(default=None, description="Address of a Dask scheduler (tcp://host:8786) to run batches on; unset: local workers.")
    profile_dir: Path | None = Field(default=None, description="Folder where each batch run writes its cProfile statistics (<run id>.prof); unset: not profiled.")
    chromium: str | None = Field(default=None, description="The Chromium binary that prints PDFs; unset: Debian's headless shell (/usr/bin/chromium-headless-shell), else its desktop /usr/bin/chromium.")
    smtp_host: str | None = Field(default=None, description="SMTP server; unset means e-mail delivery is off.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = Field(default="quire@localhost", description="Sender address of report e-mails.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS before logging in.")
    smtp_timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for the SMTP server.")
    smtp_attempts: int = Field(default=4, ge=1, description="Attempts per e-mail while the server answers 4xx or is unreachable.")
    smtp_backoff_seconds: float = Field(default=2.0, ge=0, description="First wait between SMTP attempts; doubles each time.")

    @field_validator("warehouse_url", "state_url")
    @classmethod
    def _database_url(cls, url: str | None, info: ValidationInfo) -> str | None:
        """A database URL that parses, with a relative file database made absolute.

        A URL that is no URL at all is a setting's mistake, not an outage, named as every other wrong setting is: a
        run must not go on unrecorded (an unreachable database is tolerated where it is used; a malformed URL never
        will connect). ``duckdb:///retail.duckdb`` is taken as the user meant it: beside where the command ran, not
        beside the notebook a run executes in (runs change folder)."""
        if not url:
            return url
        # Imported where a URL is set (SQLAlchemy takes a tenth of a second to import): most commands, and a
        # `quire run` up to the moment it starts its warm server, read settings that name no database.
        from sqlalchemy.engine import make_url

        try:
            parsed = make_url(url)
        except Exception:  # noqa: BLE001 - sqlalchemy's ArgumentError and ValueError alike
            example = ("duckdb:////srv/quire/warehouse.duckdb or postgresql+psycopg://reader@db-host/warehouse"
                       if info.field_name == "warehouse_url" else
                       "sqlite:////srv/quire/state.db or postgresql+psycopg://quire@db-host/quire")
            raise ValueError(f"expected a SQLAlchemy URL such as {example}"
                             + (f"; {PASSWORD_ENCODING}" if masked_url(url) != url else "")) from None
        # 'u:pa@ss@host' parses as host 'ss', and the password's tail went into messages as the host.
        if parsed.password is not None and "@" in url.split("?")[0].split("@", 1)[1]:
            raise ValueError(f"holds an '@' after its user and password; {PASSWORD_ENCODING}")
        name = parsed.database
        if parsed.get_backend_name() in ("duckdb", "sqlite") and name and name != ":memory:" and not Path(name).is_absolute():
            return parsed.set(database=str(Path(name).resolve())).render_as_string(hide_password=False)
        return url

    @field_validator("outputs", "profile_dir")
    @classmethod
    def _a_folder(cls, path: Path | None) -> Path | None:
        """The archive (and the profiles' folder) is a folder, made when missing: a file there failed each run with
        "Not a directory" and no word of the setting."""
        if path is None:
            return path
        existing = nearest_existing(path)  # where creating it would start
        if not existing.is_dir():
            where = "is a file" if existing == path else f"lies inside {existing}, which is a file"
            raise ValueError(f"{where}, not a folder; name a folder (it is created if missing)")
        return path

    @field_validator("smtp_from")
    @classmethod
    def _sender_address(cls, sender: str) -> str:
        """One sender, ``reports@example.com`` or ``Reports <reports@example.com>``: "not an address" went out as the
        envelope sender "not", which a real server refuses for every e-mail of the run."""
        from email.utils import parseaddr

        _, address = parseaddr(sender)
        local, at, domain = address.rpartition("@")
        if not (at and local and domain) or " " in address or not sender.isprintable():
            raise ValueError("expected one e-mail address on one line, such as reports@example.com or "
                             "\"Reports <reports@example.com>\"")
        return sender

    @field_validator("chromium")
    @classmethod
    def _executable(cls, path: str | None) -> str | None:
        """An executable file (a path, or a name on the PATH): checked here, where its variable is named, rather
        than when a run has executed its notebook and comes to print it."""
        if path and shutil.which(path) is None:
            raise ValueError("no executable file there; give the path of Debian's Chromium, e.g. "
                             "/usr/bin/chromium-headless-shell (`.ci/system-packages.sh demo` installs it), or unset it")
        return path or None

    @field_validator("dask_scheduler")
    @classmethod
    def _scheduler_address(cls, address: str | None) -> str | None:
        """A Dask scheduler's address, ``host:port`` with distributed's ``tcp://`` (the default), ``tls://``, ``ws://``
        or ``wss://``: checked here, where its variable can be named, since distributed fails on a malformed one deep
        inside a batch (a traceback, then a minute's wait). Not with distributed's own parser: every command reads
        the settings, and importing distributed would cost each of them half a second."""
        if not address:
            return None
        parts = urlsplit(address if "://" in address else f"tcp://{address}")
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme not in DASK_SCHEMES or not parts.hostname or port is None or parts.path not in ("", "/"):
            raise ValueError("expected a Dask scheduler address such as tcp://scheduler-host:8786")
        return address

    @property
    def outputs_dir(self) -> Path:
        return (self.outputs or self.home / "outputs").resolve()

    @property
    def state_dir(self) -> Path:
        """Quire's private folder inside the archive (warehouse file, state db, temp and failed runs)."""
        return self.outputs_dir / ".quire"

    @property
    def catalog_path(self) -> Path:
        return self.home / "reports.yaml"

    @property
    def notebooks_dir(self) -> Path:
        return self.home / "notebooks"

    @property
    def templates_dir(self) -> Path:
        return self.home / "templates"

    @property
    def default_warehouse_path(self) -> Path:
        return self.state_dir / "warehouse.duckdb"

    @property
    def state(self) -> str:
        """The effective URL of Quire's own state database (job store, run history, outbox, lease)."""
        return self.state_url or f"sqlite:///{self.state_dir / 'state.db'}"

    @property
    def warehouse(self) -> str:
        """The effective warehouse URL."""
        return self.warehouse_url or f"duckdb:///{self.default_warehouse_path}"


def settings_environment(settings: Settings) -> dict[str, str]:
    """The ``QUIRE_*`` variables under which :func:`get_settings` in another process returns ``settings``."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"QUIRE_{name.upper()}"] = str(value)
    return env


def nearest_existing(path: Path) -> Path:
    """``path`` or the nearest of its parents that exists: where creating it would start."""
    return next(p for p in (path, *path.parents) if p.exists())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process (cached; tests call ``get_settings.cache_clear()`` after changing the environment).

    Raises :class:`~quire.errors.ConfigError` naming each ``QUIRE_*`` variable whose value is wrong.
    """
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError("; ".join(_setting_problem(e) for e in exc.errors()),
                          hint="fix or unset it; the README's Configuration table lists every setting") from None


def _setting_problem(error: dict) -> str:
    name = "QUIRE_" + str(error["loc"][0] if error["loc"] else "").upper()
    message = requirement(error)
    given = error.get("input")
    if name.endswith("_URL") and isinstance(given, str):  # a database URL's password stays out of logs and terminals
        given = masked_url(given)
    return f"{name}={quoted(given)}: {message[0].lower()}{message[1:]}"


#: What to do about a password that breaks its URL.
PASSWORD_ENCODING = "special characters in a password ('@', '/', ':', '#', '%') must be percent-encoded (an '@' as %40)"

#: A URL's ``scheme://user:`` and everything after it up to the last '@': the password, however malformed the URL.
_PASSWORD = re.compile(r"^([\w+.-]+://[^:/?#@]*:).*@", re.DOTALL)


def masked_url(url: str) -> str:
    """``url`` with its password shown as ``***``, for a URL that does not parse too (a mistyped port, an '@' in
    the password): up to the last '@', so that no part of the password is printed."""
    return _PASSWORD.sub(r"\1***@", url)


def replace_environment(values: dict[str, str]) -> None:
    """Make ``values`` this process's only ``QUIRE_*`` variables, and :func:`get_settings` read them afresh."""
    for name in [k for k in os.environ if k.startswith("QUIRE_")]:
        del os.environ[name]
    os.environ.update(values)
    get_settings.cache_clear()
