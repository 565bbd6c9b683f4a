"""The ``quire`` command.

Every :class:`QuireError` ends the command with one line on stderr and its exit code
(2 for a user's mistake in parameters or configuration); a usage mistake (unknown
command or option, missing argument, a value of the wrong type) prints the usage and
one error line and exits 2. A traceback means a bug.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from quire.config import MAX_WORKERS, get_settings
from quire.errors import QuireError, describe_os_error
from quire.terminal import cell, err, error_line, listing, out, run_label, visible

if TYPE_CHECKING:
    from quire.catalog import ParameterSpec, ReportSpec
    from quire.pipeline import RunPlan

app = typer.Typer(help="Quire: parameterized notebooks rendered to branded HTML and PDF reports.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

@app.command("list")
def list_reports(
    report: Annotated[Optional[str], typer.Argument(help="A report: its parameters, their defaults and what they accept.")] = None,
) -> None:
    """List the reports of the catalog, or one report's parameters."""
    from quire.catalog import load_catalog

    settings = get_settings()
    catalog = load_catalog(settings.catalog_path)
    if report is not None:
        out.print(parameters_table(catalog.get(report), settings.home))
        return
    table = Table("report", "title", "notebook", "formats", "owner")
    for spec in catalog.reports.values():
        table.add_row(*(Text(value) for value in (spec.id, spec.title, spec.notebook, ", ".join(spec.formats), spec.owner)))
    out.print(table)
    out.print("`quire list REPORT` shows a report's parameters", highlight=False)


def parameters_table(spec: ReportSpec, home: Path) -> Table:
    """``spec``'s parameters as `quire run` takes them: type, the notebook's default, what is accepted, the help."""
    from quire.parameters import declared_parameters

    def accepted(p: ParameterSpec) -> str:
        if p.choices:
            return ", ".join(p.choices)
        if p.min is not None or p.max is not None:
            return f"{p.min:g} to {p.max:g}" if p.min is not None and p.max is not None else (
                f"at least {p.min:g}" if p.min is not None else f"at most {p.max:g}")
        return ""

    declared = declared_parameters(spec, home)
    # The example sets what a run needs (a parameter without a default) and one setting a run may tune.
    required = [f"-p {p.name}=<{p.spec.type}>" for p in declared.values() if p.default in (None, "")]
    given = [p for p in declared.values() if p.default not in (None, "")]
    tuned = next((p for p in given if p.spec.type in ("int", "float", "choice")), given[0] if given else None)
    example = " ".join(required + ([f"-p {tuned.name}={tuned.default}"] if tuned else []))
    table = Table("parameter", "type", "default", "accepts", "help",
                  title=f"{spec.title} ({spec.id}): {spec.description}".strip(), title_justify="left",
                  caption=f"e.g. quire run {spec.id} {example}" if example else None, caption_justify="left")
    for name, p in declared.items():
        default = "" if p.default is None else str(p.default)
        table.add_row(*(Text(value) for value in (name, p.spec.type, default, accepted(p.spec), p.help)))
    return table


@app.command()
def validate() -> None:
    """Check the catalog, every notebook's parameters and every brand kit."""
    from quire.validation import validate_project

    warnings: list[str] = []
    problems = validate_project(get_settings(), warnings)
    for problem in problems:
        err.print(Text.assemble(("✗", "red"), f" {problem}"), highlight=False)
    for warning in warnings:
        err.print(Text.assemble(("!", "yellow"), f" {warning}"), highlight=False)
    if problems:
        raise typer.Exit(2)
    out.print("[green]✓[/green] catalog, notebook parameters, brand kits and schedules are valid")


