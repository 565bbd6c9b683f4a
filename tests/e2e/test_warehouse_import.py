"""``quire warehouse import``: the user's CSV and Parquet files into the warehouse, all or nothing.

Every bad input goes through the real CLI over an existing warehouse (a copy of the tiny
one): the user reads one ``error:`` line naming the file, line, column and reason (no
traceback), and the warehouse file is byte for byte what it was, with no temporary file
left beside it. The good inputs are the example shop of ``examples/retail`` and variants
of it (gzip, Parquet, several files, other date and time forms).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import yaml

from support import ROOT, run_quire

EXAMPLE = ROOT / "examples" / "retail"


@pytest.fixture
def shop(tmp_path: Path, tiny_warehouse: str, quire_env: dict[str, str]) -> dict:
    """The example shop's files and mapping in a folder of their own, and an existing warehouse to protect."""
    folder = tmp_path / "shop"
    folder.mkdir()
    for name in ("users.csv", "events.csv", "mapping.yaml"):
        shutil.copy(EXAMPLE / name, folder / name)
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(tiny_warehouse.removeprefix("duckdb:///"), warehouse)
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{warehouse}"}
    return {"folder": folder, "warehouse": warehouse, "env": env}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _edit_mapping(folder: Path, change: Callable[[dict], None]) -> None:
    mapping = yaml.safe_load((folder / "mapping.yaml").read_text())
    change(mapping)
    (folder / "mapping.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False))


def _first_line_of(path: Path, word: str) -> int:
    """The 1-based line number of the first line holding ``word``."""
    return next(i for i, line in enumerate(_lines(path), start=1) if word in line)


def _import(shop: dict, *extra: str):
    return run_quire(shop["env"], "warehouse", "import", str(shop["folder"] / "mapping.yaml"), *extra, timeout=120)


# --------------------------------------------------------------------------- bad inputs


def _missing_column(folder: Path) -> str:
    lines = [",".join(v for i, v in enumerate(line.split(",")) if i != 1) for line in _lines(folder / "users.csv")]
    _write_lines(folder / "users.csv", lines)
    return ("users.csv: no column 'created' (the mapping renames it to 'signed_up_at'); "
            "its columns: customer_id, acquisition, country_code")


def _unparsable_date(folder: Path) -> str:
    lines = _lines(folder / "users.csv")
    fields = lines[4].split(",")
    lines[4] = ",".join([fields[0], "31/13/2025 10:00", *fields[2:]])
    _write_lines(folder / "users.csv", lines)
    return ("users.csv line 5, column signed_up_at (from 'created'): '31/13/2025 10:00' is not a date and time "
            "in the format '%d/%m/%Y %H:%M'")


def _negative_amount(folder: Path) -> str:
    path = folder / "events.csv"
    line = _first_line_of(path, ",order,")
    lines = _lines(path)
    user, action, ts, cents = lines[line - 1].split(",")
    lines[line - 1] = ",".join([user, action, ts, f"-{cents}"])
    _write_lines(path, lines)
    return (f"events.csv line {line}, column revenue (from 'amount_cents'): '-{cents}' is negative, "
            "but events.revenue must be zero or more")


def _unknown_event(folder: Path) -> str:
    _edit_mapping(folder, lambda m: m["tables"]["events"]["values"]["event_type"].pop("wishlist_add"))
    line = _first_line_of(folder / "events.csv", "wishlist_add")
    return (f"events.csv line {line}, column event_type (from 'action'): 'wishlist_add' is not one of Quire's values "
            "(signup, activation, session_start, feature_use, purchase); map it under tables.events.values.event_type")


def _unknown_channel(folder: Path) -> str:
    _edit_mapping(folder, lambda m: m["tables"]["users"]["values"]["channel"].pop("Marketplace"))
    line = _first_line_of(folder / "users.csv", "Marketplace")
    return (f"users.csv line {line}, column channel (from 'acquisition'): 'Marketplace' is not one of Quire's values "
            "(organic, paid, referral, partner); map it under tables.users.values.channel")


def _duplicate_key(folder: Path) -> str:
    lines = _lines(folder / "users.csv")
    _write_lines(folder / "users.csv", [*lines, lines[9]])
    user = lines[9].split(",")[0]
    return f"users.csv lines 10 and {len(lines) + 1}: duplicate key user_id={user} in users"


def _unknown_user(folder: Path) -> str:
    lines = _lines(folder / "events.csv")
    _write_lines(folder / "events.csv", [*lines, "99999,visit,1760000000000,"])
    return f"events.csv line {len(lines) + 1}, column user_id: events refers to users user_id=99999, which is not in users"


def _empty_file(folder: Path) -> str:
    (folder / "users.csv").write_bytes(b"")
    return "users.csv: the file is empty"


def _header_only(folder: Path) -> str:
    _write_lines(folder / "events.csv", _lines(folder / "events.csv")[:1])
    return "events.csv: the file holds no rows (only a header)"


def _binary_file(folder: Path) -> str:
    (folder / "users.csv").write_bytes(bytes(range(256)) * 40)
    return "users.csv: not a CSV file (it holds binary data)"


def _wrong_delimiter(folder: Path) -> str:
    _write_lines(folder / "users.csv", [line.replace(",", ";") for line in _lines(folder / "users.csv")])
    return "users.csv: the header 'customer_id;created;acquisition;country_code' is one column when split at ','; " \
           "is the delimiter ';'?"


def _ragged_row(folder: Path) -> str:
    lines = _lines(folder / "users.csv")
    lines[6] += ",extra"
    _write_lines(folder / "users.csv", lines)
    return "users.csv line 7: 5 values where the header has 4 columns"


def _not_utf8(folder: Path) -> str:
    data = (folder / "users.csv").read_bytes().replace(b"Direct", "Dïrect".encode("latin-1"), 1)
    (folder / "users.csv").write_bytes(data)
    return "users.csv: not utf-8 text"


def _utf16(folder: Path) -> str:
    (folder / "users.csv").write_text((folder / "users.csv").read_text(encoding="utf-8"), encoding="utf-16")
    return "users.csv: the file is UTF-16 text (it starts with UTF-16's byte-order mark); set encoding: utf-16"


def _placeholder_date(folder: Path) -> str:
    lines = _lines(folder / "users.csv")
    fields = lines[4].split(",")
    fields[1] = "31/12/9999 00:00"
    lines[4] = ",".join(fields)
    _write_lines(folder / "users.csv", lines)
    return ("users.csv line 5, column signed_up_at (from 'created'): '31/12/9999 00:00' is outside the years "
            "1900–2099, a placeholder rather than a date; fix it in the source")


def _parquet_named_csv(folder: Path) -> str:
    duckdb.connect().execute(f"COPY (SELECT 1 AS customer_id) TO '{folder / 'users.csv'}' (FORMAT parquet)")
    return "users.csv: this is a Parquet file, not CSV"


def _missing_file(folder: Path) -> str:
    (folder / "events.csv").unlink()
    return "tables.events.source: no file 'events.csv'"


def _whole_number(folder: Path) -> str:
    lines = _lines(folder / "users.csv")
    lines[2] = "1002.5" + lines[2][4:]
    _write_lines(folder / "users.csv", lines)
    return "users.csv line 3, column user_id (from 'customer_id'): '1002.5' is not a whole number"


def _unknown_key(folder: Path) -> str:
    _edit_mapping(folder, lambda m: m["tables"]["users"].__setitem__("renme", {}))
    return "mapping.yaml: tables.users: unknown key 'renme' (did you mean 'rename'?)"


def _unknown_target_value(folder: Path) -> str:
    _edit_mapping(folder, lambda m: m["tables"]["events"]["values"]["event_type"].__setitem__("order", "buy"))
    return "mapping.yaml: tables.events.values.event_type.order: 'buy' is not one of signup, activation"


def _unknown_column(folder: Path) -> str:
    _edit_mapping(folder, lambda m: m["tables"]["users"]["rename"].__setitem__("country_code", "land"))
    return "mapping.yaml: tables.users.rename.country_code: 'land' is not a column of users"


BAD_INPUTS = {
    "missing column": (_missing_column, 1),
    "unparsable date": (_unparsable_date, 1),
    "negative amount": (_negative_amount, 1),
    "unknown event name": (_unknown_event, 1),
    "unknown channel": (_unknown_channel, 1),
    "duplicate key": (_duplicate_key, 1),
    "event of an unknown user": (_unknown_user, 1),
    "empty file": (_empty_file, 1),
    "header only": (_header_only, 1),
    "binary file": (_binary_file, 1),
    "wrong delimiter": (_wrong_delimiter, 1),
    "ragged row": (_ragged_row, 1),
    "not UTF-8": (_not_utf8, 1),
    "UTF-16 without saying so": (_utf16, 1),
    "placeholder date": (_placeholder_date, 1),
    "Parquet named .csv": (_parquet_named_csv, 1),
    "missing file": (_missing_file, 1),
    "not a whole number": (_whole_number, 1),
    "unknown mapping key": (_unknown_key, 2),
    "mapping onto an unknown value": (_unknown_target_value, 2),
    "rename onto an unknown column": (_unknown_column, 2),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_a_bad_input_gives_one_line_and_leaves_the_warehouse_unchanged(case: str, shop: dict):
    spoil, code = BAD_INPUTS[case]
    expected = spoil(shop["folder"])
    before = _digest(shop["warehouse"])
    proc = _import(shop)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert expected.lower() in lines[0].lower(), lines[0]
    assert _digest(shop["warehouse"]) == before
    assert sorted(p.name for p in shop["warehouse"].parent.iterdir()) == ["warehouse.duckdb"]


def test_the_good_example_replaces_the_warehouse(shop: dict):
    before = _digest(shop["warehouse"])
    proc = _import(shop)
    assert proc.returncode == 0, proc.stderr
    assert _digest(shop["warehouse"]) != before
    # The warehouse it replaced is kept, byte for byte, and the command says where.
    kept = shop["warehouse"].with_name("warehouse.previous.duckdb")
    assert sorted(p.name for p in shop["warehouse"].parent.iterdir()) == ["warehouse.duckdb", kept.name]
    assert _digest(kept) == before and f"the warehouse it replaced is kept as {kept}" in proc.stdout
    con = duckdb.connect(str(shop["warehouse"]), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert tables == {"organizations", "clients", "users", "events"}
    assert con.execute("SELECT client_id, org_id, name, slug, sector, status FROM clients").fetchall() == [
        (1, 1, "Fernweh Tea", "fernweh-tea", "business", "active")]
    users = _lines(shop["folder"] / "users.csv")
    assert con.execute("SELECT count(*), min(client_id), max(client_id) FROM users").fetchone() == (len(users) - 1, 1, 1)
    user, created, channel, country = users[1].split(",")
    mapped = yaml.safe_load((shop["folder"] / "mapping.yaml").read_text())["tables"]["users"]["values"]["channel"][channel]
    assert con.execute("SELECT strftime(signed_up_at, '%d/%m/%Y %H:%M'), channel, country FROM users WHERE user_id = ?",
                       [int(user)]).fetchone() == (created, mapped, country)
    events = _lines(shop["folder"] / "events.csv")
    line = _first_line_of(shop["folder"] / "events.csv", ",order,")
    user, _, millis, cents = events[line - 1].split(",")
    # Rows are numbered in file order: the event on line N is event N - 1.
    assert con.execute("SELECT user_id, event_type, epoch_ms(occurred_at), CAST(revenue AS DOUBLE) FROM events WHERE event_id = ?",
                       [line - 1]).fetchone() == (int(user), "purchase", int(millis), int(cents) / 100)
    assert con.execute("SELECT count(*), min(event_id), max(event_id) FROM events").fetchone() == (
        len(events) - 1, 1, len(events) - 1)
    channels = {r[0] for r in con.execute("SELECT DISTINCT channel FROM users").fetchall()}
    assert channels == {"organic", "paid", "referral", "partner"}


def test_commits_still_in_the_old_warehouses_log_are_kept_with_it(shop: dict, tmp_path: Path):
    # A DuckDB writer that stopped before a checkpoint leaves its last commits in warehouse.duckdb.wal; the import
    # deleted that log, so the kept warehouse.previous.duckdb lacked them and "mv it back" did not undo the import.
    script = (f"import duckdb, os; c = duckdb.connect({str(shop['warehouse'])!r}); "
              "c.execute('SET checkpoint_threshold = \\'1TB\\''); "
              "c.execute('CREATE TABLE mine AS SELECT 42 AS answer'); os._exit(0)")
    subprocess.run([sys.executable, "-c", script], check=True)
    assert shop["warehouse"].with_name("warehouse.duckdb.wal").exists()
    proc = _import(shop)
    assert proc.returncode == 0, proc.stderr
    kept = shop["warehouse"].with_name("warehouse.previous.duckdb")
    con = duckdb.connect(str(kept), read_only=True)
    assert con.execute("SELECT answer FROM mine").fetchone() == (42,)
    con.close()
    assert not shop["warehouse"].with_name("warehouse.duckdb.wal").exists()  # nothing replays onto the new one


def test_a_warehouse_another_program_has_open_for_writing_is_not_replaced(shop: dict):
    # The import replaced the file under a DuckDB shell's feet: the shell's next write went into a log beside the
    # new file, which DuckDB then refused to open ("WAL does not match database file").
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(shop['warehouse'])!r}); "
                               "print('open', flush=True); sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        before = _digest(shop["warehouse"])
        proc = _import(shop)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr
        [line] = proc.stderr.strip().splitlines()
        assert line.startswith("error: ") and "is open for writing in another program" in line, line
        assert f"(PID {holder.pid})" in line and "close that connection and import again" in line
        assert _digest(shop["warehouse"]) == before
    finally:
        holder.communicate("", timeout=30)
    # A report reading it meanwhile is no writer: the import goes ahead.
    reader = duckdb.connect(str(shop["warehouse"]), read_only=True)
    try:
        assert _import(shop).returncode == 0
    finally:
        reader.close()
