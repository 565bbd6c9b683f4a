"""What an analyst's report notebook needs from Quire, in one import.

``from quire.notebook import query, report_period, KpiCards, Kpi, Table, Chart, Callout, Section, to_chart``

* :func:`query` — one read-only SQL statement against the warehouse, with bound parameters;
* :func:`report_period` — the report's ``period`` parameter as a :class:`~quire.periods.Period`
  (``latest`` resolved against the data);
* the display objects the built-in reports show (:mod:`quire.display`) and :func:`to_chart`;
* :func:`use_house_style` — the brand's look for plain pandas and matplotlib/seaborn output
  (``quire run`` applies it before a notebook runs; ``%load_ext quire.notebook`` does it in JupyterLab).
* :func:`money`, :func:`percent`, :func:`number`, :func:`currency_symbol`, :func:`money_axis`,
  :func:`percent_axis` — figures written as the report's brand or client writes them ("1.234 €" in
  de-DE), so a notebook never hard-codes "$" (:mod:`quire.formatting`).

Names are imported on first use, so that ``quire run`` can prepare a notebook without loading
matplotlib or pandas.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "query": "quire.notebook.warehouse",
    "report_period": "quire.notebook.warehouse",
    "use_house_style": "quire.notebook.house_style",
    "to_chart": "quire.chart_style",
    "Kpi": "quire.metrics.kpi",
    **dict.fromkeys(("money", "percent", "number", "currency_symbol"), "quire.formatting"),
    **dict.fromkeys(("money_axis", "percent_axis"), "quire.formatting.axes"),
    **dict.fromkeys(("KpiCards", "Table", "Chart", "Callout", "Section", "Grid", "Alerts", "Glossary", "ReportHeader"),
                    "quire.display"),
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'quire.notebook' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext quire.notebook``: the house style in an interactive session (brand from QUIRE_BRAND, else quire)."""
    from quire.notebook.house_style import load_ipython_extension as load

    load(ipython)


__all__ = sorted(_EXPORTS)
