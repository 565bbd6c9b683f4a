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

Every output that holds :class:`Table` objects (alone or inside a :class:`Section` or
:class:`Grid`) also carries ``application/vnd.quire.tables+json``: each table's caption,
column headers, units and all its rows as JSON values, which the pipeline saves as CSV
files and one ``report.xlsx`` beside the report.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup
from markupsafe import escape as _escape

from quire.formatting import exact, number
from quire.formatting.numbers import as_data
from quire.formatting.text import grapheme_cut
from quire.formatting.units import BY_ROW, column_decimals
from quire.metrics.kpi import UNITS, Kpi, format_change, format_value

META_MIME = "application/vnd.quire.meta+json"
KPIS_MIME = "application/vnd.quire.kpis+json"
TABLES_MIME = "application/vnd.quire.tables+json"
CHART_MIMES = ("image/svg+xml", "image/png", "image/jpeg")
SEVERITIES = ("info", "good", "warning", "critical")
#: Tables up to this many rows are kept on one page in print; longer ones split between rows.
SHORT_TABLE_ROWS = 15

# What HTML from outside a display object (a ``Markup`` child) may keep: text structure and
# the q-* classes; no script, style, form, frame or event handler, and images only as data: URIs.
_SAFE_TAGS = {"a", "abbr", "b", "br", "caption", "code", "dd", "div", "dl", "dt", "em", "figcaption", "figure",
              "h3", "h4", "i", "img", "li", "ol", "p", "small", "span", "strong", "sub", "sup", "table", "tbody",
              "td", "tfoot", "th", "thead", "tr", "u", "ul", "wbr"}
_SAFE_ATTRS = {"*": {"class", "role", "aria-label", "aria-hidden", "title", "lang"}, "div": {"tabindex"},
               "figure": {"tabindex"},
               "a": {"href"}, "img": {"src", "alt", "width", "height"}, "th": {"scope", "colspan", "rowspan"},
               "td": {"colspan", "rowspan"}}


# A sign before a currency symbol ("−$1.14", "+€3", "−₹5"): Unicode line breaking (UAX #14) allows a
# break between the two, since both are prefix characters, and narrow cells and callouts take it.
# (A symbol written after the number, "−1.234 €", is held by the no-break space Babel puts before it.)
_SIGN_BEFORE_SYMBOL = re.compile("([+\u2212\u00b1-])(?=[$€£¥₹₩₽₺₪₫₱฿¢₦₴₸₵₡₲₮₾₼])")
WORD_JOINER = "\u2060"


def keep_numbers_whole(text: str) -> str:
    """``text`` with a word joiner between each sign and the currency symbol after it: no line break inside "−$1.14"."""
    return _SIGN_BEFORE_SYMBOL.sub("\\1" + WORD_JOINER, text)


