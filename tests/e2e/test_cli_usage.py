"""The ``quire`` command as a newcomer meets it, through the installed entry point.

Usage mistakes print the usage and one error line (exit 2); bad parameter values are
refused before anything runs, in one line that quotes outside text safely; the
listings (clients, experiments, runs) are sorted and readable in a 100-column terminal.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest

from support import published_runs

QUIRE = Path(sys.executable).parent / "quire"  # the console script pip installed, as a user runs it


def quire(env: dict[str, str], *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(QUIRE), *args], env=env, capture_output=True, text=True, timeout=timeout)


def first_column(listing: str) -> list[str]:
    """The first cell of each row of a listing (a row's wrapped lines start with spaces)."""
    lines = listing.splitlines()[2:]  # after the header and its rule
    return [line.split()[0] for line in lines if line.strip() and not line.startswith(" ")]


def assert_nothing_written(outputs: Path) -> None:
    for report in ("executive", "experiment", "client", "cohort"):
        assert not published_runs(outputs, report)
    assert not list(outputs.glob("_failed/*")) and not list(outputs.glob(".quire/staging/*"))


@pytest.mark.parametrize("args", [
    ["brand", "check"],            # a missing argument
    ["runs", "show"],              # a missing argument of a sub-command
    ["nosuch"],                    # an unknown command
    ["run", "--foo"],              # an unknown option
    ["runs", "--limit", "abc"],    # a value of the wrong type
    ["run"],                       # neither a report nor --all
    ["warehouse", "build", "--scale", "huge"],
])
def test_usage_mistakes_print_usage_and_one_error_line(quire_env, args):
    proc = quire(quire_env, *args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("Usage: quire") and len(lines) <= 4, proc.stderr
    assert [line for line in lines if line.startswith("Error: ")] == [lines[-1]]


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e999", "-Infinity"])
def test_a_float_parameter_must_be_finite(quire_env, value):
    proc = quire(quire_env, "run", "experiment", "-p", "experiment=homepage-aa", "-p", f"level={value}")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: parameter 'level': '{value}' is not a finite number"]
    assert_nothing_written(Path(quire_env["QUIRE_OUTPUTS"]))


def test_a_refused_run_leaves_no_process_behind_to_hold_its_output(quire_env, tmp_path):
    # `out=$(quire run …)` returns when every holder of the output has closed it: a warm server
    # still importing after the command refused its parameters would keep the caller waiting.
    mark = uuid.uuid4().hex
    with open(tmp_path / "stderr", "w") as stderr:
        proc = subprocess.Popen([str(QUIRE), "run", "executive", "-p", "period=someday"], stdout=subprocess.DEVNULL,
                                stderr=stderr, env={**quire_env, "QUIRE_TEST_MARK": mark})
        assert proc.wait(timeout=120) == 2
    assert "period" in (tmp_path / "stderr").read_text()
    left = []
    for other in psutil.process_iter(["environ", "cmdline", "status"]):
        # multiprocessing's resource tracker ends when it reads the end of the command's pipe: not a holder
        if (other.info["environ"] or {}).get("QUIRE_TEST_MARK") == mark and other.info["status"] != psutil.STATUS_ZOMBIE \
                and "resource_tracker" not in " ".join(other.info["cmdline"] or []):
            left.append(other.info["cmdline"])
    assert not left


@pytest.mark.parametrize("param,shown", [
    ("bad\nname=1", r"'bad\nname'"),                   # a newline in a name is escaped, not echoed raw
    ("period=" + "9" * 5000, "'" + "9" * 60 + "…'"),   # a long value is cut
    ("brand=" + "b" * 5000, "'" + "b" * 60 + "…'"),
    ("forecast_months=" + "7" * 5000, "'" + "7" * 60 + "…'"),
    ("period=[/red]", "'[/red]'"),                     # text that looks like terminal markup is shown as it is
    ("brand=\x1b[31mred", r"'\x1b[31mred'"),           # and a terminal escape sequence is escaped
])
def test_parameter_errors_quote_outside_text_on_one_short_line(quire_env, param, shown):
    proc = quire(quire_env, "run", "executive", "-p", param)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    [line] = proc.stderr.splitlines()
    assert shown in line and len(line) < 300 and "\x1b" not in line
    assert_nothing_written(Path(quire_env["QUIRE_OUTPUTS"]))


def test_clients_are_listed_by_slug_and_the_example_names_an_active_one(quire_env, tiny_warehouse):
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(tiny_warehouse) as conn:
        clients = queries.clients(conn)
    listing = quire(quire_env, "clients")
    assert listing.returncode == 0, listing.stderr
    assert first_column(listing.stdout) == sorted(clients["slug"])
    proc = quire(quire_env, "run", "client")
    assert proc.returncode == 2
    example = proc.stderr.split("e.g. -p client=")[1].split()[0]
    assert clients.set_index("slug").loc[example, "status"] == "active"


def test_data_cannot_send_escape_sequences_to_the_terminal(quire_env, tiny_warehouse, tmp_path):
    """A client or experiment name holding escape sequences (colour, window title, clear screen) is listed with
    them written out; a value quoted in an error is shown as typed (no emoji for ":x:")."""
    from support import warehouse_copy

    evil = "Evil \x1b[31mRED\x1b[0m \x1b]0;owned\x07 Corp"
    with warehouse_copy(tiny_warehouse, tmp_path / "escapes.duckdb") as con:
        con.execute("update clients set name = ? where client_id = (select min(client_id) from clients)", [evil])
        con.execute("update experiments set name = ? where experiment_id = (select min(experiment_id) from experiments)",
                    ["AA \x1b[2J cleared"])
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'escapes.duckdb'}", "COLUMNS": "300"}
    for command in ("clients", "experiments"):
        proc = quire(env, command)
        assert proc.returncode == 0 and "\x1b" not in proc.stdout and "\x07" not in proc.stdout, proc.stdout
    assert "Evil \\x1b[31mRED" in quire(env, "clients").stdout
    assert "\\x1b[2J" in quire(env, "experiments").stdout
    proc = quire(env, "run", "executive", "-p", "period=:x:")
    assert proc.returncode == 2 and "':x:'" in proc.stderr, proc.stderr
    # The outputs folder is printed on success: a folder named with a sequence is written out too.
    proc = quire({**env, "QUIRE_OUTPUTS": str(tmp_path / "out \x1b]0;owned\x07")}, "run", "executive")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout and "out \\x1b]0;owned\\x07" in proc.stdout


def test_experiments_are_listed_with_status_dates_and_variants(quire_env, tiny_warehouse):
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(tiny_warehouse) as conn:
        experiments = queries.experiments(conn)
    proc = quire({**quire_env, "COLUMNS": "100"}, "experiments")
    assert proc.returncode == 0, proc.stderr
    assert sorted(first_column(proc.stdout)) == sorted(experiments["key"])
    assert all(len(line) <= 100 for line in proc.stdout.splitlines())
    rows = [line for line in proc.stdout.splitlines() if line.split() and line.split()[0] in set(experiments["key"])]
    for exp in experiments.itertuples():
        [row] = [line for line in rows if line.split()[0] == exp.key]
        assert f"{exp.started_on:%Y-%m-%d}" in row
        assert ("running" in row) == bool(exp.ended_on != exp.ended_on or exp.ended_on is None)
    assert "control" in proc.stdout and "semantic" in proc.stdout
    assert "experiments" in quire(quire_env, "--help").stdout


def test_warehouse_help_promises_only_what_exists(quire_env):
    proc = quire({**quire_env, "COLUMNS": "100"}, "warehouse", "--help")
    assert proc.returncode == 0
    assert "inspect" not in proc.stdout.lower() and "Build the sample warehouse" in proc.stdout


@pytest.mark.slow
def test_churned_client_report_is_refused_outside_its_subscription(quire_env, tiny_warehouse):
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(tiny_warehouse) as conn:
        clients = queries.clients(conn)
    churned = clients[clients["status"] == "churned"].iloc[0]
    last = f"{churned['churned_on']:%Y-%m}"
    proc = quire(quire_env, "run", "client", "-p", f"client={churned['slug']}")  # latest: long after it left
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert f"client '{churned['slug']}' had no subscription in 2026-10" in line and f"-p period={last}" in line
    assert_nothing_written(Path(quire_env["QUIRE_OUTPUTS"]))
    ok = quire(quire_env, "run", "client", "-p", f"client={churned['slug']}", "-p", f"period={last}", timeout=300)
    assert ok.returncode == 0, ok.stderr  # the month it churned in: it was still a client
    assert f"✓ client · {churned['slug']} · {last} →" in ok.stdout


@pytest.mark.slow
def test_success_line_and_run_history_name_the_run(quire_env):
    env = {**quire_env, "COLUMNS": "100"}
    proc = quire(env, "run", "experiment", "-p", "experiment=homepage-aa", "-p", "level=0.9", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("✓ experiment · homepage-aa →")
    executive = quire(env, "run", "executive", "-p", "period=2026-Q3", timeout=300)
    assert executive.stdout.startswith("✓ executive · 2026-Q3 →")
    assert proc.stderr == executive.stderr == ""  # nothing from the kernel or the executor reaches the terminal
    listing = quire(env, "runs")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert all(len(line) <= 100 for line in lines)
    text = "\n".join(lines)
    assert "experiment · homepage-aa  level=0.9 correction=" in text
    assert "executive · 2026-Q3  forecast_months=" in text
    run_id = proc.stdout.split("→")[1].split()[0].rstrip("/").rsplit("/", 1)[1]
    assert any(line.strip().startswith(run_id) for line in lines)  # ids are never broken across lines


def _warehouse_without_clients(tmp_path: Path) -> str:
    import duckdb

    path = tmp_path / "no-clients.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table notes (note varchar)")
    return f"duckdb:///{path}"


def _not_a_database(tmp_path: Path) -> str:
    path = tmp_path / "notes.sqlite"
    path.write_text("these are notes, not a database\n", encoding="utf-8")
    return f"sqlite:///{path}"


@pytest.mark.parametrize("warehouse", [_warehouse_without_clients, _not_a_database])
@pytest.mark.parametrize("args", [["run", "client", "-p", "client=acme"], ["run", "client", "--all-clients"],
                                  ["clients"], ["run", "experiment"]])
def test_a_warehouse_that_refuses_the_queries_gets_one_error_line_and_nothing_written(quire_env, tmp_path, warehouse,
                                                                                      args):
    """A warehouse without the tables a command reads, or a file that is no database at all: the driver's
    reason in one line with what to check, never a traceback, and no run started."""
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": warehouse(tmp_path)}
    result = quire(env, *args)
    assert result.returncode != 0 and "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    if warehouse is _not_a_database:  # the driver's reason, and what to check
        assert "not a database" in errors[0] and "QUIRE_WAREHOUSE_URL" in errors[0], errors[0]
    elif args[:2] == ["run", "experiment"]:  # experiments are optional data: the parameter error says there are none
        assert "the warehouse holds no experiments" in errors[0]
    else:
        assert "the warehouse has no table clients" in errors[0] and "quire warehouse check" in errors[0]
    assert_nothing_written(Path(env["QUIRE_OUTPUTS"]))


@pytest.mark.parametrize("args", [["clients"], ["run", "client", "--all-clients"], ["run", "client", "-p", "client=acme"]])
def test_a_clients_table_without_the_columns_reports_need_names_them(quire_env, tmp_path, args):
    import duckdb

    path = tmp_path / "thin-clients.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table clients (client_id integer, name varchar, org_id integer)")
        con.execute("insert into clients values (1, 'Acme', 1)")
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{path}"}
    result = quire(env, *args)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "error: the warehouse's table clients has no column slug, status, signup_date" in result.stderr
    assert_nothing_written(Path(env["QUIRE_OUTPUTS"]))


