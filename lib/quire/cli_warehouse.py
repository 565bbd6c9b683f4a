"""``quire warehouse build|check|contract``, ``quire clients`` and ``quire experiments``: the warehouse and what it holds.

``check`` holds the configured warehouse against each report's data contract
(:mod:`quire.contract`); ``contract`` shows a contract or writes the reference page.
The two lists give the values that ``-p client=…`` and ``-p experiment=…`` accept.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from quire.config import get_settings
from quire.errors import WarehouseError
from quire.terminal import cell, err, error_line, listing, out

warehouse_app = typer.Typer(help="Build the sample warehouse, import your own data or export a warehouse, check a "
                                 "warehouse against the reports' data contracts, or show the contracts.", no_args_is_help=True)


@warehouse_app.command("build")
def warehouse_build(
    scale: Annotated[str, typer.Option(help="tiny (tests), demo (quickstart) or large (benchmarks).")] = "demo",
    seed: Annotated[int, typer.Option(min=0, help="Random seed: the same seed builds the same data.")] = 7,
) -> None:
    """Generate the sample warehouse into the configured warehouse URL."""
    from quire.warehouse.generator import SCALES
    from quire.warehouse.load import build_warehouse

    if scale not in SCALES:
        raise typer.BadParameter(f"{scale!r}; choose one of {', '.join(SCALES)}", param_hint="--scale")
    settings = get_settings()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with err.status(f"building the {scale} warehouse…") as status:
        stats = build_warehouse(settings.warehouse, scale=scale, seed=seed,
                                progress=lambda msg: status.update(f"building the {scale} warehouse: {msg}"))
    rows = sum(stats.rows.values())
    size = f", {stats.size_bytes / 1e6:.1f} MB" if stats.size_bytes else ""
    out.print(f"[green]✓[/green] {scale} warehouse: {rows:,} rows in {len(stats.rows)} tables, "
              f"{stats.seconds:.1f} s{size} → {_redact(settings.warehouse)}", highlight=False)


@warehouse_app.command("check")
def warehouse_check(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document (keys in docs/contracts.md).")] = False,
    report: Annotated[list[str], typer.Option("--report", "-r", help="Check only this report; repeat for several.")] = [],
) -> None:
    """Check the warehouse against each report's data contract: which reports can run, for which periods, and why not.

    Exits 1 when a report cannot run, 0 when all can, 2 when the warehouse cannot be read.
    """
    from quire.contract import check_warehouse, contract
    from quire.contract.screen import WIDTH, render
    from quire.warehouse.engine import connection

    for name in report:
        contract(name)  # an unknown report is a one-line error before anything is read
    settings = get_settings()
    try:
        with connection(settings.warehouse) as conn:
            result = check_warehouse(conn, report or None, url=_redact(settings.warehouse))
    except WarehouseError as exc:
        # Exit 2, not 1: a script tells "a report cannot run" (1) from "there is nothing to check" (2).
        error_line(str(exc))
        if as_json:  # a script reading stdout gets an answer it can parse, not nothing
            sys.stdout.write(json.dumps({"ok": False, "error": str(exc)}, indent=2) + "\n")
        raise typer.Exit(2) from exc
    if as_json:
        sys.stdout.write(json.dumps(result.as_json(), indent=2) + "\n")
    else:
        # soft_wrap off: the findings' lines wrap at the width instead of running on.
        out.print(render(result), width=min(out.width, WIDTH), highlight=False, soft_wrap=False)
    if not result.ok:
        raise typer.Exit(1)


@warehouse_app.command("contract")
def warehouse_contract(
    report: Annotated[Optional[str], typer.Argument(help="executive, client, cohort or experiment (default: all).")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Write the reference page (docs/contracts.md) to stdout.")] = False,
) -> None:
    """Show the tables and columns each report reads (its data contract)."""
    from quire.contract import CONTRACTS, contract
    from quire.contract.docs import markdown as page
    from quire.contract.screen import WIDTH, contract_view

    if markdown:
        if report:
            raise typer.BadParameter("--markdown writes the page of every report; give no REPORT", param_hint="REPORT")
        sys.stdout.write(page())
        return
    chosen = [contract(report)] if report else list(CONTRACTS.values())
    out.print(contract_view(chosen), width=min(out.width, WIDTH), highlight=False, soft_wrap=False)


@warehouse_app.command("import")
def warehouse_import(
    mapping: Annotated[Path, typer.Argument(help="The mapping file (YAML): which files or tables fill which Quire tables.")],
    memory_limit: Annotated[str, typer.Option(help="Most memory DuckDB may use while importing (it spills to disk beyond).")] = "1GB",
    url: Annotated[str | None, typer.Option(help="Warehouse to load, or database for mode: views (default: QUIRE_WAREHOUSE_URL).")] = None,
) -> None:
    """Load CSV/Parquet files into the warehouse (all or nothing), or with mode: views map your own tables."""
    from quire.dataio import load_mapping

    spec = load_mapping(mapping)
    target = url or get_settings().warehouse
    if spec.mode == "views":
        _create_views(spec, target)
    else:
        _import_files(spec, target, memory_limit)


def _import_files(spec, target: str, memory_limit: str) -> None:
    from quire.dataio import import_files

    with err.status("importing…") as status:
        stats = import_files(spec, target, memory_limit=memory_limit, progress=lambda msg: status.update(msg))
    out.print(f"[green]✓[/green] imported {sum(stats.rows.values()):,} rows in {stats.seconds:.1f} s: "
              f"{_counts(stats.rows)}{_derived(stats.derived)}{_skipped(stats.skipped, spec)}"
              f"{_repeated(stats.duplicates, spec)}{_shared(stats.shared_slugs)} → {_redact(target)}",
              highlight=False)
    if stats.previous is not None:
        out.print(f"  the warehouse it replaced is kept as {stats.previous} (`mv` it back to undo the import)",
                  highlight=False, markup=False)


def _create_views(spec, target: str) -> None:
    from quire.dataio import create_views

    with err.status("creating views…") as status:
        stats = create_views(spec, target, progress=lambda msg: status.update(msg))
    where = f"schema {stats.schema}" if stats.schema else "the default schema"
    out.print(f"[green]✓[/green] {len(stats.rows)} views in {where} of {_redact(target)}: {_counts(stats.rows)}"
              f"{_derived(stats.derived)}", highlight=False)


def _skipped(skipped: dict[str, int], spec) -> str:
    return "".join(f"; left out {_rows(n)} of {table} without {' or '.join(spec.tables[table].skip_rows_without)}"
                   for table, n in skipped.items())


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def _repeated(duplicates: dict[str, int], spec) -> str:
    how = {"first": "after the first of each key", "drop": "sharing a key"}
    return "".join(f"; left out {_rows(n)} of {table} {how[spec.tables[table].duplicates]}"
                   for table, n in duplicates.items())


def _shared(slugs: tuple[str, ...]) -> str:
    if not slugs:
        return ""
    shown = ", ".join(slugs[:3]) + (", …" if len(slugs) > 3 else "")
    return f"; {len(slugs):,} clients whose names make the same slug have their id after it ({shown})"


def _derived(tables: tuple[str, ...]) -> str:
    return f"; made from the others: {', '.join(tables)}" if tables else ""


@warehouse_app.command("export")
def warehouse_export(
    directory: Annotated[str, typer.Argument(help="Folder to write the files and mapping.yaml into.")],
    format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    force: Annotated[bool, typer.Option("--force", help="Replace files of the same names already in the folder.")] = False,
) -> None:
    """Write every table of the warehouse as files, with the mapping that imports them back."""
    from quire.dataio import export_warehouse

    # Read as text: as a Path, "" (an unset shell variable) is "." and the export filled the current folder.
    if not directory.strip():
        raise typer.BadParameter("no folder given; name the folder to export into (. for the current one)",
                                 param_hint="DIRECTORY")
    folder = Path(directory)
    if format not in ("csv", "parquet"):
        raise typer.BadParameter(f"{format!r}; choose csv or parquet", param_hint="--format")
    settings = get_settings()
    with err.status("exporting…") as status:
        stats = export_warehouse(settings.warehouse, folder, format, progress=lambda msg: status.update(msg),
                                 replace=force)
    out.print(f"[green]✓[/green] {len(stats.rows)} tables ({sum(stats.rows.values()):,} rows) → {folder}; "
              f"import them back with: quire warehouse import {stats.mapping}", highlight=False)


def _counts(rows: dict[str, int]) -> str:
    return ", ".join(f"{table} {count:,}" for table, count in rows.items())


def _redact(url: str) -> str:
    """A URL safe to print: the password (if any) replaced."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def list_clients() -> None:
    """List the warehouse's clients (slug, sector, brand, status) for -p client=… and --clients, by slug."""
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(get_settings().warehouse) as conn:
        frame = queries.clients(conn).sort_values("slug")
    table = listing("slug", "name", "sector", "plan", "region", "brand", "status")  # the slug goes into -p client=…
    for row in frame.itertuples():
        churned = f"churned {row.churned_on:%Y-%m-%d}" if row.status == "churned" and not _missing(row.churned_on) else row.status
        # A column the warehouse lacks (optional in the data contract) reads as empty: shown as "—".
        table.add_row(*(Text("—") if _missing(value) else cell(value)
                        for value in (row.slug, row.name, row.sector, row.plan, row.region, row.brand)),
                      cell(churned, "dim" if row.status != "active" else ""))
    out.print(table)