@app.command()
def run(
    ctx: typer.Context,
    report: Annotated[Optional[str], typer.Argument(help="Report id from reports.yaml.")] = None,
    param: Annotated[list[str], typer.Option("--param", "-p", help="name=value; repeat for several.")] = [],
    all_reports: Annotated[bool, typer.Option("--all", help="Run every report of the catalog with its defaults (per-client reports for every active client).")] = False,
    all_clients: Annotated[bool, typer.Option("--all-clients", help="One run per active client.")] = False,
    clients: Annotated[list[str], typer.Option("--clients", help="One run per active client matching field=value (sector, plan, region, brand); repeat to narrow.")] = [],
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, max=MAX_WORKERS, help="Runs at the same time (default: one per core).")] = None,
    engine: Annotated[str, typer.Option("--engine", help="batch (warm workers, no kernel per run) or papermill (a Jupyter kernel per run).")] = "",
) -> None:
    """Run a report now and publish it under outputs/."""
    from quire.catalog import load_catalog
    from quire.parameters import parse_assignments

    settings = get_settings()
    engine = engine or settings.engine
    if engine not in ("batch", "papermill"):
        raise typer.BadParameter(f"{engine!r}; choose batch or papermill", param_hint="--engine")
    if engine == "papermill":  # a kernel per run: a missing one is a setting's mistake, said before any run (exit 2)
        from quire.execute import get_engine

        get_engine(engine).check_kernel(settings.kernel_name)
    if all_reports == bool(report):
        ctx.fail("give a REPORT or --all (not both)")
    if all_reports and (param or all_clients or clients):
        ctx.fail("--all runs every report with its defaults; it takes no -p, --all-clients or --clients")
    given = parse_assignments(param)
    service = _warm_service(settings) if engine == "batch" else None
    if engine == "batch" and service is None:
        from quire.batch.runner import start_warming

        # The warm worker imports while this process imports the pipeline and validates the runs
        # (it exits with this command): started before the pipeline's own imports, not after them.
        start_warming(single_run=not (all_reports or all_clients or clients), reports=[report] if report else None)
    from quire.pipeline import fan_out_clients, prepare_runs

    catalog = load_catalog(settings.catalog_path)
    fan_out = all_clients or bool(clients)
    if fan_out and "client" in given:
        ctx.fail("-p client=… names one client; --all-clients and --clients select many")
    jobs: list[tuple[str, dict[str, str], bool]] = []  # (report, parameters, one of a fan-out)
    skipped: list[str] = []
    unrunnable: list[str] = []  # clients a fan-out leaves out (no slug, an unknown status)
    first_error: QuireError | None = None
    for rid in list(catalog.reports) if all_reports else [report]:
        spec = catalog.get(rid)
        if fan_out and spec.fan_out != "clients":
            ctx.fail(f"report {rid!r} does not run per client")
        if spec.fan_out == "clients" and (fan_out or all_reports):
            try:
                selected = fan_out_clients(parse_assignments(clients, example="--clients sector=nonprofit"), settings,
                                           unrunnable)
            except QuireError as exc:
                if not all_reports:
                    raise
                skipped.append(f"{rid}: skipped, {exc}")
                first_error = first_error or exc
                continue
            jobs += [(rid, {**given, "client": slug}, True) for slug in selected]
        else:
            jobs.append((rid, given, False))
    # Every run is validated before the first one starts: a bad parameter stops all of them (exit 2, no output).
    # Only a client of a fan-out that was not subscribed in the period is left out, with a note; --all skips
    # what the warehouse cannot serve (an imported warehouse may hold one report's data) and runs the rest.
    # A warm service validates in a process that has already imported what validation needs.
    if first_error and not jobs:
        raise first_error  # nothing can run (a warehouse that is down): one error, as for a single run
    args = (jobs, settings, all_reports)
    plans, left_out, not_run = service.call(prepare_runs, args, settings) if service else prepare_runs(*args)
    skipped += not_run
    for note in dict.fromkeys(unrunnable + left_out + skipped):  # once, though --all fans out each client report
        err.print(Text(f"– {note}"), highlight=False)
    # A command that started its own warm server leaves a warm service behind for the next one.
    leave = engine == "batch" and service is None and not settings.dask_scheduler and bool(settings.warm_linger)
    with _leaving_warm_service(settings) if leave else contextlib.nullcontext():
        failures = _run_plans(plans, workers=workers, engine=engine, executor=service) if plans else 0
    if skipped:
        were = "were" if len(skipped) > 1 else "was"
        err.print(Text(f"{len(skipped)} of the runs asked for {were} skipped (above); `quire warehouse check` "
                       "shows what each report needs"), highlight=False)
    # A client the warehouse leaves unrunnable (no slug, an unknown status) got no report, as a skipped one did:
    # the exit status says so to whoever runs the fan-out from cron or CI.
    if failures or skipped or unrunnable:
        raise typer.Exit(1)