def escape(value: Any) -> Markup:
    """Escape text from anywhere for HTML, keeping signed amounts on one line (see :func:`keep_numbers_whole`)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        value = keep_numbers_whole(value)
    return _escape(value)


def _keep_attribute(tag: str, attr: str, value: str) -> str | None:
    """nh3 attribute filter: images from data: URIs only, links to the web, mail or this page only, tabindex 0 only."""
    lowered = value.strip().lower()
    if tag == "img" and attr == "src":
        return value if lowered.startswith(("data:image/png", "data:image/jpeg", "data:image/gif")) else None
    if tag == "a" and attr == "href":
        return value if lowered.startswith(("https:", "http:", "mailto:", "#")) else None
    if attr == "tabindex":  # a table's or chart's scroller is focusable; no other order of focus is kept
        return value if lowered == "0" else None
    return value


def sanitize_html(fragment: str) -> Markup:
    """``fragment`` with everything that could run or load something removed (nh3, an allowlist).

    For HTML that must pass through into a report (e.g. a pre-formatted note): scripts and
    their content, event handlers, styles, frames, remote images and ``javascript:`` links
    are dropped; text, tables, lists and ``q-*`` classes stay. SVG images inside it are
    dropped too (``data:image/svg+xml`` can carry script); put charts in a :class:`Chart`.
    """
    import nh3

    cleaned = nh3.clean(str(fragment), tags=_SAFE_TAGS, attributes=_SAFE_ATTRS, attribute_filter=_keep_attribute,
                        clean_content_tags={"script", "style", "iframe", "object", "embed", "template", "noscript"},
                        url_schemes={"http", "https", "mailto", "data"}, link_rel="noopener noreferrer")
    return Markup(cleaned)


#: An attribute or style sheet that loads something: any url() but a reference inside the image (matplotlib's
#: clip paths are url(#…)), or an @import.
_SVG_REMOTE_CSS = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)|@import", re.IGNORECASE)
_SVG_ACTIVE = re.compile(
    rb"<\s*(script|foreignObject|iframe|handler|set|animate)\b"
    # An internal entity can hold markup written as character references (&#60;script&#62;), expanded where used.
    rb"|<!ENTITY"
    # A reference to another file or site: a link, an image, CSS that imports or points elsewhere.
    rb"|\son[a-z]+\s*=|href\s*=\s*[\"'](?![#\"']|data:image/(?:png|jpeg))|" + _SVG_REMOTE_CSS.pattern.encode(),
    re.IGNORECASE)


def sanitize_svg(image: bytes, removed: list[str] | None = None) -> bytes:
    """SVG bytes without script, foreign HTML, event handlers, animated links or external references.

    A chart is shown through ``<img src="data:…">``, where browsers run nothing, but the same
    bytes may be opened on their own or inlined by other front ends, so they are cleaned once here.
    Matplotlib's own SVG has none of these and comes back byte for byte. ``removed``, when given,
    gets a description of each thing taken out (``<script>``, ``onload``, ``link to http://…``).
    """
    from xml.etree import ElementTree as ET

    removed = [] if removed is None else removed

    if not _SVG_ACTIVE.search(image):
        return image
    try:
        # The stdlib parser expands internal entities (what they hide is then in the tree) and no external ones;
        # the document type goes with the parse.
        root = ET.fromstring(image)
    except ET.ParseError as exc:
        raise ValueError(f"chart image is not well-formed SVG: {exc}") from None
    for parent in root.iter():
        for child in list(parent):
            local = child.tag.rsplit("}", 1)[-1].lower() if isinstance(child.tag, str) else ""
            # An animation that sets a link's target can make it a javascript: link; others only move shapes.
            animated = child.get("attributeName", "").rsplit(":", 1)[-1].lower()
            if (local in ("script", "foreignobject", "iframe", "handler")
                    or (local in ("set", "animate") and animated == "href")
                    or (local == "style" and _SVG_REMOTE_CSS.search(child.text or ""))):
                parent.remove(child)
                removed.append(f"<{local}>" if local != "style" else "a style sheet that loads other files")
        for attr in list(parent.attrib):
            local = attr.rsplit("}", 1)[-1].lower()
            value = parent.attrib[attr].strip().lower()
            if local.startswith("on") or (local == "href" and not value.startswith(("#", "data:image/png", "data:image/jpeg"))):
                removed.append(local if local.startswith("on") else f"link to {parent.attrib[attr].strip()[:80]}")
                del parent.attrib[attr]
            elif _SVG_REMOTE_CSS.search(value):
                removed.append(f"{local} loading {parent.attrib[attr].strip()[:80]}")
                del parent.attrib[attr]
    return ET.tostring(root, encoding="utf-8")


class Fragment:
    """Base class: an HTML fragment with a plain-text fallback."""

    def html(self) -> str:
        raise NotImplementedError

    def text(self) -> str:
        return self.__class__.__name__

    def tables(self) -> list[dict[str, Any]]:
        """The data of the tables this fragment shows and of its charts' figures (its own and its children's), in
        order."""
        return []

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/html": self.html(), "text/plain": self.text()}
        tables = self.tables()
        if tables:
            bundle[TABLES_MIME] = tables
        return bundle


def _child_tables(children: Iterable[Any]) -> list[dict[str, Any]]:
    return [t for c in children if isinstance(c, Fragment) for t in c.tables()]


def _json_value(value: Any) -> Any:
    """A table cell as a JSON value: numbers stay numbers, missing is null, anything else text."""
    if value is None or (not isinstance(value, (str, bytes)) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) or (hasattr(value, "dtype") and pd.api.types.is_integer(value)):
        return int(value)
    if isinstance(value, float) or (hasattr(value, "dtype") and pd.api.types.is_float(value)):
        return as_data(float(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _html(item: Any) -> str:
    """HTML of a child: a Fragment, a Markup string, or anything else as escaped text."""
    if isinstance(item, Fragment):
        return item.html()
    if isinstance(item, Markup):
        # Markup is "trusted" only in Jinja's sense (already escaped); it may still carry tags
        # from data, so it passes the allowlist.
        return str(sanitize_html(item))
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


#: Characters of a KPI card's value that fit its card at the full size: a quarter of an A4 page at 15 pt (about
#: "$1,830,000"). Longer values ("$135,600,000", "1,000,000.0%") are set smaller rather than run into the next card.
KPI_VALUE_FITS = 10


def kpi_value(text: str) -> str:
    """A KPI card's value element: the value at the card's size, or one or two steps smaller when it is long."""
    size = "" if len(text) <= KPI_VALUE_FITS else " q-kpi-value-long" if len(text) <= KPI_VALUE_FITS + 3 \
        else " q-kpi-value-longer"
    return f'<div class="q-kpi-value{size}">{escape(text)}</div>'


@dataclass
class KpiCards(Fragment):
    """Headline KPI cards, each with its change against the previous period."""

    kpis: Sequence[Kpi]
    comparison_label: str = "previous period"
    note: str = ""  # says why a card shows "—" (e.g. too few answers for a stable rate)

    def _card(self, k: Kpi) -> str:
        delta = ""
        if k.delta is not None:
            # The colour and the arrow follow the change as shown: one that rounds to "0.0%" is flat. One within
            # noise keeps its arrow (it is a change) without the colour of a good or a bad one.
            state = {True: "q-good", False: "q-bad", None: "q-flat"}[k.is_good]
            change = k.change_text()
            arrow = "■" if k.flat else "▲" if k.delta > 0 else "▼"
            delta = (
                f'<div class="q-kpi-delta {state}"><span aria-hidden="true">{arrow}</span> {escape(change)} '
                f'<span class="q-kpi-vs">{escape(self.compared(k))}</span></div>'
            )
        return (
            f'<div class="q-kpi"><div class="q-kpi-label">{escape(k.label)}</div>'
            f'{kpi_value(self.shown(k))}{delta}</div>'
        )

    def shown(self, k: Kpi) -> str:
        """The value as its card shows it."""
        return k.value_text()

    def compared(self, k: Kpi) -> str:
        """What the change is against, and whether it is better or worse: "better than October 2026". In words, not
        by colour alone: a rise in churn and a rise in revenue carry the same arrow, and a colour-blind reader, a
        screen reader or a grey print loses the colour. "vs October 2026" when it is neither."""
        judged = {True: "better than", False: "worse than", None: "vs"}[k.is_good]
        return f"{judged} {self.comparison_label}"

    def columns(self) -> int:
        """Cards per row: four, or three when that leaves fewer empty places in the last row (five
        cards as 3 + 2 rather than 4 + 1, six as 3 + 3)."""
        count = len(self.kpis)
        return 3 if count > 4 and -count % 3 < -count % 4 else 4

    def html(self) -> str:
        note = f'<p class="q-text">{escape(self.note)}</p>' if self.note else ""
        three = " q-kpis-3" if self.columns() == 3 else ""
        return f'<div class="q-kpis{three}">' + "".join(self._card(k) for k in self.kpis) + "</div>" + note

    def text(self) -> str:
        return "\n".join(f"{k.label}: {self.shown(k)}" for k in self.kpis)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        # With the texts the card shows, so that an e-mail quotes the figure and its change as the report does.
        return {**super()._repr_mimebundle_(), KPIS_MIME: [
            {**k.to_dict(), "text": self.shown(k),
             "change_text": f"{k.change_text()} {self.compared(k)}" if k.delta is not None else None}
            for k in self.kpis]}


@dataclass
class Chart(Fragment):
    """A static chart (SVG or PNG bytes) with alt text for screen readers and a caption."""

    image: bytes
    alt: str
    caption: str = ""
    mime: str = "image/svg+xml"
    #: The figures the chart draws, for the run's data files only (a picture cannot be summed or checked); not
    #: shown, where the report has no table of them.
    data: Table | None = None
    #: Printed up to a page tall, where other charts are shrunk to 100 mm: a long matrix whose labels would
    #: otherwise become too small to read.
    tall: bool = False

    def __post_init__(self) -> None:
        # WCAG 1.1.1: a chart without a text alternative is invisible to screen-reader users.
        if not isinstance(self.alt, str) or not self.alt.strip():
            raise ValueError("a chart needs alt text describing what it shows")
        if self.mime not in CHART_MIMES:
            raise ValueError(f"chart type {self.mime!r} is not supported; use one of {', '.join(CHART_MIMES)}")
        if self.mime == "image/svg+xml":
            self.image = sanitize_svg(self.image)

    def html(self) -> str:
        data = base64.b64encode(self.image).decode("ascii")
        caption = f"<figcaption>{escape(self.caption)}</figcaption>" if self.caption else ""
        return (
            # Focusable: on a phone a chart keeps a readable width and scrolls sideways in its figure.
            f'<figure class="q-chart{" q-chart-tall" if self.tall else ""}" tabindex="0">'
            f'<img src="data:{self.mime};base64,{data}" alt="{escape(self.alt)}"/>{caption}</figure>'
        )

    def text(self) -> str:
        return f"[chart] {self.alt}"

    def tables(self) -> list[dict[str, Any]]:
        return self.data.tables() if self.data is not None else []


def with_index_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a meaningful index (named, or anything but 0, 1, 2…) as its leading column(s), one a level of
    a MultiIndex; a frame of the default 0, 1, 2… index as it is. A level without a name heads an empty column (a
    MultiIndex's "level 0"…), and a level named as one of the columns heads "<name> (index)"."""
    index = frame.index
    plain = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None
    if plain:
        return frame
    names = [n if n is not None else ("" if index.nlevels == 1 else f"level {i}") for i, n in enumerate(index.names)]
    taken = set(map(str, frame.columns))
    names = [n if str(n) not in taken else f"{n} (index)" for n in names]
    return frame.rename_axis(names).reset_index()


