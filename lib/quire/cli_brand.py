"""``quire brand …``: check a brand kit and see it on a sample report page.

``quire brand check NAME`` loads the kit with every validation a report run applies
(one line per problem, exit code 2), prints its colours with their contrast ratios,
and renders a sample report — cover, KPI cards, a chart in the brand's palette, a
table, callouts, glossary — to HTML and PDF so a designer can look at it before any
client does. Nothing here touches the warehouse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from quire.brand import Brand, chart_colour, contrast_ratio, list_brands, load_brand
from quire.terminal import out

brand_app = typer.Typer(help="Check brand kits.", no_args_is_help=True)


def sample_meta(brand: Brand) -> dict[str, str]:
    return {"title": "Sample report", "subtitle": f"How the {brand.name} brand kit looks on a report",
            "period": "October 2026", "client": "Sample Client", "generated": "30 November 2026",
            "report_id": "brand-check", "run_id": brand.key}


def sample_notebook(brand: Brand):
    """A small notebook shaped like a report (no kernel needed): every display object, charts in the brand's palette."""
    import matplotlib.pyplot as plt
    import nbformat
    import numpy as np
    import pandas as pd

    from quire.chart_style import to_chart, use_brand
    from quire.display import Callout, Glossary, Grid, KpiCards, ReportHeader, Section, Table
    from quire.metrics.kpi import Kpi

    use_brand(brand)
    months = pd.date_range("2025-11-01", periods=12, freq="MS")
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for i, label in enumerate(["Website", "Social", "E-mail"]):
        ax.plot(months, 1000 + 120 * i + np.arange(12) * (40 + 15 * i), label=label)
    ax.legend(loc="upper left")
    ax.set_ylabel("Views")
    lines = to_chart(fig, "Line chart of monthly views by channel, all three rising over the year", caption="Views by channel")
    palette = brand.palette
    fig, ax = plt.subplots(figsize=(4.6, 3.0))
    ax.bar([f"S{i + 1}" for i in range(len(palette))], range(len(palette), 0, -1), color=palette)
    ax.set_title("Chart palette")
    bars = to_chart(fig, f"Bar chart showing the {len(palette)} colours of the chart palette, in order")
    table = pd.DataFrame({"Channel": ["Website", "Social", "E-mail"], "Views": [18_230, 9_410, 4_120],
                          "Conversion rate": [0.031, 0.018, 0.052]})
    objects = [
        ReportHeader("Sample report", "October 2026", subtitle=f"How the {brand.name} brand kit looks on a report",
                     client="Sample Client"),
        KpiCards([Kpi("views", "Views", 31_760.0, "number", 29_400.0), Kpi("ctr", "Click-through rate", 0.021, "percent", 0.024),
                  Kpi("conv", "Conversions", 412.0, "number", 388.0), Kpi("nps", "NPS", 38.0, "points", 41.0)],
                 comparison_label="September 2026"),
        Section("Engagement", [lines, Grid([bars, Table(table, caption="Views by channel",
                                                       units={"Views": "number", "Conversion rate": "percent"})])],
                lead="Views rose for the third month in a row."),
        Section("Callouts", [Callout("Information in the brand's primary colour.", "info", title="Note:"),
                             Callout("A good result.", "good", title="Good:"),
                             Callout("Something to watch.", "warning", title="Watch:"),
                             Callout("Something to act on.", "critical", title="Act:")]),
        Glossary([("Views", "Times content was seen."), ("Click-through rate", "Clicks ÷ views."),
                  ("NPS", "Promoters minus detractors, in points.")]),
    ]
    cells = []
    for obj in objects:
        cell = nbformat.v4.new_code_cell("")
        cell.outputs = [nbformat.v4.new_output("display_data", data=obj._repr_mimebundle_())]
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def contrast_report(brand: Brand) -> tuple[list[str], list[str]]:
    """Lines describing the kit's contrast, and what the reports change to keep it (no warning is left: a colour
    that would not read is darkened, one that cannot be is refused when the kit loads)."""
    from quire.brand import CHART_CONTRAST, adjust_for_contrast, drawn_colours, mix

    c = brand.colors
    drawn = drawn_colours(c)
    lines = [f"text {c.text} on background {c.background}: {contrast_ratio(c.text, c.background):.2f}:1",
             f"white on primary {c.primary}: {contrast_ratio('#ffffff', c.primary):.2f}:1 (the cover's small print "
             f"{drawn['cover-small']}: {contrast_ratio(drawn['cover-small'], c.primary):.2f}:1)",
             f"primary on background: {contrast_ratio(c.primary, c.background):.2f}:1"]
    used = adjust_for_contrast(c.secondary, c.background)
    if used != c.secondary:
        lines.append(f"secondary {c.secondary} as text: {contrast_ratio(c.secondary, c.background):.2f}:1, "
                     f"darkened automatically to {used} ({contrast_ratio(used, c.background):.2f}:1)")
    muted = adjust_for_contrast(mix(c.text, c.background, 0.35), c.background)
    lines.append(f"muted text {muted}: {contrast_ratio(muted, c.background):.2f}:1")
    for i, colour in enumerate((c.primary, c.secondary, c.accent)):
        charted = chart_colour(colour, c.background)
        if charted != colour:
            lines.append(f"chart colour {i + 1} {colour}: {contrast_ratio(colour, c.background):.2f}:1 on the "
                         f"background, below {CHART_CONTRAST:g}:1 (WCAG 1.4.11); charts draw it darkened to "
                         f"{charted} ({contrast_ratio(charted, c.background):.2f}:1)")
    return lines, []


