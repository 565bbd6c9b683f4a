"""Rendering: an executed notebook to self-contained HTML, and that HTML to PDF.

HTML comes from nbconvert with the ``quire`` template family (``templates/quire``):
outputs only, a cover page from the run's metadata, the brand's colours as CSS custom
properties, the stylesheet inlined and the logo as a data URI, so the file opens
offline and survives e-mail. The PDF is WeasyPrint printing that same HTML, which
reads the template's ``@page`` rules (A4, running header, "Page N of M").

Neither step touches the network: the HTML is cleaned of scripts and remote resource
references, and the PDF renderer's URL fetcher refuses everything but ``data:`` URIs
and files inside the templates folder, so a hostile URL in report data cannot make the
renderer fetch it.

Exporters are built once per templates folder and reused (building one and compiling
its template costs more than rendering a typical report).
"""

from __future__ import annotations

import html as html_lib
import logging
import re
import threading
from pathlib import Path
from typing import Any

import nbformat

from quire.brand import AUDIENCES, Brand
from quire.errors import RenderError
from quire.execute import first_line
from quire.pdf.pages import footer_line, shortened

log = logging.getLogger(__name__)

TEMPLATE_NAME = "quire"
#: What a report shows of an output, best first; anything else (our JSON mimetypes,
#: widgets, JavaScript) is never displayed.
DISPLAY_PRIORITY = ["text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown", "text/plain"]
_LANG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
#: A report with at least this many top-level sections (appendix included) gets a table of contents.
TOC_MIN_SECTIONS = 4
#: Longest client name or title shown whole in the running header, <title> and cover kicker;
#: longer ones (a 10,000-character name is data, not a name) are cut there with an ellipsis
#: and wrap in the body.
SHORT_TEXT = 90
#: Most lines, and characters, of a cell's printed text (stdout) the report shows. A printed DataFrame of
#: 190,000 rows made a 2,873-page PDF that a schedule would e-mail; what a reader can use of printed text
#: fits on a few pages, and report.ipynb keeps all of it.
PRINTED_LINES = 200
PRINTED_CHARS = 20_000

_exporters: dict[Path, Any] = {}
_exporter_locks: dict[Path, threading.Lock] = {}
_registry_lock = threading.Lock()


def _templates_dir(templates_dir: Path | str | None) -> Path:
    if templates_dir is None:
        from quire.config import get_settings

        templates_dir = get_settings().templates_dir
    return Path(templates_dir).resolve()


def check_template(templates_dir: Path | str | None = None) -> None:
    """Raise :class:`RenderError` when the report template is missing: said by ``quire validate`` and before a run
    starts, not by a run that executed its notebook for nothing."""
    folder = _templates_dir(templates_dir)
    if not (folder / TEMPLATE_NAME / "index.html.j2").is_file():
        raise RenderError(f"report template not found: {folder / TEMPLATE_NAME / 'index.html.j2'}",
                          hint="QUIRE_HOME must point at a checkout with templates/quire/")


def _new_exporter(templates_dir: Path):
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    check_template(templates_dir)
    _embed_images_of_img_tags_only()
    config = Config()
    config.NbConvertBase.display_data_priority = DISPLAY_PRIORITY
    # Cells tagged by analysts can drop themselves or their outputs from the report.
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = ["remove-cell", "remove_cell"]
    config.TagRemovePreprocessor.remove_all_outputs_tags = ["remove-output", "remove_output"]
    exporter = HTMLExporter(
        config=config,
        extra_template_basedirs=[str(templates_dir)],
        template_name=TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        embed_images=True,
    )
    # Registered after the default preprocessors: an output a tag removes is not counted as cut.
    exporter.register_preprocessor(cut_printed_outputs, enabled=True)
    return exporter


# Up to PRINTED_LINES lines, the last with or without its line end.
_FIRST_LINES = re.compile(rf"(?:[^\n]*\n){{0,{PRINTED_LINES - 1}}}[^\n]*\n?")