@dataclass
class Table(Fragment):
    """A formatted table; ``units`` maps a column to a unit of :func:`format_value`, to a change unit
    of :func:`format_change` (``pct_points``, ``relative``) for a column of signed changes, to
    ``text`` for a column of figures formatted already (shown as given, aligned right), or to
    :data:`BY_ROW` for figures in the unit of their row (``row_units``, one per row of ``frame``)."""

    frame: pd.DataFrame
    caption: str = ""
    units: Mapping[str, str] = field(default_factory=dict)
    max_rows: int = 50
    #: Rows of the data when ``frame`` holds only its first ones (for "Showing 50 of N rows").
    total_rows: int | None = None
    row_units: Sequence[str] = ()
    #: Columns of one measure side by side (LTV by month 0, 1, 3, 6) that show one number of decimals: a row read
    #: "$112.14 $112.14 $112.14 $112" where the last column held only that figure.
    shared_decimals: Sequence[str] = ()
    #: The same rows as numbers for the run's data files (CSV, workbook), with ``data_units``, where ``frame`` holds
    #: text ("+180%", "new", "2.5% (2.4%–2.6%)") nobody could sum or sort; None: ``frame`` itself.
    data: pd.DataFrame | None = None
    data_units: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A frame of groupby() or set_index() holds its row labels in its index: shown, and saved, as columns.
        self.frame = with_index_columns(self.frame)
        if self.row_units and len(self.row_units) != len(self.frame):
            raise ValueError(f"row_units gives {len(self.row_units)} units for {len(self.frame)} rows")

    def _cell(self, column: str, value: Any, decimals: int = 0) -> str:
        return self._figure(self.units.get(column), value, decimals)

    def _figure(self, unit: str | None, value: Any, decimals: int = 0) -> str:
        """A cell of ``value`` shown in ``unit`` (None: as it is), with at least ``decimals`` decimals."""
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            # In a column of figures the dash is aligned as they are: centred under them it read as misplaced.
            return f'<td class="{"q-num q-na" if unit else "q-na"}">—</td>'
        if unit == "text":  # a figure formatted already: shown as given, aligned as a number
            return f'<td class="q-num">{escape(value)}</td>'
        if unit:
            text = (format_value(value, unit, decimals=decimals) if unit in UNITS
                    else format_change(value, unit, decimals=decimals))
            return f'<td class="q-num">{escape(text)}</td>'
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return f'<td class="q-num">{escape(exact(value))}</td>'
        return f"<td>{breakable(value)}</td>"

    def html(self) -> str:
        frame = self.frame.head(self.max_rows)
        # A column without a name (the labels of a facts table) has an empty header cell: role="none" tells a screen
        # reader it heads nothing, where an empty header is announced as a nameless column.
        head = "".join(
            f'<th scope="col"{" role=none" if not str(c).strip() else ""}'
            f'{" class=q-num" if self.units.get(c) or pd.api.types.is_numeric_dtype(frame[c]) else ""}>{escape(c)}</th>'
            for c in frame.columns
        )
        units = list(self.row_units) or [None] * len(frame)
        # A column reads alike: "$15.00" above "$19.25", not "$15" (each row of a BY_ROW column is its own figure).
        # Over every row, not only those shown: the workbook formats the whole column so.
        decimals = {c: column_decimals(self.frame[c], self.units[c]) for c in frame.columns
                    if self.units.get(c) not in (None, BY_ROW)}
        shared = [c for c in self.shared_decimals if c in decimals]
        decimals |= dict.fromkeys(shared, max((decimals[c] for c in shared), default=0))
        rows = "".join(
            "<tr>" + "".join(self._figure(unit, v) if self.units.get(c) == BY_ROW
                             else self._cell(c, v, decimals.get(c, 0))
                             for c, v in zip(frame.columns, row, strict=True)) + "</tr>"
            for row, unit in zip(frame.itertuples(index=False, name=None), units)
        )
        caption = f"<caption>{escape(self.caption)}</caption>" if self.caption else ""
        more = ""
        total = max(len(self.frame), self.total_rows or 0)
        if total > len(frame):
            more = f'<p class="q-table-more">Showing {number(len(frame))} of {number(total)} rows.</p>'
        short = " q-table-short" if len(frame) <= SHORT_TABLE_ROWS else ""
        return (f'<div class="q-table-wrap{short}" {self._scroller_attributes()}><table class="q-table">{caption}'
                f'<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{more}</div>')

    def _scroller_attributes(self) -> str:
        """The wrap's attributes as a named, focusable region: a table wider than the screen scrolls in its wrap,
        which keyboard users reach with Tab and scroll with the arrow keys (browsers such as Safari do not make a
        scroller focusable themselves). Its name is the caption, or else the first columns' names."""
        label = self.caption or "Table: " + ", ".join(str(c) for c in self.frame.columns[:4] if str(c).strip())
        return f'tabindex="0" role="region" aria-label="{escape(label)}"'

    def text(self) -> str:
        return self.frame.head(self.max_rows).to_string(index=False)

    def tables(self) -> list[dict[str, Any]]:
        """This table's data: all rows (not only the ``max_rows`` shown), raw values with their units."""
        if self.data is not None:
            return Table(self.data, caption=self.caption, units=dict(self.data_units)).tables()
        columns = [str(c) for c in self.frame.columns]
        rows = [[_json_value(v) for v in row] for row in self.frame.itertuples(index=False, name=None)]
        return [{"caption": self.caption, "columns": columns, "units": {str(k): v for k, v in self.units.items()},
                 "rows": rows, **({"row_units": list(self.row_units)} if self.row_units else {})}]