def _warm_service(settings):
    """The warm service of ``quire warm`` when one serves these outputs (never with Dask, which runs the batch)."""
    if settings.dask_scheduler:
        return None
    from quire.batch.warm_service import find

    service, why_not = find(settings)
    if why_not:
        err.print(Text(f"note: {why_not}; running here instead"), highlight=False)
    return service


@contextlib.contextmanager
def _leaving_warm_service(settings):
    """Start a lingering warm service as the block ends, its run done or failed (not on Ctrl-C), and say so."""
    try:
        yield
    except QuireError:
        _leave_warm_service(settings)
        raise
    _leave_warm_service(settings)


def _leave_warm_service(settings) -> None:
    from quire.batch.warm_service import leave_behind

    try:
        pid = leave_behind(settings)
    except (OSError, QuireError) as exc:  # only speed is lost: the run itself is done
        why = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
        err.print(Text(f"note: no warm service was left for the next run ({why})"), highlight=False)
        return
    if pid is not None:
        linger = settings.warm_linger
        count, unit = (linger, "second") if linger % 60 else (linger // 60, "minute")
        idle = f"{count} idle {unit}{'s' if count != 1 else ''}"
        err.print(Text(f"note: a warm service (pid {pid}) now keeps Quire ready, so the next `quire run` starts at once; "
                       f"it stops after {idle} (`quire warm --stop` stops it now; QUIRE_WARM_LINGER=0 leaves none)"),
                  highlight=False)


def _run_plans(plans: list[RunPlan], *, workers: int | None, engine: str, executor=None) -> int:
    """Run every plan, ``workers`` at a time; one failing run does not stop the others. Returns the number of failures.

    A single run that fails ends the command with its one-line error, as any Quire error does.
    """
    from quire.batch import RunRequest, executor_for, run_batch
    from quire.state.recorder import ManualRuns

    settings = get_settings()
    executor = executor or executor_for(settings)
    executor.connect()  # a Dask cluster out of reach is said before any run is recorded as started
    history = ManualRuns(settings)
    requests = [RunRequest(history.start(plan), plan.spec.id, plan.params, plan=plan, engine=engine) for plan in plans]
    labels = {r.run_id: run_label(p.spec.id, p.params, {n: s.type for n, s in p.spec.parameters.items()})
              for r, p in zip(requests, plans, strict=True)}
    with BatchProgress(len(plans)) as progress:
        def done(request: RunRequest, outcome) -> None:
            history.finish(request.run_id, outcome)
            progress.finished(labels[request.run_id], outcome, show=len(plans) > 1)

        outcomes = run_batch(requests, settings, workers=workers, on_done=done, executor=executor)
    if len(plans) == 1:
        outcome = outcomes[0]
        if outcome.status != "succeeded":
            raise RunFailed(outcome)
        _print_success(labels[requests[0].run_id], outcome, files=True)
        return 0
    failures = sum(o.status != "succeeded" for o in outcomes)
    out.print(_summary([labels[r.run_id] for r in requests], outcomes), highlight=False)
    return failures


class RunFailed(QuireError):
    """The one run of a command failed: its message, and where its partial notebook was kept."""

    def __init__(self, outcome) -> None:
        super().__init__(outcome.error or outcome.status)


def _print_success(label: str, outcome, *, files: bool) -> None:
    folder = Path(outcome.output_folder)
    seconds = f"{outcome.timings.get('total', 0):.1f}"
    out.print(Text.assemble(("✓", "green"), f" {label} → {_relative(folder)}  ({seconds} s)"), highlight=False)
    if files:
        for name in ("report.html", "report.pdf"):
            if (folder / name).is_file():
                out.print(Text(f"    {name.split('.')[1]}: {_relative(folder / name)}"), highlight=False)


class BatchProgress:
    """A progress bar on a terminal (done/total, rate, time left, failures); one line per run otherwise."""

    def __init__(self, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.total, self.failed, self.started = total, 0, time.monotonic()
        self.bar = None
        if total > 1 and err.is_terminal:
            self.bar = Progress(TextColumn("[bold]running"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]}"), TextColumn("left"), TimeRemainingColumn(),
                                TextColumn("{task.fields[failed]}"), console=err, transient=True)
            self.task = self.bar.add_task("runs", total=total, rate="", failed="")

    def __enter__(self) -> BatchProgress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()

    def finished(self, label: str, outcome, *, show: bool) -> None:
        ok = outcome.status == "succeeded"
        self.failed += not ok
        for warning in outcome.warnings if ok else ():  # said whether the run's own line is or not
            err.print(Text.assemble(("warning:", "yellow"), f" {label}: {warning}"), highlight=False)
        if not ok and show:  # a failure is worth a line of its own, bar or not
            err.print(Text.assemble(("✗", "red"), f" {label}: {outcome.error}"), highlight=False)
        elif show and self.bar is None:
            _print_success(label, outcome, files=False)
        if self.bar is not None:
            done = self.bar.tasks[0].completed + 1
            per_minute = 60 * done / max(time.monotonic() - self.started, 1e-6)
            self.bar.update(self.task, advance=1, rate=f"{per_minute:.0f}/min",
                            failed=f"[red]{self.failed} failed[/red]" if self.failed else "")


#: A batch longer than this is summed up (counts, failures) rather than listed run by run.
SUMMARY_ROWS = 40


def _summary(labels: list[str], outcomes: list) -> Table:
    """One table at the end: every run of a short batch, or the failures of a long one."""
    failures = sum(o.status != "succeeded" for o in outcomes)
    summary = listing("run", "status", "output / error", "seconds", keep_whole=())
    rows = list(zip(labels, outcomes, strict=True))
    if len(rows) > SUMMARY_ROWS:
        rows = [(label, o) for label, o in rows if o.status != "succeeded"]
    for label, o in rows:
        if o.status == "succeeded":
            summary.add_row(Text(label), Text("ok", "green"), Text(_relative(Path(o.output_folder))),
                            f"{o.timings.get('total', 0):.1f}")
        else:
            summary.add_row(Text(label), Text(o.status.replace("_", " "), "red"), cell(o.error or ""), "")
    summary.title = f"{len(outcomes) - failures} of {len(outcomes)} runs succeeded"
    return summary


def _relative(path: Path) -> str:
    """``path`` relative to the working folder where it lies below it, with control characters written out (the
    outputs folder is the operator's setting, but a folder's name may hold anything)."""
    try:
        return visible(path.relative_to(Path.cwd()))
    except ValueError:
        return visible(path)


#: A --base-url: "/", or path segments of URL-safe characters ("/apps/", "reports/quire").
BASE_URL = re.compile(r"/?(?:[A-Za-z0-9._~-]+/)*[A-Za-z0-9._~-]*/?")


@app.command("serve")
def serve_apps(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8866,
    ip: Annotated[str, typer.Option(help="Address to listen on; keep 127.0.0.1 behind a reverse proxy.")] = "127.0.0.1",
    client: Annotated[Optional[str], typer.Option(help="Client-facing mode: serve only the client app, pinned to this client slug.")] = None,
    no_auth: Annotated[bool, typer.Option("--no-auth", help="Serve without a token, on 127.0.0.1 only (behind a proxy that authenticates).")] = False,
    # One flag, not --preheat/--no-preheat: the pair's second column cut the option names at 80 columns.
    no_preheat: Annotated[bool, typer.Option("--no-preheat", help="Start an app's kernel when a page asks, instead "
                                             "of keeping pre-rendered ones ready.")] = False,
    pool_size: Annotated[int, typer.Option(min=0, max=8, help="Preheated kernels per app.")] = 1,
    cull_idle_timeout: Annotated[int, typer.Option(min=0, help="Seconds before an idle kernel without a page is shut down (0: never).")] = 600,
    cull_interval: Annotated[int, typer.Option(min=1, help="Seconds between two checks for idle kernels.")] = 60,
    base_url: Annotated[str, typer.Option(help="URL prefix when served under a path of a reverse proxy, e.g. /apps/.")] = "/",
) -> None:
    """Serve the stakeholder apps (Voilà) with a landing page listing the apps and the latest runs."""
    if not BASE_URL.fullmatch(base_url) or {".", ".."} & set(base_url.split("/")):
        # The prefix goes into the server's URL patterns: "(", "?" or "#" broke them or the links.
        raise typer.BadParameter(f"{base_url!r}; use path segments of letters, digits, '.', '_', '~' and '-', "
                                 "e.g. /apps/ or /reports/quire/", param_hint="--base-url")
    if no_auth and not _loopback(ip):
        # Without a token, whoever reaches the address is the operator: every client's app and the console.
        raise typer.BadParameter(f"--no-auth serves only on this machine (127.0.0.1, ::1 or localhost), not on {ip!r}: "
                                 "put a proxy that authenticates in front of it on 127.0.0.1, or keep the token "
                                 "(QUIRE_SERVE_TOKEN) to serve on other addresses: a proxy on another host can send "
                                 "it as 'Authorization: Bearer <token>'", param_hint="--ip")
    # Imported once the options are known to be good: Voilà, SciPy and the apps take seconds to import.
    from quire.serve import ServeOptions, serve

    base = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    opts = ServeOptions(ip=ip, port=port, auth=not no_auth, client=client, preheat=not no_preheat, pool_size=pool_size,
                        cull_idle_timeout=cull_idle_timeout, cull_interval=cull_interval, base_url=base)
    if no_auth:
        err.print("[yellow]warning:[/yellow] --no-auth: anyone who can reach this port can use the apps", highlight=False)

    def announce(url: str) -> None:
        mode = f"client-facing mode for {client}" if client else "internal mode"
        out.print(Text(f"Quire apps ({mode}) at {url}"), highlight=False)

    serve(opts, get_settings(), announce=announce)


def _loopback(ip: str) -> bool:
    """Whether ``ip`` (``--ip``) listens on this machine only: a loopback address or ``localhost``."""
    import ipaddress

    if ip.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip.strip()).is_loopback
    except ValueError:  # a host name, or "" (every interface)
        return False