def cut_printed_text(text: str) -> str:
    """``text`` cut to :data:`PRINTED_LINES` lines and :data:`PRINTED_CHARS` characters (at a line's end when one is
    within them); ``text`` itself when it fits."""
    kept = _FIRST_LINES.match(text).group(0)[:PRINTED_CHARS]
    if len(kept) < len(text) and len(kept) == PRINTED_CHARS and "\n" in kept:
        kept = kept[:kept.rindex("\n") + 1]
    return kept


def _amount(text: str, unit: str, more: str = "") -> str:
    """How many lines (``unit`` "line") or characters ``text`` holds, in words: "4,800 lines", "4,800 more lines"."""
    n = text.count("\n") + (not text.endswith("\n")) if unit == "line" else len(text)
    return f"{n:,} {more}{unit}{'' if n == 1 else 's'}"


def cut_printed_outputs(nb: nbformat.NotebookNode, resources: dict[str, Any]):
    """An nbconvert preprocessor: each cell's printed text (stdout) in the report cut as :func:`cut_printed_text` does.

    A cell's stdout outputs are cut together; the last one shown carries the line the template shows below it
    (metadata ``quire_cut``), the ones after it are dropped. Each cut is said in the resources' ``quire_cuts``, the
    cell named by its first line (cells tagged out of the report are gone by now: a number would not be
    report.ipynb's). The exporter hands preprocessors its own copy of the notebook, so report.ipynb keeps every line.
    Stderr is never shown in a report, so it is left alone.
    """
    for cell in nb.cells:
        printed = {id(o): o for o in cell.get("outputs", []) if o.output_type == "stream" and o.name == "stdout"}
        text = "".join(o.text for o in printed.values())
        kept = cut_printed_text(text)
        if kept == text:
            continue
        unit = "line" if kept.endswith("\n") else "character"  # a single long line is cut in its middle
        more = _amount(text[len(kept):], unit, "more ")
        note = f"… {more} not shown in the report (the run's report.ipynb holds them all)"
        budget, outputs = len(kept), []
        for output in cell.outputs:
            if id(output) in printed:
                if budget <= 0:
                    continue
                output.text, budget = output.text[:budget], budget - len(output.text)
                if budget <= 0:
                    output.metadata = {**output.get("metadata", {}), "quire_cut": note}
            outputs.append(output)
        cell.outputs = outputs
        resources.setdefault("quire_cuts", []).append(
            f'the cell "{first_line(cell.source)}" printed {_amount(text, unit)}: the report shows the first {_amount(kept, unit)} '
            "(report.ipynb holds them all)")
    return nb, resources


def _embed_images_of_img_tags_only() -> None:
    """Make nbconvert's image embedding leave inline HTML without an image alone.

    With ``embed_images`` nbconvert (7.17) re-parses each inline tag of a markdown cell on its own to
    inline its images, and a lone ``<b>`` parses as ``<b></b>``: an analyst's ``<b>bold</b>`` lost its
    bold. Only fragments holding an ``<img>`` need the embedding.
    """
    from nbconvert.filters.markdown_mistune import IPythonRenderer

    embed = IPythonRenderer._html_embed_images
    if getattr(embed, "images_only", False):
        return

    def images_only(self, html: str) -> str:
        return embed(self, html) if "<img" in html.lower() else html

    images_only.images_only = True
    IPythonRenderer._html_embed_images = images_only


def get_exporter(templates_dir: Path | str | None = None):
    """The shared HTMLExporter for ``templates_dir`` and the lock that serialises its use.

    nbconvert exporters re-register filters on every call, so concurrent renders with one
    exporter (the scheduler runs reports in threads) must take turns.
    """
    root = _templates_dir(templates_dir)
    with _registry_lock:
        if root not in _exporters:
            _exporters[root] = _new_exporter(root)
            _exporter_locks[root] = threading.Lock()
        return _exporters[root], _exporter_locks[root]


