"""Blank figures made ahead in the warm server, so that a forked run does not build its charts' axes itself.

Building a figure's axes (spines, axis objects, their first ticks, title texts) is a fixed cost
that does not depend on the data: about 50 ms for the twelve axes of a client report's five
charts. So is each further tick an axis draws (matplotlib makes one as a drawing first needs it,
copying the first tick's properties; ~70 in a client report), so a spare comes with as many as the
rehearsed report's charts drew on each of its axes (the CPU time of a ``large`` client run, runs with
and without in the same batches: 12–28 ms less, median by median, in each of four 52-report
batches). The warm server rehearses the built-in reports (:mod:`quire.batch.rehearsal`); meanwhile
:func:`subplots` records which figures each report asks for (and :func:`expect` declares those
the rehearsal's sample does not show), and :func:`make_spares` then builds blank copies of them
under each brand's matplotlib settings. A run forked from the server takes its spares (its own
copy of them, like all the server's memory) instead of building its figures.

A spare is only taken where it is exactly what :func:`matplotlib.pyplot.subplots` would build:
the same grid and sharing, under the same rc parameters, all of them (a brand's colours and fonts
are copied into the artists as they are created, so another brand's spare never fits); its size is
set when it is taken. A spare holds no data: it is built blank and never drawn in the server.
Outside a forked run (a notebook in JupyterLab, a single run) there are none, and :func:`subplots`
is :func:`matplotlib.pyplot.subplots`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import Any

import matplotlib
import matplotlib.pyplot as plt

#: (shape, rc parameters) -> blank (figure, axes) pairs, built in the warm server.
_spares: dict[tuple[str, str], list[tuple[Any, Any]]] = {}
#: shape -> the grid and keywords it stands for.
_shapes: dict[str, tuple[int, int, dict]] = {}
#: While the server rehearses: the most figures of each shape one report asked for, and the current report's count.
_most: Counter | None = None
_asked: Counter = Counter()
#: shape -> how many of it a chart module said a report may ask for (see :func:`expect`).
_expected: Counter = Counter()
#: The fewest major ticks each axis of a spare comes with. The rehearsal's small sample draws fewer categories than
#: a real client has, and the figures of :func:`expect` are not drawn at all: with six, 52 ``large`` client reports
#: made ~1 tick a report themselves (~70 before); with eight, none, but their charts took longer under cProfile:
#: every ``grid()`` and ``tick_params()`` call updates each tick an axis has.
TICKS_AT_LEAST = 6
#: While the server rehearses: the figures the current report asked for, their ticks counted when it is done.
_rehearsed: list[tuple[str, Any]] = []
#: shape -> for each of its axes, the most major ticks (x, y) a rehearsed chart drew on it.
_ticks: dict[str, list[tuple[int, int]]] = {}


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kwargs) -> tuple[Any, Any]:
    """:func:`matplotlib.pyplot.subplots` (``figsize`` required), from a blank spare where the warm server built one."""
    shape = _shape(nrows, ncols, kwargs)
    if _most is not None:
        _asked[shape] += 1
        _most[shape] = max(_most[shape], _asked[shape])
        fig, axes = plt.subplots(nrows, ncols, figsize=figsize, **kwargs)
        _rehearsed.append((shape, axes))
        return fig, axes
    if spares := _spares.get((shape, _rc())):
        fig, axes = spares.pop()
        fig.set_size_inches(figsize)
        return fig, axes
    return plt.subplots(nrows, ncols, figsize=figsize, **kwargs)


def expect(nrows: int = 1, ncols: int = 1, **kwargs) -> None:
    """Have spares built of a figure a report may ask for (once) that the rehearsal's synthetic sample never shows."""
    shape = _shape(nrows, ncols, kwargs)
    _expected[shape] = max(_expected[shape], 1)


@contextmanager
def recording():
    """Within: record the figures each report asks for (:func:`next_report` between two reports)."""
    global _most
    _most = Counter()
    _asked.clear()
    try:
        yield
    finally:
        _most = None
        _rehearsed.clear()


def next_report() -> None:
    """The rehearsal moves on to its next report: figures are counted per report, not over the rehearsal."""
    _count_ticks()
    _asked.clear()


def _count_ticks() -> None:
    """Note the major ticks the current report's charts drew on each axes of the figures it asked for."""
    for shape, axes in _rehearsed:
        counts = [(len(ax.xaxis.majorTicks), len(ax.yaxis.majorTicks)) for ax in _flat(axes)]
        most = _ticks.setdefault(shape, counts)
        _ticks[shape] = [(max(x, xs), max(y, ys)) for (x, y), (xs, ys) in zip(most, counts, strict=True)]
    _rehearsed.clear()


def _flat(axes) -> list:
    return list(axes.flat) if hasattr(axes, "flat") else [axes]


def make_spares(styles: Iterable[Callable[[], None]]) -> int:
    """Build blank spares of the figures recorded so far (see :func:`recording`) and of those expected (see
    :func:`expect`), once for each of ``styles`` (functions that set matplotlib's rc parameters, each from the
    settings as they are now); how many were built."""
    if _most is None:
        return 0
    _count_ticks()
    wanted = _most | _expected  # a Counter union: the larger count of each
    built = 0
    for style in styles:
        with matplotlib.rc_context():
            style()
            rc = _rc()
            for shape, count in wanted.items():
                nrows, ncols, kwargs = _shapes[shape]
                drawn = _ticks.get(shape, [])
                kept = _spares.setdefault((shape, rc), [])
                while len(kept) < count:
                    fig, axes = plt.subplots(nrows, ncols, **kwargs)
                    for n, ax in enumerate(_flat(axes)):
                        x, y = drawn[n] if n < len(drawn) else (0, 0)
                        # Made as a drawing would make them: each copies the first tick's properties.
                        ax.xaxis.get_major_ticks(max(x, TICKS_AT_LEAST))
                        ax.yaxis.get_major_ticks(max(y, TICKS_AT_LEAST))
                    canvas = type(fig.canvas)
                    plt.close(fig)  # out of pyplot's list of open figures, which a cell shows when it ends
                    canvas(fig)  # closing left it matplotlib's bare canvas; a new figure has its backend's
                    kept.append((fig, axes))
                    built += 1
    return built


def _shape(nrows: int, ncols: int, kwargs: dict) -> str:
    shape = repr((nrows, ncols, sorted(kwargs.items())))
    _shapes[shape] = (nrows, ncols, kwargs)
    return shape


def _rc() -> str:
    # Every rc parameter, not a chosen few: which of them a new figure's artists copy is matplotlib's business.
    return repr(sorted(dict.items(matplotlib.rcParams)))


__all__ = ["subplots", "expect", "recording", "next_report", "make_spares"]