@app.command("warm")
def warm(
    linger: Annotated[Optional[int], typer.Option("--linger", min=1, help="Stop after this many seconds without a command (default: serve until stopped).")] = None,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the warm service of these outputs instead (one left by `quire run` too).")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the warm service of these outputs (one left by `quire run` too) is ready instead.")] = False,
    after: Annotated[Optional[int], typer.Option("--after", min=1, hidden=True, help="Warm up once this process has ended.")] = None,
    lock_fd: Annotated[Optional[int], typer.Option("--lock-fd", min=0, hidden=True, help="The service's lock, held by the command that started it.")] = None,
) -> None:
    """Keep a warm fork server and Chromium ready so that `quire run` starts at once (foreground; Ctrl-C stops it)."""
    import logging
    import os
    import signal

    from quire.batch.warm_service import WarmService, stop_service, wait_until_ready

    if stop and wait:
        raise typer.BadParameter("give one of them", param_hint="--stop or --wait")
    settings = get_settings()
    if stop or wait:
        pid = stop_service(settings) if stop else wait_until_ready(settings)
        done = (f"stopped the warm service (pid {pid})" if stop else
                f"the warm service (pid {pid}) is ready: the next `quire run` starts at once")
        out.print(Text(done if pid else f"no warm service serves {visible(settings.outputs_dir)}"), highlight=False)
        return
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with WarmService(settings, after=after, lock_fd=lock_fd) as service:
        signal.signal(signal.SIGTERM, lambda *_: service.stopped.set())
        until = f"stops after {linger} s without a command" if linger else "Ctrl-C stops it"
        out.print(Text(f"warm service ready in {service.warm_seconds:.1f} s (pid {os.getpid()}): `quire run` "
                       f"with outputs in {visible(settings.outputs_dir)} uses it; {until}"), highlight=False)
        try:
            service.wait(linger)
        except KeyboardInterrupt:
            pass


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
    _exit(_run_app())