#: A word this long (a URL, a hashtag run, a title without spaces) may break every ``WORD_PIECE`` characters.
LONG_WORD, WORD_PIECE = 25, 12
_LONG_WORD = re.compile(r"(\S{%d,})" % LONG_WORD)


def breakable(text: Any) -> Markup:
    """``text`` escaped, with places to break a word too long for a table column (``<wbr>``).

    A table's columns are at least as wide as their longest word: unbroken, one 199-letter content title pushed
    every figure column of its table off the printed page. Ordinary words keep their letters together.
    """
    def pieces(word: str) -> list[str]:  # cut where a reader sees a character end, never inside "👨‍👩‍👧"
        found, start = [], 0
        while start < len(word):
            end = grapheme_cut(word, start + WORD_PIECE) if start + WORD_PIECE < len(word) else len(word)
            end = end if end > start else start + WORD_PIECE  # a sequence longer than a piece stays whole
            found.append(word[start:end])
            start = end
        return found

    parts = _LONG_WORD.split(str(text))
    return Markup("").join(escape(part) if i % 2 == 0 else Markup("<wbr>").join(escape(p) for p in pieces(part))
                           for i, part in enumerate(parts))


@dataclass
class Callout(Fragment):
    """A short highlighted message: ``info``, ``good``, ``warning`` or ``critical``.

    ``role``: ``note`` in a report; ``alert`` for a message that replaces what a person was looking at (an app's
    answer to a picker), which a screen reader then announces.
    """

    message: str
    severity: str = "info"
    title: str = ""
    role: str = "note"

    def __post_init__(self) -> None:
        if self.role not in ("note", "status", "alert"):
            raise ValueError(f"a callout's role is note, status or alert, not {self.role!r}")

    def html(self) -> str:
        title = f"<strong>{escape(self.title)}</strong> " if self.title else ""
        severity = self.severity if self.severity in SEVERITIES else "info"
        return f'<div class="q-callout q-{severity}" role="{self.role}">{title}{escape(self.message)}</div>'

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
            f'<li class="q-alert q-{a.severity if a.severity in SEVERITIES else "info"}"><span class="q-alert-severity">{escape(a.severity.title())}</span> {escape(a.message)}</li>'
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
        # Report headings run h1 (cover) > h2 (section) > h3 (subsection): never skip a level.
        level = min(max(int(self.level), 2), 4)
        return f'<section class="q-section"><h{level} class="q-section-title">{escape(self.title)}</h{level}>{lead}{body}</section>'

    def text(self) -> str:
        return self.title

    def tables(self) -> list[dict[str, Any]]:
        return [{**t, "section": t.get("section") or self.title} for t in _child_tables(self.children)]


@dataclass
class Grid(Fragment):
    """Children side by side on wide screens (two columns), stacked in print when too narrow."""

    children: Sequence[Any]

    def html(self) -> str:
        return '<div class="q-grid">' + "".join(f'<div class="q-cell">{_html(c)}</div>' for c in self.children) + "</div>"

    def tables(self) -> list[dict[str, Any]]:
        return _child_tables(self.children)


@dataclass
class Glossary(Fragment):
    """The appendix defining every metric the report shows."""

    entries: Iterable[tuple[str, str]]  # (term, definition)
    title: str = "Appendix: metric definitions"

    def html(self) -> str:
        # One <div> per term (HTML allows it in a <dl>): the print layout keeps a term with its
        # definition and never splits one across pages.
        items = "".join(f'<div class="q-term"><dt>{escape(t)}</dt><dd>{escape(d)}</dd></div>' for t, d in self.entries)
        return f'<section class="q-section q-appendix"><h2 class="q-section-title">{escape(self.title)}</h2><dl class="q-glossary">{items}</dl></section>'
