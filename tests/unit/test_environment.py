"""environment.yml (analysts' conda env) must list exactly the packages and versions of pyproject.toml."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from support import quire_free_env

ROOT = Path(__file__).resolve().parents[2]


def _normalise(requirement: str) -> tuple[str, str]:
    # Extras such as psycopg[binary] are pip's business; conda-forge's package carries no extras.
    name, spec = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(.*)$", requirement.strip()).groups()
    return re.sub(r"[-_.]+", "-", name).lower(), spec.replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = {_normalise(d) for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python=", "pip"))}
    assert listed == wanted, f"only in environment.yml: {listed - wanted}; only in pyproject: {wanted - listed}"


def test_a_relative_file_database_url_means_the_folder_the_command_ran_in(tmp_path, monkeypatch):
    # Runs execute inside notebooks/: the README's duckdb:///retail.duckdb must still name ./retail.duckdb.
    from quire.config import Settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUIRE_WAREHOUSE_URL", "duckdb:///retail.duckdb")
    monkeypatch.setenv("QUIRE_STATE_URL", "sqlite:///state.db")
    s = Settings()
    assert s.warehouse == f"duckdb:///{tmp_path / 'retail.duckdb'}" and s.state == f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("QUIRE_WAREHOUSE_URL", "postgresql+psycopg://u:p@h/db")
    assert Settings().warehouse == "postgresql+psycopg://u:p@h/db"


def test_the_readmes_configuration_table_names_every_setting():
    # Every wrong setting's error sends the reader to this table; it lacked the state, retry and SMTP ones.
    from quire.config import Settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Configuration (environment only)", 1)[1].split("\n\n", 2)[1]
    missing = [f"QUIRE_{name.upper()}" for name in Settings.model_fields if f"`QUIRE_{name.upper()}`" not in table]
    assert not missing, missing


def _setting(monkeypatch, variable: str, value: str, refused: str | None) -> str | None:
    """The value Settings read from ``variable=value``, or (``refused``) the check that it is a ConfigError saying so."""
    from quire.config import get_settings
    from quire.errors import ConfigError

    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    try:
        if refused is None:
            return getattr(get_settings(), variable.removeprefix("QUIRE_").lower())
        with pytest.raises(ConfigError, match=f"{variable}=.*{refused}"):
            get_settings()
        return None
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("address, ok", [("tcp://scheduler:8786", True), ("scheduler:8786", True), ("tls://10.0.0.5:8786", True),
                                         ("ws://h:8786", True), ("tcp://127.0.0.1", False), ("notaurl", False),
                                         ("tcp://h:port", False), ("http://h:8786", False)])
def test_a_dask_scheduler_address_is_one_distributed_reads(monkeypatch, address, ok):
    # distributed takes "scheduler:8786" as tcp (it was refused); one without a port raised deep in a batch.
    read = _setting(monkeypatch, "QUIRE_DASK_SCHEDULER", address, None if ok else "expected a Dask scheduler address")
    assert read == (address if ok else None)


@pytest.mark.parametrize("url, ok", [("sqlite:////srv/quire/state.db", True), ("postgresql+psycopg://q@db/quire", True),
                                     ("garbage", False), ("sqlite//state.db", False)])
def test_a_state_url_that_is_no_url_is_a_setting_error_not_an_unrecorded_run(monkeypatch, url, ok):
    # QUIRE_STATE_URL=garbage only warned: the run published, unrecorded, with exit 0.
    read = _setting(monkeypatch, "QUIRE_STATE_URL", url, None if ok else "expected a SQLAlchemy URL")
    assert read == (url if ok else None)


@pytest.mark.parametrize("variable, url, shown", [
    ("QUIRE_WAREHOUSE_URL", "postgresql+psycopg://reader:s3cretpw@db-host:54x2/warehouse",
     "'postgresql+psycopg://reader:***@db-host:54x2/warehouse': expected a SQLAlchemy URL"),
    ("QUIRE_STATE_URL", "postgresql+psycopg://quire:s3cretpw@db-host:54x2/quire",
     "'postgresql+psycopg://quire:***@db-host:54x2/quire': expected a SQLAlchemy URL"),
    # An unencoded '@': the password's tail ('wd') was printed as the host, the rest as the database.
    ("QUIRE_WAREHOUSE_URL", "postgresql+psycopg://u:pa@ss/wd@127.0.0.1:1/db",
     "'postgresql+psycopg://u:***@127.0.0.1:1/db': holds an '@' after its user and password")])
def test_a_database_url_that_is_refused_never_shows_its_password(monkeypatch, variable, url, shown):
    # A mistyped port echoed the whole URL, password and all, to the terminal and the scheduler's journal.
    from quire.config import get_settings
    from quire.errors import ConfigError

    monkeypatch.setenv(variable, url)
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError) as refused:
            get_settings()
    finally:
        get_settings.cache_clear()
    assert str(refused.value).startswith(f"{variable}={shown}"), str(refused.value)
    assert "s3cretpw" not in str(refused.value) and "pa@ss" not in str(refused.value) and "wd" not in str(refused.value)
    assert "special characters in a password ('@', '/', ':', '#', '%') must be percent-encoded" in str(refused.value)


def test_a_percent_encoded_password_is_a_url_as_any_other(monkeypatch):
    url = "postgresql+psycopg://u:pa%40ss%2Fwd@db-host:5432/db"
    assert _setting(monkeypatch, "QUIRE_WAREHOUSE_URL", url, None) == url


def test_a_cell_timeout_too_big_to_wait_for_is_a_setting_error_not_a_failed_run(monkeypatch):
    # 10000000000 passed the check, then every run failed with "OverflowError: timestamp too large".
    assert _setting(monkeypatch, "QUIRE_EXECUTION_TIMEOUT", "604800", None) == 604800
    _setting(monkeypatch, "QUIRE_EXECUTION_TIMEOUT", "10000000000", r"'10000000000': should be less than or equal to 604800")


def test_a_chromium_that_is_not_there_is_a_setting_error_not_a_failed_print(monkeypatch, tmp_path):
    # QUIRE_CHROMIUM=/nonexistent ran the notebook, then failed at the print with Playwright's launch command line.
    assert _setting(monkeypatch, "QUIRE_CHROMIUM", "/bin/sh", None) == "/bin/sh"
    plain = tmp_path / "chromium"
    plain.write_text("not a program")
    for wrong in ("/nonexistent/chromium", str(plain)):
        _setting(monkeypatch, "QUIRE_CHROMIUM", wrong, "no executable file there; give the path of Debian's Chromium")


def test_the_headless_shell_prints_where_installed_else_the_desktop_browser(monkeypatch, tmp_path):
    from quire.pdf import chromium

    shell, desktop = tmp_path / "chromium-headless-shell", tmp_path / "chromium"
    monkeypatch.setattr(chromium, "HEADLESS_SHELL", str(shell))
    monkeypatch.setattr(chromium, "CHROMIUM", str(desktop))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # nothing on the PATH either
    monkeypatch.delenv("QUIRE_CHROMIUM", raising=False)
    assert chromium.chromium_path() is None
    desktop.touch()
    assert chromium.chromium_path() == str(desktop)  # a machine set up before the shell was installed
    shell.touch()
    assert chromium.chromium_path() == str(shell)
    monkeypatch.setenv("QUIRE_CHROMIUM", "/opt/chromium/chrome")  # the setting wins
    assert chromium.chromium_path() == "/opt/chromium/chrome"


def test_a_program_that_is_no_chromium_fails_its_print_naming_the_setting(tmp_path):
    from quire.errors import RenderError
    from quire.pdf.chromium import PrintService

    with PrintService("/bin/true") as service, pytest.raises(RenderError) as failed:
        service.wait_ready(timeout=60)
    assert "/bin/true is not a Chromium that starts" in failed.value.message
    assert "QUIRE_CHROMIUM" in failed.value.hint and "--disable" not in str(failed.value)


@pytest.mark.parametrize("sender, ok", [("quire@localhost", True), ("reports@example.com", True),
                                        ("Reports <reports@example.com>", True), ("not an address", False),
                                        ("reports@example.com\r\nBcc: x@example.com", False), ("x@", False),
                                        ("a b@example.com", False)])
def test_a_sender_that_is_no_address_is_a_setting_error(monkeypatch, sender, ok):
    # QUIRE_SMTP_FROM='not an address' went out as "From: not an address" with the envelope sender "not".
    read = _setting(monkeypatch, "QUIRE_SMTP_FROM", sender, None if ok else "expected one e-mail address on one line")
    assert read == (sender if ok else None)


def test_a_machine_with_more_cores_than_the_scheduler_may_run_at_once_still_has_settings(monkeypatch):
    # The default (one run per core) was validated against the most a setting may ask (64): on a 96-core host,
    # with QUIRE_SCHEDULER_WORKERS unset, every command failed with "should be less than or equal to 64".

    from quire.config import Settings

    monkeypatch.delenv("QUIRE_SCHEDULER_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(96)))
    assert Settings().scheduler_workers == 64
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    assert Settings().scheduler_workers == 2


def test_reading_settings_that_name_no_database_does_not_import_sqlalchemy(tmp_path):
    # A tenth of a second of every command's start (and of a `quire run` before its warm server starts).
    probe = ("import sys; import quire.cli; from quire.config import get_settings; s = get_settings(); "
             "print('sqlalchemy' in sys.modules, s.state_url)")
    env = quire_free_env() | {"QUIRE_OUTPUTS": str(tmp_path)}
    plain = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0 and plain.stdout.split()[0] == "False", plain.stdout + plain.stderr
    # A relative SQLite URL is still made absolute, with SQLAlchemy imported for it.
    named = subprocess.run([sys.executable, "-c", probe], env=env | {"QUIRE_STATE_URL": "sqlite:///state.db"},
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert named.stdout.split() == ["True", f"sqlite:///{tmp_path.resolve()}/state.db"], named.stdout + named.stderr