def report_resources(brand: Brand, meta: dict[str, Any]) -> dict[str, Any]:
    """What the template reads from ``resources['quire']``: the run's metadata and the brand, ready to use."""
    lang = str(meta.get("language") or meta.get("lang") or "en")
    if not _LANG.match(lang):
        lang = "en"
    title = str(meta.get("title") or "Report")
    client = str(meta.get("client") or "")
    audience = report_audience(meta)
    return {
        **brand.lines_for(audience, shortened(client, SHORT_TEXT)),
        # The footer repeats on every page on one line beside the page number: the whole line is cut to fit there,
        # once (a name cut first, then the line, read "…Extraor… only" run into the number).
        "footer": footer_line(brand.footer.for_audience(audience, client)),
        "title": title,
        "title_short": shortened(title, SHORT_TEXT * 2),
        "client_short": shortened(client, SHORT_TEXT),
        "subtitle": meta.get("subtitle") or "",
        "period": meta.get("period") or "",
        "client": meta.get("client") or "",
        "generated": meta.get("generated") or "",
        "report_id": meta.get("report_id") or "",
        "run_id": meta.get("run_id") or "",
        "lang": lang,
        "brand": brand,
        "brand_css": brand.css_variables(),
        "logo": brand.logo_data_uri(),
        # The tables' CSV files and report.xlsx, saved beside report.html (relative links).
        "data_files": list(meta.get("data_files") or []),
    }


def cover_defaults(spec: Any, params: dict[str, Any]) -> dict[str, str]:
    """What the cover says when the notebook shows no :class:`~quire.display.ReportHeader` of its own.

    The catalog's description as the subtitle and the run's period parameter as the period
    ("October 2026"), so an analyst's plain notebook gets the same cover as the built-in reports.
    ``spec`` is the run's :class:`~quire.catalog.ReportSpec`.
    """
    from quire.periods import parse_period

    defaults = {"subtitle": str(spec.description or "")}
    for name, declared in spec.parameters.items():
        if declared.type == "period" and params.get(name):
            period = parse_period(str(params[name]), parameter=name)
            if period is not None:
                defaults["period"] = period.label
            break
    return defaults


def report_audience(meta: dict[str, Any]) -> str:
    """Who reads the report: ``client`` (a run for one client, the pipeline says so) or ``internal``.

    Without an explicit ``audience`` a report that names a client counts as client-facing, so
    that a line meant for internal readers never reaches a client by default.
    """
    audience = meta.get("audience")
    if audience in AUDIENCES:
        return audience
    return "client" if meta.get("client") else "internal"




# A section heading: a display object's Section (appendix or not), or a markdown cell's "## …".
_SECTION_H2 = re.compile(r'(<section class="q-section( q-appendix)?">)<h2 class="q-section-title">(.*?)</h2>'
                         r'|<h2(?:\s+id="[^"]*")?>(.*?)</h2>', re.DOTALL)
TOC_MARKER = "<!--q-toc-->"


def add_contents(document: str) -> str:
    """Give every top-level section heading an id and, for a long report, fill the table of contents.

    Sections are the display objects' :class:`~quire.display.Section` headings and the ``##``
    headings of markdown cells, so an analyst's plain notebook gets numbered sections and a
    contents list too. The list goes where the template left :data:`TOC_MARKER` (on the cover):
    links on screen, and in the PDF page numbers from ``target-counter()`` (see ``.q-toc`` in
    report.css). Numbers repeat the sections' CSS counter; the appendix is listed unnumbered.
    """
    entries: list[tuple[str, str, str]] = []

    def label(match: re.Match) -> str:
        anchor = f"q-s{len(entries) + 1}"
        inner = match.group(3) if match.group(1) else match.group(4)
        title = html_lib.escape(html_lib.unescape(re.sub(r"<[^>]*>", "", inner)).strip(), quote=False)
        if not title:
            return match.group(0)
        number = "" if match.group(2) else str(sum(1 for e in entries if e[0]) + 1)
        entries.append((number, title, anchor))
        if match.group(1):
            return f'{match.group(1)}<h2 class="q-section-title" id="{anchor}">{inner}</h2>'
        return f'<h2 class="q-section-title q-md-section" id="{anchor}">{inner}</h2>'

    document = _SECTION_H2.sub(label, document)
    if TOC_MARKER not in document:
        return document
    if len(entries) < TOC_MIN_SECTIONS:
        return document.replace(TOC_MARKER, "", 1)
    items = "".join(
        f'<li{"" if number else " class=q-toc-appendix"}><a href="#{anchor}">'
        f'<span class="q-toc-number">{number}</span><span class="q-toc-title">{title}</span></a></li>'
        for number, title, anchor in entries)
    nav = f'<nav class="q-toc" aria-labelledby="q-toc-title"><h2 class="q-toc-heading" id="q-toc-title">Contents</h2><ol>{items}</ol></nav>'
    return document.replace(TOC_MARKER, nav, 1)


