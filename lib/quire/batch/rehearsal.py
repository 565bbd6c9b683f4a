"""Rehearse the built-in reports on a synthetic warehouse in the warm server, before it forks any run.

A run forked from the warm server starts with whatever the server has in memory.
Imports are one part of that; the other is what code builds on its first call and then
keeps: matplotlib's font objects and text-layout caches, the lazily imported internals
of pandas, seaborn and SciPy, the memory pages the allocator has already asked the
system for. Without a rehearsal every run builds those again and throws them away when its
process ends (measured on the ``large`` warehouse: a client run's process took 0.69
CPU-s and 110 MB of private memory; after a rehearsal 0.58 CPU-s and 74 MB).

The rehearsal's data is the warehouse generator's ``tiny`` sample in a temporary folder,
so no tenant's data is ever in the server and so in a forked run. It renders HTML only
(the PDF is the print service's work, in another process) into that folder, which is
removed after. Meanwhile it notes the figures each report's charts ask for, and then builds
blank spares of them in each brand kit's chart style (:mod:`quire.figure_pool`). What it
changes in the server is put back: the ``QUIRE_*`` environment and the cached settings,
matplotlib's rc parameters, and the cell shell (a new one: its namespace as new, and an
archived notebook numbers its cells from 1).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quire.brand import Brand
    from quire.catalog import ReportSpec
    from quire.config import Settings

#: The report modules whose notebooks can be rehearsed: the built-in notebooks, by their stem.
BUILT_IN = ("client", "executive", "cohort", "experiment")


def rehearse(reports: Iterable[str] | None = None) -> list[str]:
    """Run each built-in report in ``reports`` (catalog ids; None: all) once on synthetic data; the ids rehearsed.

    Raises :class:`~quire.errors.QuireError` naming the reports whose rehearsal failed (after
    rehearsing the others): their runs are slower, nothing else.
    """
    import matplotlib

    from quire import figure_pool
    from quire.config import get_settings, replace_environment, settings_environment

    settings = get_settings()
    specs = _built_in(settings, reports)
    if not specs:
        return []
    missed: list[str] = []
    saved_env = {k: v for k, v in os.environ.items() if k.startswith("QUIRE_")}
    folder = Path(tempfile.mkdtemp(prefix="quire-rehearsal-"))
    try:
        rehearsal = settings.model_copy(update={"outputs": folder / "outputs",
                                                "warehouse_url": f"duckdb:///{folder / 'warehouse.duckdb'}"})
        replace_environment(settings_environment(rehearsal))
        from quire.warehouse.load import build_warehouse

        build_warehouse(rehearsal.warehouse, scale="tiny")
        with figure_pool.recording():
            with matplotlib.rc_context():
                for spec in specs:
                    figure_pool.next_report()
                    try:
                        _run(spec, rehearsal)
                    except Exception as exc:
                        missed.append(f"{spec.id}: {exc}")
            figure_pool.make_spares(_brand_styles(settings))
    finally:
        replace_environment(saved_env)
        _reset_shell()
        _close_fonts()
        shutil.rmtree(folder, ignore_errors=True)
    if missed:
        from quire.errors import QuireError

        raise QuireError("; ".join(missed))
    return [spec.id for spec in specs]


def _built_in(settings: Settings, reports: Iterable[str] | None) -> list[ReportSpec]:
    """One catalog report per built-in notebook among ``reports``."""
    from quire.catalog import load_catalog

    wanted = None if reports is None else set(reports)
    chosen: dict[str, ReportSpec] = {}
    for report_id, spec in load_catalog(settings.catalog_path).reports.items():
        stem = Path(spec.notebook).stem
        if stem in BUILT_IN and stem not in chosen and (wanted is None or report_id in wanted):
            chosen[stem] = spec
    return [chosen[stem] for stem in BUILT_IN if stem in chosen]


def _run(spec: ReportSpec, settings: Settings) -> None:
    from dataclasses import replace

    from quire.pipeline import fan_out_clients, prepare, run_plan

    # A client report needs a client: the first active one of the sample; every other parameter takes its default.
    given = {name: fan_out_clients({}, settings)[0] for name, p in spec.parameters.items() if p.type == "client"}
    plan = prepare(spec.id, given, settings)
    run_plan(replace(plan, spec=spec.model_copy(update={"formats": ("html",)})), settings=settings, engine="batch")


#: How many brand kits (in name order) get blank spare figures (:mod:`quire.figure_pool`): each costs the server
#: ~0.1 s before its first fork, which a deployment of many kits should not pay for all of them.
SPARE_BRANDS = 8


def _brand_styles(settings: Settings) -> list[Callable[[], None]]:
    """A function per brand kit (the first :data:`SPARE_BRANDS`; broken kits left out) that sets matplotlib as a
    report run in that brand has it when it makes its figures."""
    from functools import partial

    from quire.brand import list_brands, load_brand
    from quire.errors import QuireError

    styles = []
    for name in list_brands(settings.templates_dir)[:SPARE_BRANDS]:
        try:
            styles.append(partial(_run_chart_settings, load_brand(name, settings.templates_dir)))
        except QuireError:
            continue  # its runs fail with the kit's problem; nothing to prepare
    return styles


def _run_chart_settings(kit: Brand) -> None:
    """The house style a run's set-up applies (:mod:`quire.notebook.setup`), then its report's own theme."""
    from quire.chart_style import use_brand
    from quire.notebook.house_style import use_chart_theme

    use_chart_theme(kit)
    use_brand(kit)


def _close_fonts() -> None:
    """Close the font files the charts opened: every forked process empties matplotlib's font cache anyway
    (an inherited file would share its read position with the server and every other run)."""
    from matplotlib import font_manager

    clear = getattr(getattr(font_manager, "_get_font", None), "cache_clear", None)
    if clear is not None:
        clear()


def _reset_shell() -> None:
    """A new cell shell in place of the one the rehearsal used: the runs start from a shell no cell ran in."""
    from quire.batch.inprocess import CellShell

    if CellShell.initialized():
        CellShell.clear_instance()
        CellShell.instance()