def test_a_renamed_column_the_report_reads_is_refused_before_any_run_of_a_fan_out(quire_env, tiny_warehouse, tmp_path):
    # Every client's run started, failed in its data cell on the missing column and was parked as a failed run.
    from support import warehouse_copy

    with warehouse_copy(tiny_warehouse, tmp_path / "renamed.duckdb") as con:
        con.execute("ALTER TABLE content RENAME COLUMN title TO headline")
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'renamed.duckdb'}"}
    result = quire(env, "run", "client", "--all-clients", "-p", "period=2026-10")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: the warehouse's table content has no column title, which the client report "
                               "reads (`quire warehouse check`"), lines[0]
    assert_nothing_written(Path(env["QUIRE_OUTPUTS"]))


@pytest.mark.parametrize("table, column, held_as, args, says", [
    # 'false' as text was a true flag: every user converted, a 100 % rate published as the experiment's result.
    ("experiment_assignments", "converted", "VARCHAR", ["run", "experiment"],
     "experiment_assignments.converted is VARCHAR; the experiment report reads it as boolean (BOOLEAN)"),
    # Each client's run failed in its data cell and was parked.
    ("engagement_daily", "day", "VARCHAR", ["run", "client", "--all-clients", "-p", "period=2026-10"],
     "engagement_daily.day is VARCHAR; the client report reads it as date (DATE)"),
    ("users", "signed_up_at", "TIMESTAMPTZ", ["run", "cohort"],
     "users.signed_up_at is TIMESTAMP WITH TIME ZONE (with a time zone: store UTC without one); the cohort report "
     "reads it as timestamp (TIMESTAMP)"),
    # The ledger's check before the run printed the database's own binder error.
    ("mrr_movements", "amount", "VARCHAR", ["run", "executive"],
     "mrr_movements.amount is VARCHAR; the executive report reads it as money (NUMERIC(14, 2))"),
    # An optional table the warehouse holds is read, so its types count too.
    ("support_tickets", "opened_at", "VARCHAR", ["run", "client", "-p", "client=acme"],
     "support_tickets.opened_at is VARCHAR; the client report reads it as timestamp (TIMESTAMP)"),
], ids=["text-flag", "text-dates", "time-zone", "text-money", "optional-table"])
def test_a_column_of_a_type_the_report_cannot_read_is_refused_before_any_run(quire_env, tiny_warehouse, tmp_path,
                                                                            table, column, held_as, args, says):
    from support import rebuild_table, warehouse_copy

    with warehouse_copy(tiny_warehouse, tmp_path / "mistyped.duckdb") as con:
        rebuild_table(con, table, f"* REPLACE (CAST({column} AS {held_as}) AS {column})")
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'mistyped.duckdb'}"}
    result = quire(env, *args)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: the warehouse's {says} (`quire warehouse check`"), lines[0]
    assert_nothing_written(Path(env["QUIRE_OUTPUTS"]))
    check = quire(env, "warehouse", "check", "--json")
    assert says in json.dumps(json.loads(check.stdout)), "the check names it in the same words"


