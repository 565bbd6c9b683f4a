"""The ``quire`` command.

Every :class:`QuireError` ends the command with one line on stderr and its exit code
(2 for a user's mistake in parameters or configuration); a usage mistake (unknown
command or option, missing argument, a value of the wrong type) prints the usage and
one error line and exits 2. A traceback means a bug.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from quire.config import get_settings
from quire.errors import QuireError, describe_os_error
from quire.terminal import err, error_line, out, run_label

if TYPE_CHECKING:
    from quire.pipeline import RunPlan

app = typer.Typer(help="Quire: parameterized notebooks rendered to branded HTML and PDF reports.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

@app.command("list")
def list_reports() -> None:
    """List the reports of the catalog."""
    from quire.catalog import load_catalog

    catalog = load_catalog(get_settings().catalog_path)
    table = Table("report", "title", "notebook", "formats", "owner")
    for spec in catalog.reports.values():
        table.add_row(*(Text(value) for value in (spec.id, spec.title, spec.notebook, ", ".join(spec.formats), spec.owner)))
    out.print(table)


@app.command()
def validate() -> None:
    """Check the catalog, every notebook's parameters and every brand kit."""
    from quire.validation import validate_project

    problems = validate_project(get_settings())
    for problem in problems:
        err.print(Text.assemble(("✗", "red"), f" {problem}"), highlight=False)
    if problems:
        raise typer.Exit(2)
    out.print("[green]✓[/green] catalog, notebooks and brands are valid")


@app.command()
def run(
    ctx: typer.Context,
    report: Annotated[Optional[str], typer.Argument(help="Report id from reports.yaml.")] = None,
    param: Annotated[list[str], typer.Option("--param", "-p", help="name=value; repeat for several.")] = [],
    all_reports: Annotated[bool, typer.Option("--all", help="Run every report of the catalog with its defaults (per-client reports for every active client).")] = False,
    all_clients: Annotated[bool, typer.Option("--all-clients", help="One run per active client.")] = False,
    clients: Annotated[list[str], typer.Option("--clients", help="One run per active client matching field=value (sector, plan, region, brand); repeat to narrow.")] = [],
) -> None:
    """Run a report now and publish it under outputs/."""
    from quire.catalog import load_catalog
    from quire.parameters import parse_assignments
    from quire.pipeline import ClientNotSubscribedError, fan_out_clients, prepare

    settings = get_settings()
    if all_reports == bool(report):
        ctx.fail("give a REPORT or --all (not both)")
    if all_reports and (param or all_clients or clients):
        ctx.fail("--all runs every report with its defaults; it takes no -p, --all-clients or --clients")
    given = parse_assignments(param)
    catalog = load_catalog(settings.catalog_path)
    fan_out = all_clients or bool(clients)
    if fan_out and "client" in given:
        ctx.fail("-p client=… names one client; --all-clients and --clients select many")
    jobs: list[tuple[str, dict[str, str], bool]] = []  # (report, parameters, one of a fan-out)
    for rid in list(catalog.reports) if all_reports else [report]:
        spec = catalog.get(rid)
        if fan_out and spec.fan_out != "clients":
            ctx.fail(f"report {rid!r} does not run per client")
        if spec.fan_out == "clients" and (fan_out or all_reports):
            selected = fan_out_clients(parse_assignments(clients), settings)
            jobs += [(rid, {**given, "client": slug}, True) for slug in selected]
        else:
            jobs.append((rid, given, False))
    # Every run is validated before the first one starts: a bad parameter stops all of them (exit 2, no output).
    # Only a client of a fan-out that was not subscribed in the period is left out, with a note.
    plans = []
    for rid, params, fanned in jobs:
        try:
            plans.append(prepare(rid, params, settings))
        except ClientNotSubscribedError as exc:
            if not fanned:
                raise
            err.print(Text(f"– {rid} · {params['client']}: left out, {exc}"), highlight=False)
    if _run_plans(plans):
        raise typer.Exit(1)


def _run_plans(plans: list[RunPlan]) -> int:
    """Run each plan in turn; one failing run does not stop the others. Returns the number of failures."""
    from quire.pipeline import run_plan
    from quire.state.recorder import manual_run

    summary = Table("run", "status", "output / error", "seconds")
    for column in summary.columns:
        column.overflow = "fold"  # a path or an error cut short with … would be useless
    failures = 0
    for number, plan in enumerate(plans, start=1):
        label = run_label(plan.spec.id, plan.params, {name: p.type for name, p in plan.spec.parameters.items()})
        if len(plans) > 1:
            err.print(Text.assemble((f"▶ {label}", "bold"), f" ({number}/{len(plans)})"), highlight=False)
        try:
            with manual_run(plan) as recording:  # recorded as running, then succeeded or failed
                result = recording.result = run_plan(plan, progress=sys.stderr.isatty(), run_id=recording.run_id)
        except QuireError as exc:
            if len(plans) == 1:
                raise
            failures += 1
            err.print(Text.assemble(("✗", "red"), f" {label}: {exc}"), highlight=False)
            summary.add_row(Text(label), Text("failed", "red"), Text(str(exc)), "")
            continue
        seconds = f"{result.timings.get('total', 0):.1f}"
        out.print(Text.assemble(("✓", "green"), f" {label} → {_relative(result.folder)}  ({seconds} s)"), highlight=False)
        for kind in ("html", "pdf"):
            if kind in result.files:
                out.print(Text(f"    {kind}: {_relative(result.files[kind])}"), highlight=False)
        summary.add_row(Text(label), Text("ok", "green"), Text(_relative(result.folder)), seconds)
    if len(plans) > 1:
        summary.title = f"{len(plans) - failures} of {len(plans)} runs succeeded"
        out.print(summary)
    return failures


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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
        out.print(Text(f"Quire apps ({mode}) at {url}"), highlight=False)

    serve(opts, get_settings(), announce=announce)


def _register_commands() -> None:
    # The other command groups live in their own modules; they import the consoles from quire.terminal.
    from quire.cli_brand import brand_app
    from quire.cli_console import tokens_app
    from quire.cli_service import register as register_service
    from quire.cli_warehouse import register as register_warehouse

    register_warehouse(app)
    register_service(app)
    app.add_typer(brand_app, name="brand")
    app.add_typer(tokens_app, name="tokens")  # console and API access


_register_commands()


def main() -> None:
    """Entry point: run the app, turning Quire's errors and usage mistakes into short messages."""
    try:
        code = app(standalone_mode=False)  # returns the exit code of typer.Exit instead of raising it
    except QuireError as exc:
        error_line(str(exc))
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # typer's own (bundled click) usage errors: usage, then one error line
        show = getattr(exc, "show", None)
        show() if show else error_line(str(exc))
        sys.exit(getattr(exc, "exit_code", 2))
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except OSError as exc:  # the machine's fault (a full disk, a missing permission), not a bug in Quire
        error_line(describe_os_error(exc))
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