def render_html(nb: nbformat.NotebookNode, *, brand: Brand, meta: dict[str, Any],
                templates_dir: Path | str | None = None, notes: list[str] | None = None) -> str:
    """The executed notebook ``nb`` as one self-contained, branded HTML report.

    ``meta`` holds the run's title, subtitle, period, client, generated (a date string),
    report_id and run_id; see :func:`report_resources`. ``templates_dir`` defaults to the
    one the brand kit came from when it holds the report template, else the configured one.
    Raises :class:`~quire.errors.RenderError` when the notebook or template cannot be rendered.
    A line for each cell whose printed text the report cuts (see :data:`PRINTED_LINES`) goes to ``notes`` when given.
    """
    if templates_dir is None:
        beside_brand = brand.folder.parent.parent  # templates/brands/<key> -> templates
        if (beside_brand / TEMPLATE_NAME / "index.html.j2").is_file():
            templates_dir = beside_brand
    exporter, lock = get_exporter(templates_dir)
    try:
        resources = {"quire": report_resources(brand, meta)}
        with lock:
            body, resources = exporter.from_notebook_node(nb, resources=resources)
    except RenderError:
        raise
    except Exception as exc:  # nbconvert, jinja2 and nbformat raise many types
        raise RenderError(f"could not render the report to HTML: {type(exc).__name__}: {exc}",
                          hint="check that the notebook ran to the end and that templates/quire is intact") from exc
    if notes is not None:
        notes += resources.get("quire_cuts", [])
    return with_policy(add_contents(clean_html(body)))


# -- keeping the HTML self-contained ----------------------------------------------------------

_REMOTE = re.compile(r"^\s*(?!data:|#)[a-z][a-z0-9+.-]*:|^\s*//", re.IGNORECASE)
_DROP_TAGS = ("script", "iframe", "object", "embed", "link", "base", "frame", "frameset", "applet", "meta[http-equiv]",
              # Raw text for a browser, markup for Python's parser: what looks like an attribute value here
              # ("</noscript><img onerror=…>") ends the element there and runs. They have no use in a report.
              "noscript", "xmp", "noembed", "noframes",
              # SVG animation can set a link's href to javascript: (<animate attributeName="href" values=…>).
              "animate", "set", "animateMotion", "animateTransform")
_SRC_ATTRS = ("src", "srcset", "data", "poster", "background", "xlink:href", "formaction", "action", "ping")
# Anything the parse below could change matches this; a report made of display objects does
# not, and skips the parse (which costs as much as the nbconvert render itself).
_SUSPICIOUS = re.compile(
    r"<\s*(?:script|iframe|object|embed|link|base|frame|frameset|applet|meta[^>]*http-equiv"
    r"|noscript|xmp|noembed|noframes|animate|set)\b"
    # An attribute starts after a space, a slash or a quoted value: browsers run <svg/onload=…> and
    # <img src="x"onerror=…> (nbconvert's own parse happened to rewrite them with a space first).
    r"|[\s/\"']on[a-z]+\s*="
    # The template's own links to the run's data files (report.xlsx, table-NN-….csv) are files beside the report.
    r"|\b(?:src|srcset|data|poster|background|xlink:href|formaction|action|href|ping)\s*=\s*"
    r"(?![\"']?(?:data:|#|report\.xlsx[\"']|table-\d{2}(?:-[a-z0-9-]{1,40})?\.csv[\"']))"
    r"|url\s*\(|@import|javascript:|vbscript:",
    re.IGNORECASE)
#: A CSS ``url(…)`` that names another site or file by its scheme (``data:`` is the report's own).
_REMOTE_CSS_URL = r"url\s*\(\s*['\"]?\s*(?!data:)[a-z]+:"
#: A comment every parser ends where it seems to: words, never "-" first or "--" inside, no markup.
_PLAIN_COMMENT = re.compile(r"[\w.:,=/ ]+(?:-[\w.:,=/ ]+)*")
#: What a browser ignores in a URL before reading its scheme: tabs and line breaks anywhere, controls and spaces
#: around it ("java&#9;script:" is javascript:).
_URL_IGNORED = re.compile(r"[\t\n\r]|^[\x00-\x20]+|[\x00-\x20]+$")