def test_a_ledger_below_zero_is_refused_before_the_executive_run_starts(quire_env, tiny_warehouse, tmp_path):
    # The run started, failed in its data cell and was parked as a failed run.
    from support import warehouse_copy

    with warehouse_copy(tiny_warehouse, tmp_path / "negative.duckdb") as con:
        con.execute("INSERT INTO mrr_movements VALUES (101, 3, DATE '2026-02-01', 'contraction', -1000.00)")
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'negative.duckdb'}"}
    result = quire(env, "run", "executive", "-p", "period=2026-03")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert re.match(r"error: the MRR ledger takes client 3 \(.+\) below zero in 2026-02", lines[0]), lines[0]
    assert_nothing_written(Path(env["QUIRE_OUTPUTS"]))
    assert quire(env, "run", "executive", "-p", "period=2026-01").returncode == 0  # the months before it still run


def test_quire_run_experiment_latest_skips_one_set_up_but_not_started(quire_env, tiny_warehouse, tmp_path):
    # The report's own `latest` skipped it, but the run's validation resolved latest first and published it empty.
    from support import warehouse_copy

    with warehouse_copy(tiny_warehouse, tmp_path / "planned.duckdb") as con:
        con.execute("INSERT INTO experiments SELECT 9001, 'not-started', 'Not started', 'h', 'conversion', "
                    "max(started_on) + INTERVAL 1 DAY, NULL, NULL, NULL FROM experiments")
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'planned.duckdb'}"}
    result = quire(env, "run", "experiment")
    assert result.returncode == 0, result.stderr
    [folder] = published_runs(Path(env["QUIRE_OUTPUTS"]), "experiment")
    named = json.loads((folder / "run.json").read_text(encoding="utf-8"))["parameters"]["experiment"]
    assert named not in ("not-started", "latest")