def list_experiments() -> None:
    """List the warehouse's experiments (key, name, status, dates, variants) for -p experiment=…, newest first."""
    from quire.warehouse import queries
    from quire.warehouse.engine import connection
    from quire.warehouse.experiment_queries import variants

    import pandas as pd

    with connection(get_settings().warehouse) as conn:
        frame = queries.experiments(conn)
        arms = {row.experiment_id: variants(conn, int(row.experiment_id)) for row in frame.itertuples()}
    table = listing("key", "name", "status", "started", "ended", "variants", keep_whole=(0, 2, 3, 4))
    today = date.today()
    for row in frame.iloc[::-1].itertuples():
        ended = None if _missing(row.ended_on) else row.ended_on
        # Without a start date an experiment is neither planned nor running: the report refuses it (see the notes).
        status = ("undated" if _missing(row.started_on) else "planned" if pd.Timestamp(row.started_on).date() > today else
                  "running" if ended is None or pd.Timestamp(ended).date() >= today else "ended")
        names = ", ".join(f"{v.variant}{' (control)' if v.is_control and v.variant != 'control' else ''}" for v in arms[row.experiment_id].itertuples())
        table.add_row(Text("—") if _missing(row.key) else cell(row.key), cell(row.name),
                      Text(status, "green" if status == "running" else ""),
                      "—" if _missing(row.started_on) else f"{row.started_on:%Y-%m-%d}",
                      "" if ended is None else f"{ended:%Y-%m-%d}", cell(names))
    out.print(table if len(frame) else "the warehouse holds no experiments", highlight=False)
    for note in _experiment_notes(frame):
        out.print(cell(note), highlight=False)