def _run_app() -> int:
    """Run the command; its exit code."""
    try:
        code = app(standalone_mode=False)  # returns the exit code of typer.Exit instead of raising it
    except QuireError as exc:
        error_line(str(exc))
        return exc.exit_code
    except typer.TyperException as exc:  # typer's own (bundled click) usage errors: usage, then one error line
        _word_number_problem(exc)
        _parameter_given_as_option(exc)
        show = getattr(exc, "show", None)
        show() if show else error_line(str(exc))
        return getattr(exc, "exit_code", 2)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        return 130
    except OSError as exc:  # the machine's fault (a full disk, a missing permission), not a bug in Quire
        error_line(describe_os_error(exc))
        return 1
    return code if isinstance(code, int) else 0


#: click's names of the number types an option or argument converts to ("'two' is not a valid int range"),
#: in the words of someone typing the command.
_NUMBER_WORDS = {"int": "a whole number", "int range": "a whole number", "integer": "a whole number",
                 "integer range": "a whole number", "float": "a number", "float range": "a number"}
_NOT_A_NUMBER = re.compile(rf"(.*) is not a valid ({'|'.join(sorted(_NUMBER_WORDS, key=len, reverse=True))})\.?",
                           re.DOTALL)


#: click's "0 is not in the range x>=1" (or "1<=x<=65535", "x<10", "0<x"): the value, a bound before x, its
#: operator, the operator after x and its bound.
_OUT_OF_RANGE = re.compile(r"(.*) is not in the range (?:(\S+?)(<=?))?x(?:([<>]=?)(\S+?))?\.?", re.DOTALL)
_BOUND_WORDS = {">=": "{} or more", ">": "more than {}", "<=": "{} or less", "<": "less than {}"}