def test_a_fan_out_over_a_warehouse_without_active_clients_says_so(quire_env, tiny_warehouse, tmp_path):
    from support import warehouse_copy

    with warehouse_copy(tiny_warehouse, tmp_path / "all-churned.duckdb") as con:
        con.execute("update clients set status = 'churned'")
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'all-churned.duckdb'}"}
    result = quire(env, "run", "client", "--all-clients")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: the warehouse has no active client (status 'active'); `quire clients` lists them all" in result.stderr
    assert_nothing_written(Path(env["QUIRE_OUTPUTS"]))


@pytest.mark.parametrize("setting,value,says", [
    ("QUIRE_RUN_TIMEOUT", "an hour", "QUIRE_RUN_TIMEOUT='an hour': should be a whole number"),
    ("QUIRE_SMTP_PORT", "99999", "QUIRE_SMTP_PORT='99999': should be less than or equal to 65535"),
    ("QUIRE_ENGINE", "fast", "QUIRE_ENGINE='fast': should be 'batch' or 'papermill'"),
    ("QUIRE_SMTP_STARTTLS", "maybe", "QUIRE_SMTP_STARTTLS='maybe': should be true or false"),
    ("QUIRE_SMTP_TIMEOUT", "30s", "QUIRE_SMTP_TIMEOUT='30s': should be a number"),
    # distributed raised "missing port number" deep in a batch, then waited a minute
    ("QUIRE_DASK_SCHEDULER", "tcp://127.0.0.1", "QUIRE_DASK_SCHEDULER='tcp://127.0.0.1': expected a Dask scheduler "
                                                "address such as tcp://scheduler-host:8786"),
    ("QUIRE_PDF_RENDERER", "pdfkit", "QUIRE_PDF_RENDERER='pdfkit': should be 'auto', 'chromium' or 'weasyprint'"),
    # only warned: the run published, unrecorded, with exit 0
    ("QUIRE_STATE_URL", "not a url", "QUIRE_STATE_URL='not a url': expected a SQLAlchemy URL"),
    # "run … could not start: Not a directory: /etc/passwd/.quire/staging/…"
    ("QUIRE_OUTPUTS", "/etc/passwd", "QUIRE_OUTPUTS='/etc/passwd': is a file, not a folder"),
    # "no warehouse at /etc/passwd/out/.quire/warehouse.duckdb", whose `quire warehouse build` failed too
    ("QUIRE_OUTPUTS", "/etc/passwd/out", "QUIRE_OUTPUTS='/etc/passwd/out': lies inside /etc/passwd, which is a "
                                         "file, not a folder"),
    # "the warehouse URL 'not a url' is not a valid SQLAlchemy URL" (exit 1), without the setting's name
    ("QUIRE_WAREHOUSE_URL", "not a url", "QUIRE_WAREHOUSE_URL='not a url': expected a SQLAlchemy URL"),
])
@pytest.mark.parametrize("args", [["runs"], ["run", "executive"]])
def test_a_wrong_setting_is_named_in_one_error_line_and_nothing_runs(quire_env, setting, value, says, args):
    proc = quire({**quire_env, setting: value}, *args)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {says}"), proc.stderr
    assert_nothing_written(Path(quire_env["QUIRE_OUTPUTS"]))