def _url(value: str) -> str:
    """``value`` as a browser reads an attribute's URL: see :data:`_URL_IGNORED`."""
    return _URL_IGNORED.sub("", value)


def _remote(attr: str, value: str) -> bool:
    """Whether a ``src``-like attribute's value loads something from elsewhere (each of a srcset's candidates)."""
    urls = [part.strip().split(" ")[0] for part in value.split(",")] if attr == "srcset" else [value]
    return any(_REMOTE.search(_url(url)) for url in urls)


def clean_html(document: str) -> str:
    """Remove what would run code or load something at display time: scripts, frames, remote sources.

    Display objects escape their data already; this is the second line of defence for
    HTML a notebook produced some other way (a pandas Styler, raw ``HTML(...)``), and
    :data:`REPORT_POLICY` the third. Links (``<a href>``) stay: following one is the reader's
    choice, not an automatic load.

    A browser's parser and Python's disagree on some markup (comments, raw-text elements, CSS
    inside SVG), so a cleaned document is written out again from what Python's parser saw:
    attribute values escaped, comments and other declarations dropped, no style holding markup.
    """
    if not _SUSPICIOUS.search(document):
        return document
    from bs4 import BeautifulSoup, Comment, Doctype
    from bs4.element import PreformattedString

    soup = BeautifulSoup(document, "html.parser")
    for selector in _DROP_TAGS:
        for tag in soup.select(selector):
            tag.decompose()
    # A browser can end a comment before Python's parser does ("<!-->", "--!>"), showing what it hid; a plain
    # word or two stays (the template's <!--q-toc--> marks where the contents go).
    for node in soup.find_all(string=lambda text: isinstance(text, PreformattedString) and not isinstance(text, Doctype)):
        if not (isinstance(node, Comment) and _PLAIN_COMMENT.fullmatch(node)):
            node.extract()
    for tag in soup.find_all(True):
        for attr in list(tag.attrs):
            value = tag.attrs[attr]
            text = " ".join(value) if isinstance(value, list) else str(value)
            lower = attr.lower()
            if (lower.startswith("on")
                    or (lower in _SRC_ATTRS and _remote(lower, text))
                    or (lower == "href" and tag.name != "a" and _remote(lower, text))
                    or (lower == "href" and _url(text).lower().startswith(("javascript:", "vbscript:")))
                    or (lower == "style" and re.search(_REMOTE_CSS_URL, text, re.IGNORECASE))):
                del tag.attrs[attr]
    for style in soup.find_all("style"):
        css = style.string or ""
        if "<" in css:  # no CSS needs it; inside SVG or MathML a browser reads it as markup
            style.decompose()
        elif re.search(f"@import|{_REMOTE_CSS_URL}", css, re.IGNORECASE):
            css = re.sub(r"@import[^;]*;", "", css)
            style.string = re.sub(_REMOTE_CSS_URL + r"[^)]*\)", "none", css, flags=re.IGNORECASE)
    return str(soup)


#: The Content-Security-Policy every report.html carries: whatever the cleaning missed, a browser that opens
#: the file runs no script and loads nothing, as when the console serves it. Inline styles and data: images
#: and fonts are the report's own; links to its data files are navigations, which the policy leaves alone.
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
_CHARSET = re.compile(r"<meta\s+charset=[^>]*>", re.IGNORECASE)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


def with_policy(document: str) -> str:
    """``document`` with :data:`REPORT_POLICY` as the first thing its head says after the character set.

    Added after :func:`clean_html`, which drops every ``http-equiv`` meta a notebook's output brings.
    """
    meta = f'<meta http-equiv="Content-Security-Policy" content="{REPORT_POLICY}"/>'
    found = _CHARSET.search(document, 0, 4096) or _HEAD.search(document, 0, 4096)
    if found is None:
        return document
    return document[:found.end()] + "\n" + meta + document[found.end():]