def _word_number_problem(exc: Exception) -> None:
    """Reword click's number mistakes in place: "'two' is not a valid int range" as "'two' is not a whole
    number", "0 is not in the range x>=1" as "0 is out of range; use 1 or more"."""
    message = str(getattr(exc, "message", ""))
    if found := _NOT_A_NUMBER.fullmatch(message):
        exc.message = f"{found[1]} is not {_NUMBER_WORDS[found[2]]}"
    elif (found := _OUT_OF_RANGE.fullmatch(message)) and (found[2] or found[5]):
        value, low, low_op, op, bound = found.groups()
        if low and op == low_op == "<=":
            wanted = f"a value from {low} to {bound}"
        else:  # "0<x" reads as x > 0
            bounds = ([(low_op.replace("<", ">"), low)] if low else []) + ([(op, bound)] if bound else [])
            wanted = " and ".join(_BOUND_WORDS[o].format(b) for o, b in bounds)
        exc.message = f"{value} is out of range; use {wanted}"


def _parameter_given_as_option(exc: Exception) -> None:
    """`quire run executive --period 2026-10`: add to click's "No such option: --period" how parameters are given."""
    name, ctx = getattr(exc, "option_name", None), getattr(exc, "ctx", None)
    if not name or not name.startswith("--") or ctx is None or ctx.info_name != "run" or getattr(exc, "possibilities", None):
        return  # with possibilities, click says which option of `run` was meant
    args = sys.argv[1:]
    spelled = next((a for a in args if a == name or a.startswith(name + "=")), name)
    value = (spelled.partition("=")[2] if "=" in spelled else
             args[args.index(spelled) + 1] if spelled in args[:-1] else "…")
    exc.message = (f"{exc.message}; a report's parameters are given with -p: -p {name[2:].replace('-', '_')}={value} "
                   "(`quire list REPORT` lists them)")


def _exit(code: int) -> None:
    """End the process with ``code`` after every exit handler, without the interpreter's teardown.

    After a run the interpreter holds pandas, matplotlib, SQLAlchemy and everything they made;
    freeing it object by object takes ~0.5 s, for memory the system takes back at once. The exit
    handlers (logging's, multiprocessing's, temporary files) still run and the output is flushed;
    while a non-daemon thread is alive the ordinary exit, which waits for it, is taken instead.
    """
    import atexit
    import os
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away (`quire runs | head`): nothing more to tell it
            pass
    os._exit(code)


if __name__ == "__main__":
    main()
