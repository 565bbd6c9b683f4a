"""The README's "Your own data" works as written: its three commands take the example shop's CSV files
to a published cohort report, and its mapping excerpt is the example's own mapping.

The commands are read from the README itself (the first ``bash`` block of the section),
so the README cannot drift from what runs. They run from the project folder, as a user
would, but into a warehouse and outputs of their own.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

import pytest

from support import ROOT, published_files, published_runs, run_quire

pytestmark = pytest.mark.slow


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Your own data\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", _section(), flags=re.S)


def _commands() -> list[list[str]]:
    """The quire commands of the section's first bash block, without the ``.venv/bin/quire`` and comments."""
    commands = []
    for line in _blocks("bash")[0].splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[0] == ".venv/bin/quire", line
            commands.append(words[1:])
    return commands


def _sql_then_views(quire_env: dict[str, str], folder: Path, sql: str, mapping: str, database: str) -> dict[str, str]:
    """Run a README's SQL in the DuckDB file ``database`` in ``folder`` (beside the CSV it reads, as the README
    says), then ``quire warehouse import`` its views mapping; the environment that reads that warehouse."""
    import duckdb

    con = duckdb.connect(str(folder / database))
    try:
        cwd = Path.cwd()
        os.chdir(folder)
        try:
            con.execute(sql)
        finally:
            os.chdir(cwd)
    finally:
        con.close()
    (folder / "mapping.yaml").write_text(mapping)
    env = {**quire_env, "QUIRE_OUTPUTS": str(folder / "outputs"), "QUIRE_WAREHOUSE_URL": f"duckdb:///{folder / database}"}
    proc = run_quire(env, "warehouse", "import", str(folder / "mapping.yaml"))
    assert proc.returncode == 0, proc.stderr
    return env


def test_the_mapping_excerpt_is_the_examples_own():
    mapping = (ROOT / "examples" / "retail" / "mapping.yaml").read_text(encoding="utf-8")
    assert _blocks("yaml")[0].strip() in mapping


def test_three_commands_from_csv_to_a_cohort_report(quire_env: dict[str, str], tmp_path: Path):
    commands = _commands()
    assert [c[:2] for c in commands] == [["warehouse", "import"], ["warehouse", "check"], ["run", "cohort"]]
    outputs = tmp_path / "outputs"
    env = {**quire_env, "QUIRE_OUTPUTS": str(outputs), "QUIRE_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'shop.duckdb'}"}
    for command in commands:
        proc = run_quire(env, *command, timeout=600)
        assert proc.returncode == 0, f"quire {' '.join(command)}: {proc.stderr}"
    [run] = published_runs(outputs, "cohort")
    assert sorted(p.name for p in run.iterdir()) == published_files(run)
    record = json.loads((run / "run.json").read_text())
    # The example's data runs to 31 October 2026: its last complete month, with every customer who signed up.
    assert record["parameters"]["period"] == "2026-10"
    users = next(k for k in record["headline"] if k["name"] == "users")
    assert users["value"] > 0


def test_the_sql_first_example_takes_an_online_retail_file_to_first_purchase_cohorts(quire_env: dict[str, str],
                                                                                     tmp_path: Path):
    """The README's Online Retail SQL and views mapping, as written, on a file in that export's shape."""
    import duckdb

    lines = ["InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country",
             "536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850.0,United Kingdom",
             # A second line of the same invoice, at the same line total: one order, not a repeated row.
             "536365,22752,SET 7 BABUSHKA NESTING,3,12/1/2010 8:26,5.10,17850.0,United Kingdom",
             "536366,22633,HAND WARMER,6,12/1/2010 8:28,1.85,17850.0,United Kingdom",
             "536367,84879,ASSORTED BIRD,32,12/1/2010 8:34,1.69,13047.0,United Kingdom",
             "C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527.0,United Kingdom",  # a cancellation
             "536380,22961,JAM MAKING SET,24,12/1/2010 9:41,1.45,,United Kingdom",  # a guest line
             "536381,22139,RETROSPOT TEA,2,12/1/2010 9:41,4.95,14527.0,United Kingdom",
             "537000,21166,COOK WITH WINE,12,1/4/2011 10:00,1.95,17850.0,United Kingdom",
             "538000,21166,COOK WITH WINE,4,2/3/2011 12:30,1.95,13047.0,France"]
    (tmp_path / "online_retail.csv").write_text("\n".join(lines) + "\n", encoding="latin-1")
    env = _sql_then_views(quire_env, tmp_path, _blocks("sql")[0], _blocks("yaml")[1], "retail.duckdb")
    con = duckdb.connect(str(tmp_path / "retail.duckdb"), read_only=True)
    try:
        users = con.execute("SELECT user_id, signed_up_at FROM users ORDER BY 1").fetchall()
        events = con.execute("SELECT user_id, round(revenue::DOUBLE, 2) FROM events ORDER BY occurred_at, user_id").fetchall()
    finally:
        con.close()
    from datetime import datetime

    # Three customers, each signed up at their first order; no cancellation, no guest line.
    assert users == [(13047, datetime(2010, 12, 1, 8, 34)), (14527, datetime(2010, 12, 1, 9, 41)),
                     (17850, datetime(2010, 12, 1, 8, 26))]
    assert events == [(17850, 30.6), (17850, 11.1), (13047, 54.08), (14527, 9.9), (17850, 23.4), (13047, 7.8)]
    checked = run_quire(env, "warehouse", "check", "--report", "cohort", timeout=600)
    assert "repeated_purchases" not in checked.stdout and "repeats another" not in checked.stdout, checked.stdout
    proc = run_quire(env, "run", "cohort", timeout=600)
    assert proc.returncode == 0, proc.stderr