def test_a_kernel_that_is_not_installed_is_named_before_the_run_starts(quire_env):
    # Said by the failed run, with a parked notebook under _failed/ and no word of the setting.
    proc = quire({**quire_env, "QUIRE_KERNEL_NAME": "nokernel"}, "run", "executive", "--engine", "papermill")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().startswith("error: QUIRE_KERNEL_NAME='nokernel': no Jupyter kernel of that name is "
                                          "installed (installed: ") and "python3" in proc.stderr, proc.stderr
    assert_nothing_written(Path(quire_env["QUIRE_OUTPUTS"]))


@pytest.mark.parametrize("url,says", [
    ("mysql://db/quire", "cannot use the state database URL mysql://db/quire: No module named"),
])
def test_a_wrong_state_database_url_is_named_in_one_error_line(quire_env, url, says):
    proc = quire({**quire_env, "QUIRE_STATE_URL": url}, "runs")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode != 0 and len(lines) == 1 and lines[0].startswith(f"error: {says}"), proc.stderr


def test_a_runs_filter_on_a_report_the_catalog_lacks_says_so(quire_env):
    proc = quire(quire_env, "runs", "--report", "execu")
    assert proc.returncode == 0 and proc.stdout.strip() == "no runs match; the catalog has no report 'execu' (did you mean 'executive'?)"
    proc = quire(quire_env, "runs", "--report", "executive", "--status", "cancelled")
    assert proc.returncode == 0 and proc.stdout.strip() == "no runs match"


def test_a_runs_filter_on_a_client_the_history_never_ran_says_so(quire_env, tmp_path):
    from quire.state import open_state
    from quire.state import runs as history

    state = f"sqlite:///{tmp_path / 'state.db'}"
    engine = open_state(state)
    for client in ("acme-corp", "bluebird-co"):
        history.finish(engine, history.create(engine, report="client", parameters={"client": client},
                                              trigger="manual", client=client), "failed", error="planted")
    engine.dispose()
    env = {**quire_env, "QUIRE_STATE_URL": state}
    assert quire(env, "runs", "--client", "acme-crop").stdout.strip() == (
        "no runs match; the history has no run for client 'acme-crop' (did you mean 'acme-corp'?)")
    assert quire(env, "runs", "--client", "Nope").stdout.strip() == (
        "no runs match; the history has no run for client 'Nope' (`quire clients` lists the warehouse's clients "
        "by slug)")
    # A client the history knows, filtered to nothing by another option: nothing to add.
    assert quire(env, "runs", "--client", "acme-corp", "--status", "succeeded").stdout.strip() == "no runs match"
    assert "acme-corp" in quire({**env, "COLUMNS": "200"}, "runs", "--client", "acme-corp").stdout


@pytest.mark.parametrize("args, says", [
    # click's words were "'two' is not a valid int range" and "0 is not in the range x>=1."
    (["runs", "--limit", "x"], "Invalid value for '--limit': 'x' is not a whole number"),
    (["runs", "--limit", "0"], "Invalid value for '--limit': 0 is out of range; use a value from 1 to 100000"),
    # An OverflowError traceback from the database driver.
    (["runs", "--limit", "9223372036854775808"],
     "Invalid value for '--limit': 9223372036854775808 is out of range; use a value from 1 to 100000"),
    (["serve", "--port", "70000"], "Invalid value for '--port': 70000 is out of range; use a value from 1 to 65535"),
    (["tokens", "revoke", "nope"], "Invalid value for 'ID': 'nope' is not a whole number"),  # not its Python name
    (["warehouse", "build", "--seed", "-1"], "Invalid value for '--seed': -1 is out of range; use 0 or more"),  # numpy's traceback
    (["run", "client", "--all-clients", "--workers", "two"], "Invalid value for '--workers': 'two' is not a whole number"),
])
def test_a_number_option_given_something_else_says_what_number_to_give(quire_env, args, says):
    proc = quire(quire_env, *args)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines()[-1] == f"Error: {says}", proc.stderr
    assert_nothing_written(Path(quire_env["QUIRE_OUTPUTS"]))


@pytest.mark.parametrize("token_id", ["99999", "99999999999999999999999", "-99999999999999999999999"])
def test_revoking_a_token_id_no_token_has_says_so_however_big_the_number(quire_env, token_id):
    # Past the database's 64-bit integers it was an OverflowError traceback.
    proc = quire(quire_env, "tokens", "revoke", "--", token_id)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == f"error: no live token with id {token_id} (`quire tokens list` shows them)"