def _experiment_notes(frame) -> list[str]:
    """What ``quire experiments`` says under its table about experiments a run cannot take: one without a key (no
    ``-p experiment=…`` names it) or without a start date (the report refuses it)."""
    keyless = [f"experiment_id {i}" for i in frame.loc[frame["key"].isna(), "experiment_id"]]
    undated = [str(k) if not _missing(k) else f"experiment_id {i}"
               for k, i in frame.loc[frame["started_on"].isna(), ["key", "experiment_id"]].itertuples(index=False)]
    notes = []
    if keyless:
        notes.append(f"no key (shown as —): {', '.join(keyless)}; -p experiment=… cannot name "
                     f"{'it' if len(keyless) == 1 else 'them'} until the experiments table gives "
                     f"{'it one' if len(keyless) == 1 else 'each one'}")
    if undated:
        notes.append(f"no start date (undated): {', '.join(undated)}; the experiment report refuses "
                     f"{'it' if len(undated) == 1 else 'them'} until started_on is set in the experiments table")
    return notes


def _missing(value) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def register(app: typer.Typer) -> None:
    """Add the warehouse's commands to the ``quire`` app."""
    app.add_typer(warehouse_app, name="warehouse")
    app.command("clients")(list_clients)
    app.command("experiments")(list_experiments)
