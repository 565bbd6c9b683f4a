"""A plain matplotlib figure as a report chart: its title becomes the caption, its alt text is derived.

Quire's own charts are built with :func:`quire.chart_style.to_chart`, whose alt text is
required (a chart without one is an error there). A plain figure an analyst draws in a
notebook gets alt text derived from what the figure says about itself — its kind (line, bar,
scatter…), title, axis labels and series names — and never fails a run for lack of one. A
figure that says nothing (no title, no axis label, no legend) can only be described by its
kind: it is still shown, and a :class:`ChartDescriptionWarning` in the run's log says how to
describe it. For a hand-written alt text, display ``to_chart(fig, alt=..., caption=...)``.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from quire.display import Chart


class ChartDescriptionWarning(UserWarning):
    """A plain figure has nothing to describe it by but its kind."""


def figure_chart(fig: Figure) -> Chart:
    """``fig`` as a report :class:`~quire.display.Chart` (the figure stays open)."""
    from quire.chart_style import figure_svg
    from quire.display import Chart

    alt, caption = describe(fig)
    _legends_beside(fig)
    with _title_hidden(fig, caption):
        image = figure_svg(fig)
    return Chart(image, alt=alt, caption=caption)


def _legends_beside(fig: Figure) -> None:
    """Move each chart's legend to the right of its plot area, where it can hide no data.

    matplotlib's default ("best") still lands on lines that cross the whole chart; the saved
    image grows to hold the legend (the SVG is cut to what is drawn).
    """
    import seaborn as sns

    for ax in _chart_axes(fig):
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def describe(fig: Figure) -> tuple[str, str]:
    """``(alt text, caption)`` of a figure: the caption is its title (the suptitle, or a single chart's title)."""
    axes = _chart_axes(fig)
    suptitle = fig.get_suptitle().strip() if hasattr(fig, "get_suptitle") else ""
    caption = suptitle or (_title(axes[0]) if len(axes) == 1 else "")
    parts = [_describe_axes(ax, with_title=len(axes) > 1) for ax in axes]
    if len(parts) == 1:
        alt = _join(f"{parts[0][0]}: {caption}" if caption else parts[0][0], parts[0][1])
    else:
        alt = " ".join([_join(f"Figure of {len(parts)} charts" + (f": {caption}" if caption else ""), ""),
                        *(f"{i}) {_join(kind, details)}" for i, (kind, details) in enumerate(parts, 1))])
    if not caption and not any(details for _, details in parts):
        warnings.warn(f"a figure has no title, axis label or legend, so its alt text can only say {alt!r}; "
                      "give it a title (ax.set_title) and axis labels, or display to_chart(fig, alt=...) instead",
                      ChartDescriptionWarning, stacklevel=2)
    return alt, caption


def _chart_axes(fig: Figure) -> list[Axes]:
    """The figure's charts: visible axes that are not colour bars."""
    return [ax for ax in fig.get_axes() if ax.get_visible() and not hasattr(ax, "_colorbar")]


def _title(ax: Axes) -> str:
    return next((t for t in (ax.get_title(loc).strip() for loc in ("center", "left", "right")) if t), "")


def _describe_axes(ax: Axes, *, with_title: bool) -> tuple[str, str]:
    """(kind, details) of one chart: "Line chart", "horizontal axis Month; vertical axis MRR; series A, B"."""
    kinds = _kinds(ax)
    kind = (" and ".join(kinds) if kinds else "chart").capitalize()
    details = []
    if with_title and _title(ax):
        details.append(f"“{_title(ax)}”")
    xlabel, ylabel = ax.get_xlabel().strip(), ax.get_ylabel().strip()
    if xlabel:
        details.append(f"horizontal axis {xlabel}")
    if ylabel:
        details.append(f"vertical axis {ylabel}")
    series = _series(ax)
    if series:
        details.append("series " + ", ".join(series))
    return kind, "; ".join(details)


def _kinds(ax: Axes) -> list[str]:
    from matplotlib.collections import PathCollection, PolyCollection, QuadMesh
    from matplotlib.container import BarContainer
    from matplotlib.patches import Wedge

    found = []
    if ax.images or any(isinstance(c, QuadMesh) for c in ax.collections):
        found.append("heatmap")
    if any(isinstance(c, BarContainer) for c in ax.containers):
        found.append("bar chart")
    if any(isinstance(p, Wedge) for p in ax.patches):
        found.append("pie chart")
    # Reference lines (axhline, axvline) have two points; a data line has more.
    if any(len(line.get_xdata()) > 2 for line in ax.lines):
        found.append("line chart")
    drawn = [c for c in ax.collections if c.get_visible() and any(len(path.vertices) for path in c.get_paths())]
    if any(isinstance(c, PathCollection) for c in drawn):
        found.append("scatter plot")
    # An interval band drawn around a line (seaborn's) is part of the line chart, not an area chart.
    if any(isinstance(c, PolyCollection) for c in drawn) and "line chart" not in found:
        found.append("area chart")
    return found[:2]


def _series(ax: Axes) -> list[str]:
    legend = ax.get_legend() or (ax.figure.legends[0] if ax.figure.legends else None)
    if legend is not None:
        labels = [t.get_text() for t in legend.get_texts()]
    else:
        labels = ax.get_legend_handles_labels()[1]
    return [label for label in labels if label and not label.startswith("_")][:12]


def _join(head: str, details: str) -> str:
    text = f"{head} ({details})" if details else head
    return text.rstrip(".") + "."


@contextmanager
def _title_hidden(fig: Figure, caption: str) -> Iterator[None]:
    """Leave the title out of the image while it is saved: the caption says it once, under the chart."""
    hidden = []
    if caption:
        suptitle = getattr(fig, "_suptitle", None)
        if suptitle is not None and suptitle.get_text().strip() == caption:
            hidden.append(suptitle)
        else:
            axes = _chart_axes(fig)
            titles = (axes[0].title, axes[0]._left_title, axes[0]._right_title)
            hidden.extend(t for t in titles if t.get_text().strip() == caption)
    shown = [t.get_visible() for t in hidden]
    for text in hidden:
        text.set_visible(False)
    try:
        yield
    finally:
        for text, visible in zip(hidden, shown, strict=True):
            text.set_visible(visible)


__all__ = ["figure_chart", "describe", "ChartDescriptionWarning"]