def test_runs_since_takes_a_date_a_time_or_a_span(quire_env):
    for since in ("7d", "12h", "30m", "2026-11-01", "2026-11-01T08:00", "2026-11-01T08:00+01:00"):
        proc = quire(quire_env, "runs", "--since", since)
        assert proc.returncode == 0 and proc.stdout.strip() == "no runs match", (since, proc.stderr)
    proc = quire(quire_env, "runs", "--since", "99999999d")  # a span, but one reaching back before the year 1
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "error: --since '99999999d' reaches back before the year 1; use a shorter span or a date")
    proc = quire(quire_env, "runs", "--since", "last week")
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "error: --since 'last week' is not a date or time; use a date (2026-11-01), a UTC time (2026-11-01T08:00) or "
        "a span back from now such as 30m, 12h, 7d")


@pytest.mark.parametrize("args,said", [
    (["--base-url", "/apps(1)/"], "--base-url"),  # pasted into the URL patterns: an AssertionError traceback
    (["--base-url", "/a?b#c/"], "--base-url"),  # started, announcing a link that could not work
    (["--base-url", "/../apps/"], "--base-url"),
    (["--port", "99999"], "--port"),  # listened on 34463 (99999 mod 65536) while announcing 99999
    (["--port", "0"], "--port"),
])
def test_serve_refuses_an_address_it_could_not_serve_on(quire_env, args, said):
    result = quire(quire_env, "serve", "--no-preheat", *args, timeout=60)
    assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("token,said", [("secret", "6 characters"), ("a long token with spaces", "spaces")])
def test_serve_refuses_a_token_anyone_could_guess(quire_env, token, said):
    result = quire({**quire_env, "QUIRE_SERVE_TOKEN": token}, "serve", "--no-preheat", timeout=60)
    assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert "secrets.token_urlsafe" in result.stderr


