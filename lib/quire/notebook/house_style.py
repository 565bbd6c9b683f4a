"""The house style for plain notebook output: an analyst's pandas tables and matplotlib/seaborn
figures come out like the built-in reports' without calling Quire for them.

:func:`use_house_style` — which ``quire run`` calls in the kernel before the notebook's first
cell (:mod:`quire.notebook.setup`) — sets the brand's chart theme
(:func:`quire.chart_style.use_brand`: palette, fonts, grid) and tells IPython to show

* a matplotlib figure as a report :class:`~quire.display.Chart`: reproducible SVG, its title
  as the caption, alt text derived from its title, axes and series (:mod:`quire.notebook.figures`);
* a pandas DataFrame or Series as a report :class:`~quire.display.Table` (:mod:`quire.notebook.frames`),
  its data saved with the run like a built-in table's.

Quire's own display objects are unaffected; a Styler keeps its own look.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quire.brand import Brand

#: Defaults for plain figures beyond the brand's theme: the proportions of the built-in reports'
#: full-width charts, a legend title no larger than the legend, and titles that matplotlib lifts
#: clear of a top axis or a "1e6" above the y axis (an analyst's figure may have them; report charts do not).
HOUSE_RC: dict[str, object] = {"figure.figsize": (8.0, 3.6), "legend.title_fontsize": 9, "axes.titley": None}
BRAND_VARIABLE = "QUIRE_BRAND"

_applied: str | None = None


def use_house_style(brand: str = "quire", templates_dir: str | Path | None = None, *,
                    locale: str | None = None, currency: str | None = None) -> None:
    """Dress plain matplotlib/seaborn figures and pandas tables of this session in ``brand``.

    ``templates_dir`` holds the brand kits (default: the configured one). Figures and dates are
    written in the brand's locale and currency, or in ``locale`` / ``currency`` when given (a
    client's own). Raises :class:`~quire.errors.ConfigError` for an unknown or broken brand kit.
    """
    global _applied
    from quire import formatting
    from quire.brand import load_brand

    kit = load_brand(brand, templates_dir)
    formatting.use(formatting.for_brand(kit, {"locale": locale, "currency": currency}))
    shell = _ipython()
    if shell is not None:
        _inline_backend(shell)
    use_chart_theme(kit)
    if shell is not None:
        _register_formatters(shell)
    _applied = kit.key


def use_chart_theme(kit: Brand) -> None:
    """The brand's chart theme (:func:`quire.chart_style.use_brand`) and the house defaults for plain figures."""
    import matplotlib.pyplot as plt

    from quire.chart_style import use_brand

    use_brand(kit)
    plt.rcParams.update(HOUSE_RC)


def applied_brand() -> str | None:
    """The brand this session's house style was set for, or None."""
    return _applied


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext quire.notebook``: the house style while writing a notebook in JupyterLab.

    A no-op when ``quire run`` has already applied it, so a notebook that loads the extension
    still wears the run's brand (a client's, for instance).
    """
    if _applied is None:
        use_house_style(os.environ.get(BRAND_VARIABLE) or "quire")


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _inline_backend(shell: Any) -> None:
    """Make sure a kernel shows figures inline (an environment's MPLBACKEND=Agg would hide them)."""
    import matplotlib

    if not hasattr(shell, "kernel"):  # a terminal IPython draws in windows; leave it alone
        return
    try:
        current = matplotlib.get_backend(auto_select=False)
    except TypeError:
        current = matplotlib.rcParams._get("backend")
    if "inline" not in str(current or "").lower():
        shell.run_line_magic("matplotlib", "inline")


def _register_formatters(shell: Any) -> None:
    import pandas as pd
    from matplotlib.artist import Artist
    from matplotlib.container import Container
    from matplotlib.figure import Figure

    formatter = shell.display_formatter
    # The "display yourself" hook: `%matplotlib inline` resets the image formatters of Figure,
    # but never this one, so the house style survives an analyst's own magic.
    formatter.ipython_display_formatter.for_type(Figure, _display_figure)
    # What plotting calls return ("<Axes: …>", "Text(0.5, 1.0, 'MRR')", "[<Line2D at 0x…>]") is
    # not report content: a notebook shows it unless the line ends in ";", a report never.
    formatter.ipython_display_formatter.for_type(Artist, _display_nothing)
    formatter.ipython_display_formatter.for_type(Container, _display_nothing)
    for sequence in (list, tuple):
        formatter.formatters["text/plain"].for_type(sequence, _plain_unless_artists(sequence))
    # A whole bundle, so that a plain DataFrame's data is saved beside the report (CSV, report.xlsx)
    # like a built-in table's, not only its HTML.
    formatter.mimebundle_formatter.for_type(pd.DataFrame, _table_bundle)
    formatter.mimebundle_formatter.for_type(pd.Series, _table_bundle)


def _display_nothing(_: Any) -> None:
    """Show nothing (the report template also drops an empty plain-text output)."""


def _plain_unless_artists(sequence: type) -> Any:
    """IPython's own pretty printer for ``sequence``, except that a list of plot elements prints as nothing."""
    from IPython.lib.pretty import _type_pprinters
    from matplotlib.artist import Artist
    from matplotlib.container import Container

    default = _type_pprinters[sequence]

    def printer(obj: Any, p: Any, cycle: bool) -> None:
        if obj and all(isinstance(item, (Artist, Container)) for item in obj):
            return
        default(obj, p, cycle)

    return printer


def _display_figure(fig: Any) -> None:
    from IPython.display import display

    from quire.notebook.figures import figure_chart

    display(figure_chart(fig))


def _table_bundle(frame: Any, include: Any = None, exclude: Any = None) -> dict[str, Any]:
    """A DataFrame or Series as a report table: its HTML, its data (:data:`~quire.display.TABLES_MIME`), plain text."""
    from quire.display import TABLES_MIME
    from quire.notebook.frames import frame_data, frame_table

    # The plain text as pandas prints it, for whoever reads the executed notebook as text.
    return {"text/html": frame_table(frame).html(), "text/plain": repr(frame), TABLES_MIME: frame_data(frame)}


__all__ = ["use_house_style", "use_chart_theme", "applied_brand", "load_ipython_extension", "HOUSE_RC", "BRAND_VARIABLE"]