# An MRR export as billing tools write it: string customer ids, no row after a cancellation (cus_B2 after March,
# cus_C3 in February and March), a comeback (cus_C3 in April), a month without any change (May).
MRR_EXPORT = [("cus_A1", "2025-01-01", 100), ("cus_A1", "2025-02-01", 150), ("cus_A1", "2025-03-01", 150),
              ("cus_A1", "2025-04-01", 120), ("cus_B2", "2025-02-01", 200), ("cus_B2", "2025-03-01", 0),
              ("cus_C3", "2025-01-01", 50), ("cus_C3", "2025-04-01", 80), ("cus_D4", "2025-03-01", 300),
              ("cus_D4", "2025-04-01", 300), ("cus_A1", "2025-05-01", 120), ("cus_C3", "2025-05-01", 80),
              ("cus_D4", "2025-05-01", 300)]


def _ledger_from_export() -> list[tuple[str, str, str, float]]:
    """The MRR movements recounted from MRR_EXPORT in plain Python: (customer, month, movement, amount)."""
    months = sorted({m for _, m, _ in MRR_EXPORT})
    mrr = {(c, m): v for c, m, v in MRR_EXPORT}
    ledger = []
    for customer in sorted({c for c, _, _ in MRR_EXPORT}):
        seen, before = False, 0.0
        for month in months[months.index(min(m for c, m, _ in MRR_EXPORT if c == customer)):]:
            now = float(mrr.get((customer, month), 0))
            if now != before:
                kind = ("reactivation" if seen else "new") if before == 0 else \
                    "churn" if now == 0 else "expansion" if now > before else "contraction"
                ledger.append((customer, month, kind, now - before))
            seen, before = seen or now > 0, now
    return ledger


def test_the_mrr_sql_gives_names_that_slug_alike_and_names_without_latin_letters_their_own_slugs(tmp_path: Path):
    # "Acme Inc" and "ACME, Inc." both came out acme-inc, and the import refused the clients; "株式会社" came out "".
    import duckdb

    (tmp_path / "mrr_by_month.csv").write_text("customer,month,mrr\nAcme Inc,2025-01-01,100\n\"ACME, Inc.\",2025-01-01,50\n"
                                              "株式会社,2025-01-01,70\nFernweh Tea,2025-01-01,30\nCafé Zürich,2025-01-01,20\n",
                                              encoding="utf-8")
    con = duckdb.connect()
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        con.execute(_blocks("sql")[1])
        slugs = dict(con.execute("SELECT name, slug FROM billing.accounts").fetchall())
    finally:
        os.chdir(cwd)
        con.close()
    assert slugs == {"ACME, Inc.": "acme-inc-1", "Acme Inc": "acme-inc-2", "株式会社": "customer-5",
                     "Fernweh Tea": "fernweh-tea", "Café Zürich": "cafe-zurich"}  # accents dropped, as Quire's own slugs


def test_the_sql_first_example_takes_an_mrr_export_to_the_executive_report(quire_env: dict[str, str], tmp_path: Path):
    """The README's MRR-by-month SQL and views mapping, as written: the ledger equals a recount, the report's
    MRR, net revenue retention and churn equal figures worked out from the export by hand."""
    import duckdb

    lines = ["customer,month,mrr", *(f"{c},{m},{v}" for c, m, v in MRR_EXPORT)]
    (tmp_path / "mrr_by_month.csv").write_text("\n".join(lines) + "\n")
    env = _sql_then_views(quire_env, tmp_path, _blocks("sql")[1], _blocks("yaml")[2], "mrr.duckdb")
    con = duckdb.connect(str(tmp_path / "mrr.duckdb"), read_only=True)
    try:
        ledger = con.execute("SELECT c.name, strftime(m.month, '%Y-%m-%d'), m.movement, m.amount::DOUBLE "
                             "FROM mrr_movements m JOIN clients c USING (client_id) ORDER BY 1, 2").fetchall()
        clients = con.execute("SELECT name, slug, status, sector, contact_email FROM clients ORDER BY 1").fetchall()
    finally:
        con.close()
    assert ledger == _ledger_from_export()
    assert clients == [("cus_A1", "cus-a1", "active", None, None), ("cus_B2", "cus-b2", "churned", None, None),
                       ("cus_C3", "cus-c3", "active", None, None), ("cus_D4", "cus-d4", "active", None, None)]
    proc = run_quire(env, "run", "executive", timeout=600)
    assert proc.returncode == 0, proc.stderr
    [run] = published_runs(tmp_path / "outputs", "executive")
    record = json.loads((run / "run.json").read_text())
    headline = {k["name"]: k["value"] for k in record["headline"]}
    # April 2025, the last month with a change. Start (end of March): A1 150 + D4 300 = 450. End: A1 120 + C3 80
    # (back) + D4 300 = 500. NRR: what March's payers pay at the end of April, 120 + 300, over 450.
    assert record["parameters"]["period"] == "2025-04"
    assert headline["mrr"] == pytest.approx(500) and headline["customers"] == 3
    assert headline["nrr"] == pytest.approx(420 / 450) and headline["logo_churn"] == 0
    assert headline["mrr_growth"] == pytest.approx(50 / 450)
