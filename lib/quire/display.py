"""Display objects: what report notebooks show.

Each object renders itself as an HTML fragment (``_repr_html_``) with the ``q-*``
CSS classes that the template family in ``templates/quire`` styles for screen,
print and Voilà. Every piece of text that can come from data is escaped here, so a
client name like ``<script>`` is shown, never run.

Two objects also carry machine-readable JSON beside their HTML, which the run
pipeline reads back from the executed notebook:

* :class:`ReportHeader` — ``application/vnd.quire.meta+json`` (title, period, client…)
  used for the cover page and ``run.json``;
* :class:`KpiCards` — ``application/vnd.quire.kpis+json``, the headline figures
  recorded in ``run.json`` so later runs can show deltas and raise alerts.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from quire.metrics.kpi import Kpi, format_value

META_MIME = "application/vnd.quire.meta+json"
KPIS_MIME = "application/vnd.quire.kpis+json"


class Fragment:
    """Base class: an HTML fragment with a plain-text fallback."""

    def html(self) -> str:
        raise NotImplementedError

    def text(self) -> str:
        return self.__class__.__name__

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return {"text/html": self.html(), "text/plain": self.text()}


def _html(item: Any) -> str:
    """HTML of a child: a Fragment, a Markup string, or anything else as escaped text."""
    if isinstance(item, Fragment):
        return item.html()
    if isinstance(item, Markup):
        return str(item)
    return f'<p class="q-text">{escape(item)}</p>'


@dataclass
class ReportHeader(Fragment):
    """Title block of a report; its JSON feeds the cover page and ``run.json``."""

    title: str
    period_label: str
    subtitle: str = ""
    client: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        return {"title": self.title, "subtitle": self.subtitle, "period": self.period_label, "client": self.client, **self.extra}

    def html(self) -> str:
        client = f'<p class="q-report-client">{escape(self.client)}</p>' if self.client else ""
        subtitle = f'<p class="q-report-subtitle">{escape(self.subtitle)}</p>' if self.subtitle else ""
        return (
            f'<header class="q-report-header"><h1 class="q-report-title">{escape(self.title)}</h1>'
            f'{client}<p class="q-report-period">{escape(self.period_label)}</p>{subtitle}</header>'
        )

    def text(self) -> str:
        return f"{self.title} — {self.period_label}"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return {**super()._repr_mimebundle_(), META_MIME: self.meta()}


@dataclass
class KpiCards(Fragment):
    """Headline KPI cards, each with its change against the previous period."""

    kpis: Sequence[Kpi]
    comparison_label: str = "previous period"

    def _card(self, k: Kpi) -> str:
        delta = ""
        if k.delta is not None:
            state = {True: "q-good", False: "q-bad", None: "q-flat"}[k.is_good]
            arrow = "▲" if k.delta > 0 else "▼" if k.delta < 0 else "■"
            if k.unit == "percent":
                change = f"{k.delta * 100:+.1f} pts"
            elif k.unit == "points":
                change = f"{k.delta:+.0f} pts"
            elif k.delta_pct is not None:
                change = f"{k.delta_pct * 100:+.1f}%"
            else:
                change = format_value(k.delta, k.unit)
            delta = (
                f'<div class="q-kpi-delta {state}"><span aria-hidden="true">{arrow}</span> '
                f"{escape(change)} <span class=\"q-kpi-vs\">vs {escape(self.comparison_label)}</span></div>"
            )
        return (
            f'<div class="q-kpi"><div class="q-kpi-label">{escape(k.label)}</div>'
            f'<div class="q-kpi-value">{escape(format_value(k.value, k.unit))}</div>{delta}</div>'
        )

    def html(self) -> str:
        return '<div class="q-kpis">' + "".join(self._card(k) for k in self.kpis) + "</div>"

    def text(self) -> str:
        return "\n".join(f"{k.label}: {format_value(k.value, k.unit)}" for k in self.kpis)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return {**super()._repr_mimebundle_(), KPIS_MIME: [k.to_dict() for k in self.kpis]}


@dataclass
class Chart(Fragment):
    """A static chart (SVG or PNG bytes) with alt text for screen readers and a caption."""

    image: bytes
    alt: str
    caption: str = ""
    mime: str = "image/svg+xml"

    def html(self) -> str:
        data = base64.b64encode(self.image).decode("ascii")
        caption = f"<figcaption>{escape(self.caption)}</figcaption>" if self.caption else ""
        return (
            f'<figure class="q-chart"><img src="data:{self.mime};base64,{data}" alt="{escape(self.alt)}"/>'
            f"{caption}</figure>"
        )

    def text(self) -> str:
        return f"[chart] {self.alt}"


@dataclass
class Table(Fragment):
    """A formatted table; ``units`` maps a column to a unit understood by :func:`format_value`."""

    frame: pd.DataFrame
    caption: str = ""
    units: Mapping[str, str] = field(default_factory=dict)
    max_rows: int = 50

    def _cell(self, column: str, value: Any) -> str:
        unit = self.units.get(column)
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return '<td class="q-na">—</td>'
        if unit:
            return f'<td class="q-num">{escape(format_value(value, unit))}</td>'
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f'<td class="q-num">{escape(f"{value:,}")}</td>'
        return f"<td>{escape(value)}</td>"

    def html(self) -> str:
        frame = self.frame.head(self.max_rows)
        head = "".join(
            f'<th scope="col"{" class=q-num" if self.units.get(c) or pd.api.types.is_numeric_dtype(frame[c]) else ""}>{escape(c)}</th>'
            for c in frame.columns
        )
        rows = "".join(
            "<tr>" + "".join(self._cell(c, v) for c, v in zip(frame.columns, row, strict=True)) + "</tr>"
            for row in frame.itertuples(index=False, name=None)
        )
        caption = f"<caption>{escape(self.caption)}</caption>" if self.caption else ""
        more = ""
        if len(self.frame) > self.max_rows:
            more = f'<p class="q-table-more">Showing {self.max_rows} of {len(self.frame):,} rows.</p>'
        return f'<div class="q-table-wrap"><table class="q-table">{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{more}</div>'

    def text(self) -> str:
        return self.frame.head(self.max_rows).to_string(index=False)


@dataclass
class Callout(Fragment):
    """A short highlighted message: ``info``, ``good``, ``warning`` or ``critical``."""

    message: str
    severity: str = "info"
    title: str = ""

    def html(self) -> str:
        title = f"<strong>{escape(self.title)}</strong> " if self.title else ""
        return f'<div class="q-callout q-{escape(self.severity)}" role="note">{title}{escape(self.message)}</div>'

    def text(self) -> str:
        return f"{self.title} {self.message}".strip()


@dataclass
class Alerts(Fragment):
    """The anomalies and threshold breaches of a report, most severe first."""

    alerts: Sequence[Any]  # quire.metrics.alerts.Alert: kpi, severity, message
    empty_message: str = "No anomalies: every KPI is within its usual range."

    _ORDER = {"critical": 0, "warning": 1, "info": 2}

    def html(self) -> str:
        if not self.alerts:
            return Callout(self.empty_message, "good").html()
        items = sorted(self.alerts, key=lambda a: self._ORDER.get(a.severity, 3))
        lis = "".join(
            f'<li class="q-alert q-{escape(a.severity)}"><span class="q-alert-severity">{escape(a.severity.title())}</span> {escape(a.message)}</li>'
            for a in items
        )
        return f'<ul class="q-alerts">{lis}</ul>'

    def text(self) -> str:
        return "\n".join(f"{a.severity}: {a.message}" for a in self.alerts) or self.empty_message


@dataclass
class Section(Fragment):
    """A numbered report section: a heading, an optional lead paragraph and its children."""

    title: str
    children: Sequence[Any] = ()
    lead: str = ""
    level: int = 2

    def html(self) -> str:
        lead = f'<p class="q-lead">{escape(self.lead)}</p>' if self.lead else ""
        body = "".join(_html(c) for c in self.children)
        return f'<section class="q-section"><h{self.level} class="q-section-title">{escape(self.title)}</h{self.level}>{lead}{body}</section>'

    def text(self) -> str:
        return self.title


@dataclass
class Grid(Fragment):
    """Children side by side on wide screens (two columns), stacked in print when too narrow."""

    children: Sequence[Any]

    def html(self) -> str:
        return '<div class="q-grid">' + "".join(f'<div class="q-cell">{_html(c)}</div>' for c in self.children) + "</div>"


@dataclass
class Glossary(Fragment):
    """The appendix defining every metric the report shows."""

    entries: Iterable[tuple[str, str]]  # (term, definition)
    title: str = "Appendix: metric definitions"

    def html(self) -> str:
        items = "".join(f"<dt>{escape(t)}</dt><dd>{escape(d)}</dd>" for t, d in self.entries)
        return f'<section class="q-section q-appendix"><h2 class="q-section-title">{escape(self.title)}</h2><dl class="q-glossary">{items}</dl></section>'
