"""The ``quire`` command.

Every :class:`QuireError` ends the command with one line on stderr and its exit code
(2 for a user's mistake in parameters or configuration); a traceback means a bug.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import click
import typer
from rich.console import Console
from rich.table import Table

from quire.config import get_settings
from quire.errors import QuireError

if TYPE_CHECKING:
    from quire.pipeline import RunPlan

app = typer.Typer(help="Quire: parameterized notebooks rendered to branded HTML and PDF reports.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
warehouse_app = typer.Typer(help="Build or inspect the warehouse.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
# soft_wrap: paths and messages stay on one line whatever the terminal width (scripts grep them).
# Piped or logged output has no terminal width; Rich would assume 80 columns and squeeze tables
# into one letter per line, so it gets room for a run id, a path and an error side by side.
_PIPED_WIDTH = 240
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else _PIPED_WIDTH)
err = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else _PIPED_WIDTH)


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
    all_reports: Annotated[bool, typer.Option("--all", help="Run every report of the catalog with its defaults (per-client reports for every active client).")] = False,
    all_clients: Annotated[bool, typer.Option("--all-clients", help="One run per active client.")] = False,
    clients: Annotated[list[str], typer.Option("--clients", help="One run per active client matching field=value (sector, plan, region, brand); repeat to narrow.")] = [],
) -> None:
    """Run a report now and publish it under outputs/."""
    from quire.catalog import load_catalog
    from quire.parameters import parse_assignments
    from quire.pipeline import fan_out_clients, prepare

    settings = get_settings()
    if all_reports == bool(report):
        raise click.UsageError("give a REPORT or --all (not both)")
    if all_reports and (param or all_clients or clients):
        raise click.UsageError("--all runs every report with its defaults; it takes no -p, --all-clients or --clients")
    given = parse_assignments(param)
    catalog = load_catalog(settings.catalog_path)
    fan_out = all_clients or bool(clients)
    if fan_out and "client" in given:
        raise click.UsageError("-p client=… names one client; --all-clients and --clients select many")
    jobs: list[tuple[str, dict[str, str]]] = []
    for rid in list(catalog.reports) if all_reports else [report]:
        spec = catalog.get(rid)
        if fan_out and spec.fan_out != "clients":
            raise click.UsageError(f"report {rid!r} does not run per client")
        if spec.fan_out == "clients" and (fan_out or all_reports):
            selected = fan_out_clients(parse_assignments(clients), settings)
            jobs += [(rid, {**given, "client": slug}) for slug in selected]
        else:
            jobs.append((rid, given))
    # Every run is validated before the first one starts: a bad parameter stops all of them (exit 2, no output).
    plans = [prepare(rid, given, settings) for rid, given in jobs]
    failures = _run_plans(plans)
    if failures:
        raise typer.Exit(1)


def _run_plans(plans: list[RunPlan]) -> int:
    """Run each plan in turn; one failing run does not stop the others. Returns the number of failures."""
    from quire.pipeline import run_plan
    from quire.state.recorder import manual_run  # manual runs go into the run history too

    summary = Table("report", "client", "status", "output / error", "seconds")
    for column in summary.columns:
        column.overflow = "fold"  # a path or an error cut short with … would be useless
    failures = 0
    for number, plan in enumerate(plans, start=1):
        rid, client = plan.spec.id, plan.tenant.slug if plan.tenant else ""
        label = rid + (f" · {client}" if client else "")
        if len(plans) > 1:
            err.print(f"[bold]▶ {label}[/bold] ({number}/{len(plans)})", highlight=False)
        try:
            with manual_run(plan) as recording:  # records running, then succeeded/failed
                result = recording.result = run_plan(plan, progress=sys.stderr.isatty(), run_id=recording.run_id)
        except QuireError as exc:
            if len(plans) == 1:
                raise
            failures += 1
            err.print(f"[red]✗[/red] {label}: {exc}", highlight=False)
            summary.add_row(rid, client, "[red]failed[/red]", str(exc), "")
            continue
        out.print(f"[green]✓[/green] {label} → {_relative(result.folder)}  ({result.timings.get('total', 0):.1f} s)", highlight=False)
        for kind in ("html", "pdf"):
            if kind in result.files:
                out.print(f"    {kind}: {_relative(result.files[kind])}", highlight=False)
        summary.add_row(rid, result.client or "", "[green]ok[/green]", _relative(result.folder), f"{result.timings.get('total', 0):.1f}")
    if len(plans) > 1:
        summary.title = f"{len(plans) - failures} of {len(plans)} runs succeeded"
        out.print(summary)
    return failures


@app.command("clients")
def list_clients() -> None:
    """List the warehouse's clients (slug, sector, brand, status) for -p client=… and --clients."""
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(get_settings().warehouse) as conn:
        frame = queries.clients(conn)
    table = Table("slug", "name", "sector", "plan", "region", "brand", "status")
    for row in frame.itertuples():
        table.add_row(row.slug, row.name, row.sector, row.plan, row.region, row.brand, row.status)
    out.print(table)


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


@app.command("serve")
def serve_apps(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8866,
    ip: Annotated[str, typer.Option(help="Address to listen on; keep 127.0.0.1 behind a reverse proxy.")] = "127.0.0.1",
    client: Annotated[Optional[str], typer.Option(help="Client-facing mode: serve only the client app, pinned to this client slug.")] = None,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Serve without a token (only behind a proxy that authenticates).")] = False,
    preheat: Annotated[bool, typer.Option(help="Keep pre-rendered kernels ready for each app.")] = True,
    pool_size: Annotated[int, typer.Option(min=0, max=8, help="Preheated kernels per app.")] = 1,
    cull_idle_timeout: Annotated[int, typer.Option(min=0, help="Seconds before an idle kernel without a page is shut down (0: never).")] = 600,
    cull_interval: Annotated[int, typer.Option(min=1, help="Seconds between two checks for idle kernels.")] = 60,
    base_url: Annotated[str, typer.Option(help="URL prefix when served under a path of a reverse proxy, e.g. /apps/.")] = "/",
) -> None:
    """Serve the stakeholder apps (Voilà) with a landing page listing the apps and the latest runs."""
    from quire.serve import ServeOptions, serve

    base = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    opts = ServeOptions(ip=ip, port=port, auth=not no_auth, client=client, preheat=preheat, pool_size=pool_size,
                        cull_idle_timeout=cull_idle_timeout, cull_interval=cull_interval, base_url=base)
    if no_auth:
        err.print("[yellow]warning:[/yellow] --no-auth: anyone who can reach this port can use the apps", highlight=False)

    def announce(url: str) -> None:
        mode = f"client-facing mode for {client}" if client else "internal mode"
        out.print(f"Quire apps ({mode}) at {url}", highlight=False)

    serve(opts, get_settings(), announce=announce)


# The scheduling service's commands: quire scheduler, quire runs, quire deliver.
from quire.cli_service import register as _register_service  # noqa: E402

_register_service(app)


# quire brand check|list.
from quire.cli_brand import brand_app  # noqa: E402

app.add_typer(brand_app, name="brand")
from quire.cli_console import tokens_app  # noqa: E402  quire tokens create|list|revoke (console and API access)
app.add_typer(tokens_app, name="tokens")

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