def render_sample(brand: Brand, folder: Path) -> tuple[Path, Path]:
    """Render the sample report for ``brand`` into ``folder``; returns the paths of its HTML and PDF."""
    from quire.render import render_html, render_pdf

    folder.mkdir(parents=True, exist_ok=True)
    html = render_html(sample_notebook(brand), brand=brand, meta=sample_meta(brand))
    pdf = render_pdf(html)
    html_path, pdf_path = folder / "sample.html", folder / "sample.pdf"
    html_path.write_text(html, encoding="utf-8")
    pdf_path.write_bytes(pdf)
    return html_path, pdf_path


def missing_fonts(font_stack: str) -> list[str]:
    """The families ``font_stack`` names when none of them is installed (the renders then fall back), else []."""
    from quire.chart_style import GENERIC_FAMILIES, font_families

    named = [part.strip().strip("'\"") for part in font_stack.split(",")]
    named = [name for name in named if name and name not in GENERIC_FAMILIES]
    return named if named and not set(named) & set(font_families(font_stack)) else []


@brand_app.command("check")
def check(
    name: Annotated[str, typer.Argument(help="Brand kit: a folder under templates/brands/.")],
    output: Annotated[Optional[Path], typer.Option("--out", help="Folder for sample.html and sample.pdf "
                                                   "(default outputs/.quire/brand-check/NAME).")] = None,
) -> None:
    """Validate one brand kit and render a sample page in it (HTML and PDF)."""
    from quire.config import get_settings

    settings = get_settings()
    brand = load_brand(name, settings.templates_dir)  # a QuireError becomes one line in quire.cli.main
    out.print(Text.assemble(("✓", "green"), f" brand '{brand.key}' ({brand.name}) is valid: logo {brand.logo_path.name}, "
                            f"{len(brand.palette)} chart colours"), highlight=False)
    lines, warnings = contrast_report(brand)
    missing = missing_fonts(brand.font_stack)
    if missing:
        warnings.append(f"none of the brand's fonts ({', '.join(missing)}) is installed on this machine: its charts "
                        "and PDFs use DejaVu Sans; install one (a Debian fonts- package, or the font files in "
                        "~/.local/share/fonts) or name an installed one in font_stack")
    logo = brand.logo_warning()
    if logo:
        warnings.append(logo)
    for line in lines:
        out.print(Text(f"    {line}"), highlight=False)
    for warning in warnings:
        out.print(Text.assemble(("!", "yellow"), f" {warning}"), highlight=False)
    folder = output or settings.state_dir / "brand-check" / brand.key
    html, pdf = render_sample(brand, folder)
    out.print(Text(f"    sample html: {html}"), highlight=False)
    out.print(Text(f"    sample pdf:  {pdf} ({pdf.stat().st_size / 1024:.0f} KB)"), highlight=False)


@brand_app.command("list")
def list_kits() -> None:
    """List the brand kits."""
    from quire.config import get_settings

    for key in list_brands(get_settings().templates_dir):
        out.print(Text(key), highlight=False)


__all__ = ["brand_app", "sample_notebook", "render_sample", "contrast_report"]