@pytest.mark.parametrize("ip", ["0.0.0.0", "::", "192.168.1.20", "reports.example.com", ""])
def test_serve_without_a_token_only_on_this_machine(quire_env, ip):
    # Only a warning before: `--no-auth --ip 0.0.0.0` served the console and every client's app to the network.
    result = quire(quire_env, "serve", "--no-auth", "--ip", ip, "--no-preheat", timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    flat = " ".join(result.stderr.split())
    assert "--no-auth serves only on this machine" in flat and "127.0.0.1" in flat, result.stderr


def test_serve_help_shows_every_option_whole_in_80_columns(quire_env):
    # --preheat/--no-preheat's second column left "--cull-idle-timeo…", which nobody could type.
    proc = quire({**quire_env, "COLUMNS": "80"}, "serve", "--help")
    assert proc.returncode == 0 and "…" not in proc.stdout, proc.stdout
    for option in ("--cull-idle-timeout", "--cull-interval", "--no-preheat", "--pool-size", "--base-url"):
        assert option in proc.stdout, option


def test_help_shows_no_value_for_a_flag(quire_env):
    # typer 0.29 printed "<bool>" beside --retry and --help, as if each took a value.
    for command, flag in (("deliver", "--retry"), ("run", "--all-clients"), ("serve", "--no-auth")):
        proc = quire({**quire_env, "COLUMNS": "120"}, command, "--help")
        assert proc.returncode == 0 and flag in proc.stdout, proc.stdout
        assert "<bool>" not in proc.stdout, proc.stdout


def test_reading_commands_create_no_state_database(quire_env, tmp_path):
    # A mistyped QUIRE_STATE_URL listed "no runs match" from a new, empty database in a new folder.
    state = tmp_path / "typo" / "state.db"
    env = {**quire_env, "QUIRE_STATE_URL": f"sqlite:///{state}", "COLUMNS": "400"}  # the path on one line
    note = f"note: there is no state database at {state} yet (QUIRE_STATE_URL; the first run creates it)"
    listed = quire(env, "runs", "--report", "execu")
    assert listed.returncode == 0 and listed.stderr.strip() == note
    assert listed.stdout.strip() == "no runs match; the catalog has no report 'execu' (did you mean 'executive'?)"
    delivered = quire(env, "deliver")
    assert delivered.returncode == 0 and delivered.stdout.strip() == "nothing to deliver" and note in delivered.stderr
    shown = quire(env, "runs", "show", "20261101T080000Z-abc123")
    assert shown.returncode != 0 and "Traceback" not in shown.stderr
    assert f"no run '20261101T080000Z-abc123': there is no state database at {state} yet" in shown.stderr
    assert not state.parent.exists()


def test_reading_commands_say_when_no_state_database_can_be_created_where_the_url_says(quire_env, tmp_path):
    # "the first run creates it" was false: each run warned that it was not recorded, and `quire runs` answered
    # "no runs match", exit 0.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {**quire_env, "QUIRE_STATE_URL": f"sqlite:///{blocker / 'state.db'}", "COLUMNS": "400"}
    for args in (("runs",), ("deliver",)):
        proc = quire(env, *args)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.strip().startswith(f"error: there is no state database at {blocker / 'state.db'}, and none "
                                              f"can be created there ({blocker} is a file, not a folder)"), proc.stderr


def test_runs_show_says_who_requested_a_run(quire_env, tmp_path):
    from quire.state import queue
    from quire.state.db import open_state

    env = {**quire_env, "QUIRE_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}", "COLUMNS": "400"}
    engine = open_state(env["QUIRE_STATE_URL"])
    run_id = queue.enqueue(engine, report="executive", parameters={"period": "2026-10"}, client=None,
                           requested_by="token 1 (Springford portal)")
    engine.dispose()
    shown = quire(env, "runs", "show", run_id)
    assert shown.returncode == 0 and "requested_by: token 1 (Springford portal)" in shown.stdout, shown.stdout


def test_run_history_shows_warehouse_data_as_text_not_as_terminal_codes(quire_env, tmp_path):
    # A client's contact_email of "omar@example.org\r\nBcc: evil@attacker.com" broke `quire runs show`'s delivery line
    # in two (a faked history line), and an ESC sequence in it reached the terminal raw.
    from quire.state import outbox, runs
    from quire.state.db import open_state

    state = tmp_path / "state.db"
    env = {**quire_env, "QUIRE_STATE_URL": f"sqlite:///{state}", "COLUMNS": "400"}
    engine = open_state(env["QUIRE_STATE_URL"])
    run_id = runs.create(engine, report="client", parameters={"client": "acme"}, trigger="schedule",
                         client="acme\x1b[31m")
    runs.finish(engine, run_id, "failed", error="no data for 'Acme\r\nstatus: succeeded'")
    row = outbox.add(engine, run_id, "omar@example.org\r\nBcc: evil@attacker.com", "report")
    outbox.mark_failed(engine, row["id"], "refused \x1b[2J", give_up=True)
    engine.dispose()
    shown = quire(env, "runs", "show", run_id)
    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout and "\r" not in shown.stdout
    assert r"omar@example.org\r\nBcc: evil@attacker.com" in shown.stdout and r"acme\x1b[31m" in shown.stdout
    assert not any(line.lstrip().startswith(("Bcc:", "status: succeeded")) for line in shown.stdout.splitlines())


@pytest.mark.parametrize("folder", ["", "  "])
def test_an_export_into_no_folder_is_refused_not_written_into_the_current_one(quire_env, tmp_path, folder):
    # `quire warehouse export "$EXPORT_DIR"` with the variable unset: as a path, "" is "." and 17 files and a
    # mapping.yaml landed in the folder the command was typed in.
    here = tmp_path / "here"
    here.mkdir()
    proc = subprocess.run([str(QUIRE), "warehouse", "export", folder], env=quire_env, cwd=here, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines()[-1] == (
        "Error: Invalid value for DIRECTORY: no folder given; name the folder to export into (. for the current one)")
    assert not list(here.iterdir())


def test_an_experiment_that_has_not_started_is_listed_as_planned_not_running(quire_env, tmp_path):
    from datetime import date, timedelta

    from support import warehouse_copy

    path = tmp_path / "future.duckdb"
    soon, later = date.today() + timedelta(days=30), date.today() + timedelta(days=60)
    with warehouse_copy(quire_env["QUIRE_WAREHOUSE_URL"], path) as con:
        con.execute("UPDATE experiments SET started_on = ?, ended_on = NULL WHERE key = 'homepage-aa'", [soon])
        con.execute("UPDATE experiments SET started_on = DATE '2026-01-05', ended_on = ? WHERE key = 'checkout-redesign'",
                    [later])  # ends after today: still running
    proc = quire({**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{path}", "COLUMNS": "120"}, "experiments")
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.split()}
    assert "planned" in rows["homepage-aa"] and "running" not in rows["homepage-aa"], rows["homepage-aa"]
    assert "running" in rows["checkout-redesign"] and f"{later:%Y-%m-%d}" in rows["checkout-redesign"]


def test_experiments_without_a_key_or_start_date_are_listed_and_an_undated_one_is_refused(quire_env, tiny_warehouse,
                                                                                           tmp_path):
    # `quire experiments` failed with "Cannot compare NaT with datetime.date"; the undated experiment's report was
    # published with the period "— – 13 August 2026 (nan days)".
    from support import warehouse_copy

    with warehouse_copy(tiny_warehouse, tmp_path / "nulls.duckdb") as con:
        con.execute('ALTER TABLE experiments ALTER COLUMN "key" DROP NOT NULL')
        con.execute("ALTER TABLE experiments ALTER COLUMN started_on DROP NOT NULL")
        con.execute("UPDATE experiments SET key = NULL WHERE key = 'homepage-aa'")
        con.execute("UPDATE experiments SET started_on = NULL WHERE key = 'pricing-page-layout'")
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'nulls.duckdb'}", "COLUMNS": "160"}
    listed = quire(env, "experiments")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines() if line.split()}
    assert "undated" in rows["pricing-page-layout"] and "Homepage A/A check" in rows["—"] and "nan" not in rows
    assert "no key (shown as —): experiment_id 2" in listed.stdout
    assert "no start date (undated): pricing-page-layout; the experiment report refuses it" in listed.stdout
    result = quire(env, "run", "experiment", "-p", "experiment=pricing-page-layout")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: experiment 'pricing-page-layout' has no start date: its started_on in the "
                               "experiments table is empty"), lines[0]
    assert_nothing_written(Path(env["QUIRE_OUTPUTS"]))


