"""The ``quire`` command.

Every :class:`QuireError` ends the command with one line on stderr and its exit code
(2 for a user's mistake in parameters or configuration); a traceback means a bug.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from rich.console import Console
from rich.table import Table

from quire.config import get_settings
from quire.errors import QuireError

app = typer.Typer(help="Quire: parameterized notebooks rendered to branded HTML and PDF reports.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
warehouse_app = typer.Typer(help="Build or inspect the warehouse.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
out = Console()
err = Console(stderr=True)


@app.command("list")
def list_reports() -> None:
    """List the reports of the catalog."""
    from quire.catalog import load_catalog

    catalog = load_catalog(get_settings().catalog_path)
    table = Table("report", "title", "notebook", "formats", "owner")
    for spec in catalog.reports.values():
        table.add_row(spec.id, spec.title, spec.notebook, ", ".join(spec.formats), spec.owner)
    out.print(table)


@app.command()
def validate() -> None:
    """Check the catalog, every notebook's parameters and every brand kit."""
    from quire.validation import validate_project

    problems = validate_project(get_settings())
    for problem in problems:
        err.print(f"[red]✗[/red] {problem}", highlight=False)
    if problems:
        raise typer.Exit(2)
    out.print("[green]✓[/green] catalog, notebooks and brands are valid")


@app.command()
def run(
    report: Annotated[Optional[str], typer.Argument(help="Report id from reports.yaml.")] = None,
    param: Annotated[list[str], typer.Option("--param", "-p", help="name=value; repeat for several.")] = [],
    all_reports: Annotated[bool, typer.Option("--all", help="Run every report of the catalog with its defaults.")] = False,
) -> None:
    """Run a report now and publish it under outputs/."""
    from quire.catalog import load_catalog
    from quire.parameters import parse_assignments
    from quire.pipeline import run_report

    settings = get_settings()
    if all_reports == bool(report):
        raise click.UsageError("give a REPORT or --all (not both)")
    if all_reports and param:
        raise click.UsageError("-p cannot be combined with --all")
    given = parse_assignments(param)
    reports = list(load_catalog(settings.catalog_path).reports) if all_reports else [report]
    for rid in reports:
        err.print(f"[bold]▶ {rid}[/bold]", highlight=False)
        result = run_report(rid, given, settings=settings, progress=sys.stderr.isatty())
        seconds = result.timings.get("total", 0.0)
        out.print(f"[green]✓[/green] {rid} → {_relative(result.folder)}  ({seconds:.1f} s)", highlight=False)
        for kind in ("html", "pdf"):
            if kind in result.files:
                out.print(f"    {kind}: {_relative(result.files[kind])}", highlight=False)


@warehouse_app.command("build")
def warehouse_build(
    scale: Annotated[str, typer.Option(help="tiny (tests), demo (quickstart) or large (benchmarks).")] = "demo",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same data.")] = 7,
) -> None:
    """Generate the sample warehouse into the configured warehouse URL."""
    from quire.warehouse.generator import SCALES
    from quire.warehouse.load import build_warehouse

    if scale not in SCALES:
        raise click.BadParameter(f"{scale!r}; choose one of {', '.join(SCALES)}", param_hint="--scale")
    settings = get_settings()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with err.status(f"building the {scale} warehouse…") as status:
        stats = build_warehouse(settings.warehouse, scale=scale, seed=seed,
                                progress=lambda msg: status.update(f"building the {scale} warehouse: {msg}"))
    rows = sum(stats.rows.values())
    size = f", {stats.size_bytes / 1e6:.1f} MB" if stats.size_bytes else ""
    out.print(f"[green]✓[/green] {scale} warehouse: {rows:,} rows in {len(stats.rows)} tables, "
              f"{stats.seconds:.1f} s{size} → {_redact(settings.warehouse)}", highlight=False)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _redact(url: str) -> str:
    """A URL safe to print: the password (if any) replaced."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    """Entry point: run the app, turning Quire's errors into one-line messages."""
    try:
        code = app(standalone_mode=False)  # returns the exit code of typer.Exit instead of raising it
    except QuireError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