# -- PDF --------------------------------------------------------------------------------------

def _safe_fetcher(allowed_root: Path):
    """A WeasyPrint URL fetcher that serves ``data:`` URIs and files under ``allowed_root`` only.

    Everything else (http, https, ftp, files elsewhere) is refused before any connection is
    made; WeasyPrint then logs a warning and renders without the resource.
    """
    from urllib.parse import unquote, urlparse

    root = allowed_root.resolve()

    def check(url: str) -> None:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return
        if scheme == "file":
            path = Path(unquote(urlparse(url).path)).resolve()
            if path == root or root in path.parents:
                return
        log.warning("refused to fetch %s while rendering a PDF", url[:200])
        raise ValueError(f"refused to fetch {url[:200]}: reports may only use embedded resources")

    try:
        from weasyprint.urls import URLFetcher  # WeasyPrint >= 66: fetchers are classes
    except ImportError:  # older WeasyPrint: a plain function
        from weasyprint import default_url_fetcher

        def fetch(url: str):
            check(url)
            return default_url_fetcher(url)

        return fetch

    class SafeFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            check(url)
            return super().fetch(url, headers)

    return SafeFetcher(timeout=5, allow_redirects=False)


_font_config = None
_PAGED_BODY = re.compile(r'(<body class="q-doc)')
_pdf_lock = threading.Lock()  # WeasyPrint's font configuration is shared; renders take turns


def _pdf_options(weasyprint, tagged: bool, variant: str | None) -> dict[str, Any]:
    """WeasyPrint options for an accessible PDF, limited to what this WeasyPrint knows.

    ``pdf_tags`` (WeasyPrint >= 63) writes the structure tree: H1/H2, tables with TH cells,
    lists, links and Figures whose Alt is the image's alt text, plus /Lang from ``<html lang>``
    and the title shown in the viewer; it adds little to the time a PDF takes.
    ``variant="pdf/ua-1"`` adds the XMP metadata PDF/UA asks for.
    """
    known = getattr(weasyprint, "DEFAULT_OPTIONS", {})
    options: dict[str, Any] = {}
    if tagged and "pdf_tags" in known:
        options["pdf_tags"] = True
    if variant and "pdf_variant" in known:
        options["pdf_variant"] = variant
    return options


def render_pdf(html: str, *, base_dir: Path | str | None = None, tagged: bool = True,
               variant: str | None = None) -> bytes:
    """Print ``html`` (from :func:`render_html`) to PDF bytes with WeasyPrint.

    ``base_dir`` resolves relative URLs (default: the templates folder); only ``data:``
    URIs and files below it are ever read. ``tagged`` writes a tagged (structured) PDF for
    screen readers; ``variant`` names a WeasyPrint PDF variant such as ``"pdf/ua-1"``.
    Raises :class:`~quire.errors.RenderError`.
    """
    global _font_config
    try:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration
    except (ImportError, OSError) as exc:  # OSError: pango/cairo libraries missing
        raise RenderError(f"WeasyPrint cannot start: {exc}",
                          hint="install the system libraries with `make system` (libpango)") from exc
    root = _templates_dir(base_dir)
    # Tell the stylesheet a paged-media engine is printing: it moves the running header
    # and footer into the page margins (a browser printing the same HTML cannot).
    html = _PAGED_BODY.sub(r"\1 q-paged", html, count=1)
    try:
        with _pdf_lock:
            if _font_config is None:
                _font_config = FontConfiguration()
            document = weasyprint.HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=_safe_fetcher(root))
            return document.write_pdf(font_config=_font_config, **_pdf_options(weasyprint, tagged, variant))
    except Exception as exc:
        raise RenderError(f"could not print the report to PDF: {type(exc).__name__}: {exc}",
                          hint="the HTML report was written; open it to see which part is malformed") from exc


__all__ = ["render_html", "render_pdf", "clean_html", "with_policy", "REPORT_POLICY", "cut_printed_text", "PRINTED_LINES", "PRINTED_CHARS",
           "get_exporter", "report_resources", "report_audience",
           "cover_defaults",
           "DISPLAY_PRIORITY", "TEMPLATE_NAME"]