def test_a_reports_parameters_are_listed_with_their_defaults_and_what_they_accept(quire_env):
    # A report's parameters were nowhere to be found but in reports.yaml and a mistyped -p's error
    # ("known: brand, correction, experiment, level").
    shown = quire({**quire_env, "COLUMNS": "300"}, "list", "experiment")
    assert shown.returncode == 0, shown.stderr
    rows = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
            for line in shown.stdout.splitlines() if line.startswith("│")}
    assert set(rows) == {"experiment", "level", "correction", "brand"}, shown.stdout
    assert rows["level"][:3] == ["float", "0.95", "0.8 to 0.995"]
    assert rows["correction"][:3] == ["choice", "holm", "holm, bonferroni"]
    assert rows["experiment"][1] == "latest" and "quire experiments" in rows["experiment"][3]
    assert "Experiment report" in shown.stdout and "quire run experiment -p level=0.95" in shown.stdout
    mistyped = quire(quire_env, "list", "experimnet")
    assert mistyped.returncode == 2 and "did you mean 'experiment'?" in mistyped.stderr, mistyped.stderr


@pytest.mark.parametrize("given, hint", [
    (["--period", "2026-10"], "a report's parameters are given with -p: -p period=2026-10"),
    (["--forecast-months=6"], "a report's parameters are given with -p: -p forecast_months=6"),
])
def test_a_parameter_given_as_an_option_is_told_to_use_p(quire_env, given, hint):
    # "No such option: --period" alone: the -p name=value form is in the README only.
    proc = quire(quire_env, "run", "executive", *given)
    assert proc.returncode == 2 and hint in " ".join(proc.stderr.split()), proc.stderr
    assert_nothing_written(Path(quire_env["QUIRE_OUTPUTS"]))
    misspelled = quire(quire_env, "run", "executive", "--workerz", "2")  # an option of run's, misspelled
    assert "(Possible options: --workers)" in misspelled.stderr and "-p" not in misspelled.stderr, misspelled.stderr


def test_runs_of_a_scheduler_that_is_gone_are_said_to_wait_for_one(quire_env, tmp_path):
    # After a `kill -9` of the scheduler, `quire runs` listed its runs as running and queued, with nothing to say
    # that no process was behind them until the next start.
    import subprocess
    import sys

    import sqlalchemy as sa

    from quire.state import runs
    from quire.state.db import open_state
    from quire.state.lease import Lease
    from quire.state.schema import leases

    env = {**quire_env, "QUIRE_STATE_URL": f"sqlite:///{tmp_path / 'state.db'}", "COLUMNS": "400"}
    engine = open_state(env["QUIRE_STATE_URL"])
    run_id = runs.create(engine, report="executive", parameters={"period": "2026-10"}, trigger="schedule")
    runs.mark_running(engine, run_id)
    lease = Lease(engine)
    assert lease.acquire()  # held by this (live) process: the scheduler is there
    listed = quire(env, "runs")
    assert run_id in listed.stdout and "no scheduler is running" not in listed.stderr, listed.stderr
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with engine.begin() as conn:  # the holder killed on this host, its lease not yet expired
        conn.execute(sa.update(leases).where(leases.c.name == "scheduler").values(pid=int(gone.stdout)))
    engine.dispose()
    listed = quire(env, "runs")
    assert listed.returncode == 0 and run_id in listed.stdout
    assert "no scheduler is running on this state database: 1 queued or running run(s)" in listed.stderr, listed.stderr


INTERRUPTED_WHILE_IMPORTING = """
import os, signal, sys

class CtrlC:  # Ctrl-C exactly while the command line's modules import, the first ~0.7 s of every command
    def find_spec(self, name, path=None, target=None):
        if name == "quire.cli":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["quire", "list"]
from quire.entry import main
main()
"""


def test_ctrl_c_while_the_command_starts_says_aborted_without_a_traceback():
    # It printed a KeyboardInterrupt traceback through the imports. Started as from a terminal: Ctrl-C raises (a test
    # runner's worker may itself have been started with it ignored, which its children inherit).
    in_a_terminal = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    proc = subprocess.run([sys.executable, "-c", in_a_terminal + INTERRUPTED_WHILE_IMPORTING], capture_output=True,
                          text=True, timeout=120)
    assert (proc.returncode, proc.stderr, proc.stdout) == (130, "aborted\n", "")
    # Started with Ctrl-C ignored (in the background), it stays ignored: the command runs to its end.
    ignored = "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    proc = subprocess.run([sys.executable, "-c", ignored + INTERRUPTED_WHILE_IMPORTING], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and "executive" in proc.stdout, proc.stderr
