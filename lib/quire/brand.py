"""Brand kits: the colours, fonts, logo and legal lines a report is dressed in.

A kit is a folder ``templates/brands/<key>/`` holding ``brand.yaml`` and a logo file.
Loading validates everything a renderer would otherwise trip over later: unknown keys,
malformed colours, a missing logo, a logo that is not a regular file inside the kit (a
symbolic link would pull any file into every report) or is larger than :data:`MAX_LOGO_BYTES`
(512 KB: it is embedded in every HTML and PDF) and — because reports are read by people — text
contrast (WCAG AA, 4.5:1) for body text on the background and for the white text the
cover and headings put on the primary colour.

The same :class:`Brand` drives the HTML/PDF template (:meth:`Brand.css_variables`,
:meth:`Brand.logo_data_uri`) and the charts (:attr:`Brand.palette`, via
:mod:`quire.chart_style`), so a report and its charts always agree.
"""

from __future__ import annotations

import base64
import colorsys
import io
import math
import os
import re
import stat
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from quire import yamltext
from quire.errors import ConfigError
from quire.formatting.conventions import DEFAULT_CURRENCY, DEFAULT_LOCALE, Conventions, parse_currency_code, parse_locale_tag

BRAND_FILE = "brand.yaml"
MIN_CONTRAST = 4.5  # WCAG 2 AA for normal-size text
CHART_CONTRAST = 3.0  # WCAG 2.1 SC 1.4.11: graphical objects (chart series) against their background
WHITE = "#ffffff"
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
MAX_LOGO_BYTES = 512 * 1024  # embedded (base64) in every HTML and PDF: a logo, not a photograph
MAX_LOGO_SIDE = 4096  # pixels of a PNG/JPEG logo, either side: it is drawn a few millimetres high
MIN_LOGO_SIDE_MM = 2.5  # the narrow side of a logo in the PDF's 6.5 mm running header: below it, a sliver
DEFAULT_FONT_STACK = '"Helvetica Neue", Helvetica, Arial, "DejaVu Sans", sans-serif'

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# A CSS font-family list: quoted names and names of bare words, separated by commas; nothing that could end the
# declaration (; { } < >), no url() or escapes. A quote left open, or a bare word starting with a digit ("Source
# Sans 3" unquoted), makes the browser drop the whole declaration, and the report falls back to its serif font.
_FONT_NAME = r"""(?:"[A-Za-z0-9 _-]+"|'[A-Za-z0-9 _-]+'|[A-Za-z_-][A-Za-z0-9_-]*(?: +[A-Za-z_-][A-Za-z0-9_-]*)*)"""
_FONT_STACK = re.compile(rf"^ *{_FONT_NAME}(?: *, *{_FONT_NAME})* *$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


# -- colour arithmetic ---------------------------------------------------------------------

def _rgb(color: str) -> tuple[float, float, float]:
    h = color.lstrip("#")
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in rgb)


def relative_luminance(color: str) -> float:
    """WCAG relative luminance of ``#rrggbb`` (0 black … 1 white)."""
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(a: str, b: str, weight: float) -> str:
    """``a`` blended with ``b``: ``weight`` 0 is all ``a``, 1 is all ``b``."""
    return _hex(tuple(x + (y - x) * weight for x, y in zip(_rgb(a), _rgb(b), strict=True)))  # type: ignore[arg-type]


def adjust_for_contrast(color: str, against: str, target: float = MIN_CONTRAST) -> str:
    """The nearest colour of the same hue and saturation that reaches ``target`` contrast against ``against``.

    Darkens ``color`` when ``against`` is light and lightens it when ``against`` is dark.
    """
    h, light, s = colorsys.rgb_to_hls(*_rgb(color))
    step = -0.01 if relative_luminance(against) > 0.18 else 0.01
    candidate = color
    for _ in range(101):
        if contrast_ratio(candidate, against) >= target:
            return candidate
        light = max(0.0, min(1.0, light + step))
        candidate = _hex(colorsys.hls_to_rgb(h, light, s))
    return "#000000" if step < 0 else WHITE


def chart_colour(color: str, background: str) -> str:
    """``color`` as a chart series draws it: itself when it reaches :data:`CHART_CONTRAST` on ``background``,
    else the nearest colour of its hue that does (lines, markers and bars must be seen to be read)."""
    return adjust_for_contrast(color, background, CHART_CONTRAST)


def _normalise_hex(value: str) -> str:
    value = value.lower()
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value


# -- models --------------------------------------------------------------------------------

class BrandColors(BaseModel):
    """The five colours of a brand, each ``#rrggbb`` (``#rgb`` is accepted and expanded)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary: str = Field(description="Cover band, headings, first chart series; white text must read on it.")
    secondary: str = Field(description="Second chart series, table header rule, accents.")
    accent: str = Field(description="Highlights: KPI card edge, third chart series.")
    text: str = Field(default="#1f2933", description="Body text; must read on background.")
    background: str = Field(default=WHITE, description="Page background.")

    @field_validator("*", mode="before")
    @classmethod
    def _hex_colour(cls, value: Any) -> str:
        if not isinstance(value, str) or not _HEX.match(value.strip()):
            raise ValueError(f"{value!r} is not a colour; write it as hex #RRGGBB, e.g. #1f3a5f")
        return _normalise_hex(value.strip())

    def derived(self) -> dict[str, str]:
        """The colours the template draws with (its ``--q-…`` variables): these five and the tints made of them."""
        zebra = mix(self.primary, self.background, 0.955)
        return {
            "primary": self.primary,
            "primary-dark": mix(self.primary, "#000000", 0.25),
            "primary-tint": mix(self.primary, self.background, 0.92),
            "primary-soft": mix(self.primary, self.background, 0.8),
            "secondary": self.secondary,
            "secondary-tint": mix(self.secondary, self.background, 0.9),
            "secondary-text": adjust_for_contrast(self.secondary, self.background),
            "accent": self.accent,
            "accent-tint": mix(self.accent, self.background, 0.85),
            "text": self.text,
            # Muted text (a confidence interval under its estimate) sits on striped rows too: readable on both.
            "muted": adjust_for_contrast(adjust_for_contrast(mix(self.text, self.background, 0.35), self.background),
                                         zebra),
            "rule": mix(self.text, self.background, 0.85),
            "zebra": zebra,
            "background": self.background,
            "on-primary": WHITE,
        }


AUDIENCES = ("internal", "client")
CLIENT_PLACEHOLDER = "{client}"
# Words that restrict a report to the company: a report a client receives must never carry them.
_INTERNAL_ONLY = re.compile(r"\binternal\s+(use|only|distribution|circulation|purposes)\b|\bnot for (the )?clients?\b",
                            re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


class AudienceLines(BaseModel):
    """A line that differs between internal reports and reports a client receives.

    In ``brand.yaml`` either one string (the same line for both audiences) or a mapping
    ``{internal: …, client: …}``. The client line may name the client as ``{client}``; it
    must not restrict the report to internal use, because the client reads it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    internal: str = Field(default="", description="Line on reports that stay inside the company (executive, cohort…).")
    client: str = Field(default="", description="Line on a report made for one client (it has a tenant).")

    @model_validator(mode="before")
    @classmethod
    def _one_line_for_both(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, str):
            return {"internal": value, "client": value}
        if not isinstance(value, dict):
            raise ValueError("write one line, or a mapping {internal: ..., client: ...}")
        return value

    @field_validator("internal", "client")
    @classmethod
    def _placeholders(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        unknown = [p for p in _PLACEHOLDER.findall(value) if not (p == CLIENT_PLACEHOLDER and info.field_name == "client")]
        if unknown:
            where = "only the client line may use {client}" if CLIENT_PLACEHOLDER in unknown else "the only placeholder is {client}"
            raise ValueError(f"{unknown[0]!r} is not a placeholder here; {where}")
        if any(brace in _PLACEHOLDER.sub("", value) for brace in "{}"):  # "for {client only" reached every page
            raise ValueError(f"{value!r} has a brace without its pair; write the placeholder whole, {CLIENT_PLACEHOLDER}")
        if info.field_name == "client" and _INTERNAL_ONLY.search(value):
            raise ValueError(f"{value!r} restricts the report to internal use, but a client receives it; "
                             "give the client its own line, e.g. {internal: ..., client: \"Prepared for {client}. Confidential.\"}")
        return value

    def for_audience(self, audience: str, client: str = "") -> str:
        """The line for ``audience`` (``internal`` or ``client``), with ``{client}`` filled in."""
        if audience not in AUDIENCES:
            raise ValueError(f"audience {audience!r} is not one of {', '.join(AUDIENCES)}")
        if audience == "internal":
            return self.internal
        # replace, not str.format: the client's name is data and may itself hold braces.
        return self.client.replace(CLIENT_PLACEHOLDER, client or "the client")

    def __bool__(self) -> bool:
        return bool(self.internal or self.client)


class FooterLines(AudienceLines):
    """The confidentiality line in every page footer (and on the cover), per audience."""

    internal: str = Field(default="", max_length=200)
    client: str = Field(default="", max_length=200)


class LegalLines(AudienceLines):
    """The legal small print, per audience."""

    internal: str = Field(default="", max_length=1000)
    client: str = Field(default="", max_length=1000)


class Brand(BaseModel):
    """A validated brand kit. Build one with :func:`load_brand`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(description="Folder name of the kit; what reports.yaml and the brand parameter name.")
    folder: Path = Field(description="The kit's folder (the logo path is relative to it).")
    name: str = Field(min_length=1, max_length=120, description="Display name, e.g. the agency's name.")
    logo: str = Field(description="Logo file relative to the brand folder (SVG preferred; PNG/JPEG accepted): a "
                                  "regular file inside the folder, not a symbolic link, at most 512 KB.")
    colors: BrandColors
    font_stack: str = Field(default=DEFAULT_FONT_STACK, description="CSS font-family list, best first.")
    cover_text: str = Field(default="", max_length=600, description="A sentence or two on the cover.")
    footer: FooterLines = Field(default_factory=FooterLines,
                                description="Confidentiality line in every page footer, per audience.")
    contact: str = Field(default="", max_length=300, description="Who to contact about the report.")
    legal: LegalLines = Field(default_factory=LegalLines,
                              description="Legal small print on the cover (print) or at the end (screen), per audience.")
    show_powered_by: bool = Field(default=False, description="Say 'Powered by Quire'; white-label reports leave it off.")
    locale: str = Field(default=DEFAULT_LOCALE, description="How figures and dates are written: a language and region "
                                                            "such as en-US, en-GB, de-DE, fr-FR (a client's own overrides it).")
    currency: str = Field(default=DEFAULT_CURRENCY, description="Currency of money figures: an ISO 4217 code such as "
                                                                "USD, EUR, GBP (a client's own overrides it).")

    @field_validator("name", "cover_text", "contact")
    @classmethod
    def _printable(cls, value: str, info: ValidationInfo) -> str:
        # Printed on every cover, in the PDF's author and the logo's alt text: a bell or a right-to-left override
        # would go there as written, and the override reverses what follows it.
        bad = next((c for c in value if not c.isprintable() and c not in "\n\t"), None)  # bidi controls too
        if bad is not None:
            raise ValueError(f"{info.field_name} holds the control character U+{ord(bad):04X}; remove it "
                             "(an editor's 'show invisibles' shows where)")
        return value

    @field_validator("cover_text", "contact")
    @classmethod
    def _no_placeholders(cls, value: str, info: ValidationInfo) -> str:
        # Only the footer and legal lines fill in the client's name: "Dear {client}" would be printed as written.
        if "{" in value or "}" in value:
            raise ValueError(f"{value!r}: {info.field_name} is printed as written, so it takes no placeholder or brace; "
                             f"the footer and legal lines may name the client as {CLIENT_PLACEHOLDER}")
        return value

    @field_validator("font_stack")
    @classmethod
    def _font_stack(cls, value: str) -> str:
        value = value.strip()
        if not value or not _FONT_STACK.match(value):
            raise ValueError(f"{value!r} is not a CSS font-family list; use names separated by commas, each in "
                             f"quotes if it holds a digit, and close every quote, e.g. {DEFAULT_FONT_STACK}")
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: Any) -> str:
        return parse_locale_tag(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: Any) -> str:
        return parse_currency_code(value)

    @field_validator("logo")
    @classmethod
    def _logo_name(cls, value: str) -> str:
        path = Path(value)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(f"{value!r} must be a file inside the brand folder, e.g. logo.svg")
        if path.suffix.lower() not in LOGO_TYPES:
            raise ValueError(f"{value!r} is not a supported logo type; use one of {', '.join(LOGO_TYPES)}")
        return value

    # -- derived -----------------------------------------------------------------------
    @property
    def conventions(self) -> Conventions:
        """The locale and currency the kit's reports are written in (before a client's own)."""
        return Conventions(self.locale, self.currency)

    @property
    def logo_path(self) -> Path:
        return self.folder / self.logo

    @cached_property
    def palette(self) -> list[str]:
        """Chart colours, best first: primary, secondary, accent, then tints and shades of them.

        Eight distinct hex colours, so a chart with up to eight series never repeats one; the
        derived ones are tints and shades rather than blends, which turn muddy. Each is darkened
        where needed to :data:`CHART_CONTRAST` on the background (:func:`chart_colour`), as the
        secondary colour is for text: a pastel secondary drew the executive forecast near-white on white.
        """
        c = self.colors
        candidates = [c.primary, c.secondary, c.accent,
                      mix(c.primary, WHITE, 0.5), mix(c.secondary, WHITE, 0.45), mix(c.accent, "#000000", 0.35),
                      "#7b8794", mix(c.secondary, "#000000", 0.4), mix(c.accent, WHITE, 0.5), "#3e4c59"]
        out: list[str] = []
        for colour in (chart_colour(candidate, c.background) for candidate in candidates):
            if colour not in out:
                out.append(colour)
        return out[:8]

    def css_variables(self) -> str:
        """A ``:root { --q-… }`` block with the brand's colours, tints and font stack for the template."""
        lines = [f"  --q-{k}: {v};" for k, v in self.colors.derived().items()]
        lines.append(f"  --q-font: {self.font_stack};")
        return ":root {\n" + "\n".join(lines) + "\n}"

    def logo_bytes(self) -> bytes:
        """The logo's content; a one-line :class:`ConfigError` unless it is a regular file of the kit's folder.

        Every folder below the kit's and the file itself are opened without following a
        symbolic link, and the size is checked on the opened file, so what is checked is
        what is read. The kit's folder itself may be reached through a link (a shared
        ``templates/``).
        """
        where = f"brand '{self.key}' ({self.folder / BRAND_FILE})"
        try:
            data = _read_kit_file(self.folder, Path(self.logo), MAX_LOGO_BYTES)
        except _LogoProblem as problem:
            raise ConfigError(f"{where}: logo {self.logo} {problem}", hint=problem.fix) from None
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read logo {self.logo}: {exc.strerror or exc}") from None
        return data

    def lines_for(self, audience: str, client: str = "") -> dict[str, str]:
        """The footer and legal lines a report for ``audience`` carries (``internal`` or ``client``)."""
        return {"footer": self.footer.for_audience(audience, client), "legal": self.legal.for_audience(audience, client)}

    def logo_data_uri(self) -> str:
        """The logo as a ``data:`` URI, so HTML and PDF carry it with no file beside them."""
        mime = LOGO_TYPES[self.logo_path.suffix.lower()]
        data = self.logo_bytes()
        if mime == "image/svg+xml":
            from quire.display import sanitize_svg

            # A logo is a file from outside too: no script or handler rides along into reports.
            data = sanitize_svg(data)
        return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")

    def logo_warning(self) -> str | None:
        """What is wrong with the logo without stopping a report, as the brand check and ``quire validate`` say it;
        None for a good one: what reports leave out of an SVG (scripts, handlers, links to other files: a logo
        that links its artwork from elsewhere is drawn empty), and a shape too narrow or too flat to be read."""
        found = [warning for warning in (self._svg_warning(), self._shape_warning()) if warning]
        return "; ".join(found) or None

    def _svg_warning(self) -> str | None:
        if LOGO_TYPES[self.logo_path.suffix.lower()] != "image/svg+xml":
            return None
        from quire.display import sanitize_svg

        removed: list[str] = []
        sanitize_svg(self.logo_bytes(), removed)
        if not removed:
            return None
        return (f"logo {self.logo_path.name}: reports leave out {', '.join(dict.fromkeys(removed))} (they run nothing "
                "and load nothing from outside); if its artwork is a linked image, export the logo again as plain SVG "
                "with its images embedded, or as PNG")

    def _shape_warning(self) -> str | None:
        """A logo whose narrow side the PDF's running header draws under :data:`MIN_LOGO_SIDE_MM` (a 60 × 800 one
        was a 3-px sliver there and on the cover; a 2000 × 60 one is cut to the header's widest and flattened)."""
        from quire.pdf.pages import LOGO_MAX_WIDTH_MM, header_logo_size, intrinsic_size

        size = intrinsic_size(self.logo_data_uri())
        if not size:
            return None
        width, height = header_logo_size(*size)
        if min(width, height) >= MIN_LOGO_SIDE_MM:
            return None
        shape, example = (("tall and narrow", "the symbol beside the name rather than above it") if width < height
                          else ("wide and flat", "the name on two lines, or the symbol alone"))
        return (f"logo {self.logo_path.name} is {size[0]:g} × {size[1]:g}, so {shape} that the PDF's running header "
                f"draws it {width:.1f} × {height:.1f} mm (at most {LOGO_MAX_WIDTH_MM} mm wide); use a version of the "
                f"logo about 1 to 6 times as wide as high, e.g. {example}")


# -- the logo file --------------------------------------------------------------------------

class _LogoProblem(Exception):
    """Why a logo file cannot be used (completes "logo <name> …"), and how to fix it."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.fix = fix


_COPY_IT = "copy the image file itself into the brand folder and name it in 'logo:'"


def _open_in(folder_fd: int, name: str, flags: int, last: bool) -> int:
    """Open ``name`` in the open folder without following a link; a :class:`_LogoProblem` says why not."""
    try:
        return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder_fd)
    except FileNotFoundError:
        raise _LogoProblem("does not exist", "put the logo in the brand folder and name it in 'logo:'") from None
    except OSError as exc:
        try:  # O_NOFOLLOW fails with ELOOP on a link, ENOTDIR when a link stands for a folder on the way
            linked = stat.S_ISLNK(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode)
        except OSError:
            linked = False
        if linked:
            where = "is a symbolic link" if last else f"is reached through a symbolic link ({name}/)"
            raise _LogoProblem(f"{where}; a logo must be a regular file inside the brand folder", _COPY_IT) from None
        raise _LogoProblem(f"cannot be opened ({exc.strerror or exc})", _COPY_IT) from None


def _read_kit_file(folder: Path, relative: Path, limit: int) -> bytes:
    """Bytes of ``folder/relative``, every part below ``folder`` opened without following a link, at most ``limit``."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in relative.parts[:-1]:
            child = _open_in(fd, part, os.O_RDONLY | os.O_DIRECTORY, last=False)
            os.close(fd)
            fd = child
        # O_NONBLOCK: a FIFO named like a logo must not hang `quire run`.
        file_fd = _open_in(fd, relative.parts[-1], os.O_RDONLY | os.O_NONBLOCK, last=True)
    finally:
        os.close(fd)
    info = os.fstat(file_fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(file_fd)
        raise _LogoProblem("is not a regular file", _COPY_IT)
    with os.fdopen(file_fd, "rb") as handle:
        data = handle.read(limit + 1)  # the size on disk may change after fstat: read no more than the limit
    if max(info.st_size, len(data)) > limit:
        size = max(info.st_size, len(data))
        shown = f"{size / 1024:,.0f} KB" if size < 10 * 1024 * 1024 else f"{size / 1024 / 1024:,.1f} MB"
        raise _LogoProblem(f"is {shown}, above the {limit // 1024} KB limit for a logo",
                           f"export it smaller: an SVG, or a PNG/JPEG of at most {limit // 1024} KB")
    return data


# -- loading -------------------------------------------------------------------------------

def _brands_dir(templates_dir: Path | str | None) -> Path:
    if templates_dir is None:
        from quire.config import get_settings

        templates_dir = get_settings().templates_dir
    return Path(templates_dir) / "brands"


def list_brands(templates_dir: Path | str | None = None) -> list[str]:
    """Names of the brand kits under ``<templates_dir>/brands`` (folders holding a brand.yaml), sorted."""
    root = _brands_dir(templates_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / BRAND_FILE).is_file())


def _describe(path: tuple, message: str) -> str:
    from quire.problems import MISSING

    where = ".".join(str(part) for part in path)
    if message == MISSING:
        return f"'{where}' is required"
    return f"{where}: {message}" if where else message


#: Opacity of the cover's small print and legal lines on the primary band (``.q-cover-small`` in report.css).
COVER_SMALL_OPACITY = 0.92
#: Where the template draws a colour of the primary family as text (``report.css`` and the apps' ``app.css``):
#: (text, ground, where). All of it is small text somewhere (8 pt bold running title, links, table captions,
#: 7 pt table headers), so each pair needs :data:`MIN_CONTRAST`.
PRIMARY_PAIRS = (
    ("cover-small", "primary", "white text on colors.primary {primary} (the cover band and its small print, at "
                               f"{COVER_SMALL_OPACITY:.0%} white, and the section numbers)"),
    ("primary", "background", "colors.primary {primary} as text on colors.background {background} (titles, "
                              "headings, links, table captions, the running header's title)"),
    ("primary-dark", "background", "the darker primary {primary-dark} on colors.background {background} "
                                   "(KPI values, glossary terms)"),
    ("primary-dark", "primary-tint", "the darker primary {primary-dark} on its tint {primary-tint} (table headers)"),
)


def drawn_colours(colors: BrandColors) -> dict[str, str]:
    """Every colour the report template draws text with or on: the ``--q-…`` variables, the cover's small print
    (white at :data:`COVER_SMALL_OPACITY` over the primary band) and the white paper of the PDF's pages."""
    values = colors.derived()
    return {**values, "cover-small": mix(values["on-primary"], colors.primary, 1 - COVER_SMALL_OPACITY), "paper": WHITE}


def _failing_primary_pairs(colors: BrandColors) -> list[str]:
    """The uses of the primary colour (:data:`PRIMARY_PAIRS`) below :data:`MIN_CONTRAST`, each with its ratio."""
    drawn = drawn_colours(colors)
    failing = []
    for text, ground, where in PRIMARY_PAIRS:
        ratio = contrast_ratio(drawn[text], drawn[ground])
        if ratio < MIN_CONTRAST:
            failing.append(f"{where.format_map(drawn)} has contrast {ratio:.2f}:1")
    return failing


def _primary_suggestion(colors: BrandColors) -> str | None:
    """The lightest darker shade of the primary (same hue and saturation) that every use reads in; None if no
    shade does (a dark background: white text needs a dark primary, the primary as text a light one)."""
    hue, light, saturation = colorsys.rgb_to_hls(*_rgb(colors.primary))
    for step in range(round(light * 100) + 1):
        candidate = _hex(colorsys.hls_to_rgb(hue, max(0.0, light - step / 100), saturation))
        if not _failing_primary_pairs(colors.model_copy(update={"primary": candidate})):
            return candidate
    return None


def _check_contrast(brand: Brand, source: Path) -> None:
    """Every pair of colours the template draws text with reaches :data:`MIN_CONTRAST` (WCAG AA), and the text
    reads on the white paper the PDF prints its pages on; a :class:`ConfigError` naming each pair and a fix."""
    c = brand.colors
    problems = []
    ratio = contrast_ratio(c.text, c.background)
    if ratio < MIN_CONTRAST:
        problems.append(f"colors.text {c.text} on colors.background {c.background} has contrast {ratio:.2f}:1, "
                        f"below {MIN_CONTRAST}:1; try text {adjust_for_contrast(c.text, c.background)}")
    ratio = contrast_ratio(c.text, WHITE)
    if ratio < MIN_CONTRAST:
        # The pages after the cover are printed without the kit's background, so that a page's paper is white.
        problems.append(f"colors.text {c.text} is printed on white paper in the PDF (its pages after the cover "
                        f"have no background) with contrast {ratio:.2f}:1, below {MIN_CONTRAST}:1; reports are "
                        "light pages: give the kit dark text on a light background")
    failing = _failing_primary_pairs(c)
    if failing:
        suggestion = _primary_suggestion(c)
        fix = (f"try a darker primary such as {suggestion}" if suggestion else
               f"no primary reads both under white text and on colors.background {c.background}; use a light "
               "background")
        problems.append("; ".join(failing) + f", below {MIN_CONTRAST}:1; {fix}")
    if problems:
        raise ConfigError(f"brand '{brand.key}' ({source}): " + "; ".join(problems),
                          hint="WCAG AA asks for 4.5:1 so that reports stay readable in print and on screen")


_MAGIC = {".png": (b"\x89PNG\r\n\x1a\n",), ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",)}


def _check_plain_svg(brand: Brand, source: Path, data: bytes) -> None:
    """An SVG logo (``data``) is well-formed XML without a DOCTYPE: one declaring entities passed the check, then
    every run failed with a message about charts (the reports' SVG cleaner refuses entities; none is ever resolved)."""
    from xml.etree import ElementTree as ET

    name = brand.logo_path.name
    if re.search(rb"<!DOCTYPE|<!ENTITY", data, re.IGNORECASE):
        raise ConfigError(f"brand '{brand.key}' ({source}): logo file {name} declares a DOCTYPE or entities, which "
                          "reports do not load", hint="export the logo again as plain SVG (no DOCTYPE)")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ConfigError(f"brand '{brand.key}' ({source}): logo file {name} is not well-formed SVG: {exc}",
                          hint="export the logo again as SVG, PNG or JPEG") from None
    # Reports size the logo from these (a height of 0 divided every run by zero; a width of "." failed to parse).
    bad = _svg_sizes(root.attrib)
    if bad:
        attribute, value = bad[0]
        raise ConfigError(f"brand '{brand.key}' ({source}): logo file {name} has {attribute}=\"{value}\" on its <svg> "
                          "element, which is not a size above 0",
                          hint='give it a viewBox="0 0 W H" with the artwork\'s width W and height H above 0, and '
                               "width and height above 0 or none")


#: A length of an SVG's size attribute: a number above 0 with an optional unit.
_SVG_LENGTH = re.compile(r"\s*(\d+\.?\d*|\.\d+)(e[-+]?\d+)?(px|pt|pc|mm|cm|in|em|ex|%)?\s*", re.IGNORECASE)


def _svg_sizes(attributes: dict[str, str]) -> list[tuple[str, str]]:
    """The size attributes of an SVG root (``width``, ``height``, the view box's) that do not give a size above 0."""
    bad = [(name, attributes[name]) for name in ("width", "height") if name in attributes
           and not ((m := _SVG_LENGTH.fullmatch(attributes[name])) and 0 < float(m[1] + (m[2] or "")) < math.inf)]
    if "viewBox" in attributes:
        numbers = re.split(r"[\s,]+", attributes["viewBox"].strip())
        try:
            ok = len(numbers) == 4 and all(0 < float(n) < math.inf for n in numbers[2:])
        except ValueError:
            ok = False
        if not ok:
            bad.append(("viewBox", attributes["viewBox"]))
    return bad


def _check_raster(brand: Brand, source: Path, data: bytes) -> bool:
    """Whether a PNG or JPEG decodes to the end (a file with the right header and a damaged body passed, then
    headed every report as a broken image); a :class:`ConfigError` if its pixels are too many for a logo."""
    from PIL import Image, UnidentifiedImageError

    try:
        if data.startswith(_MAGIC[".png"]):
            # Decoding alone can fill every pixel from a damaged or cut body (it stops at the last pixel, before
            # the checksums): the chunks' CRCs and the closing IEND say whether the file is whole, whatever a
            # reader would make of a damaged one.
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if max(width, height) > MAX_LOGO_SIDE:
                # A few hundred KB of PNG can hold 10,000 × 10,000 pixels: decoded by every report's print.
                raise ConfigError(f"brand '{brand.key}' ({source}): logo file {brand.logo_path.name} is {width} × "
                                  f"{height} pixels, above the {MAX_LOGO_SIDE} a logo may have on either side",
                                  hint=f"export it at most {MAX_LOGO_SIDE} pixels wide and high, or as SVG")
            image.load()
    except Image.DecompressionBombError:  # so many pixels that Pillow will not even read the size: no broken file
        raise ConfigError(f"brand '{brand.key}' ({source}): logo file {brand.logo_path.name} has far more pixels than "
                          f"the {MAX_LOGO_SIDE} a logo may have on either side",
                          hint=f"export it at most {MAX_LOGO_SIDE} pixels wide and high, or as SVG") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    return True


def _check_logo_content(brand: Brand, source: Path) -> None:
    """The logo file is one the kit may use and holds what its name says (a renamed file would render broken)."""
    data = brand.logo_bytes()  # read once: the SVG check parses all of it
    suffix = brand.logo_path.suffix.lower()
    if suffix == ".svg":
        ok = b"<svg" in data[:4096]
        if ok:
            _check_plain_svg(brand, source, data)
    else:
        ok = data.startswith(_MAGIC[suffix]) and _check_raster(brand, source, data)
    if not ok:
        raise ConfigError(f"brand '{brand.key}' ({source}): logo file {brand.logo_path.name} is not "
                          f"{'an SVG' if suffix == '.svg' else 'a ' + suffix[1:].upper()} image",
                          hint="export the logo again as SVG, PNG or JPEG")


def load_brand(name: str, templates_dir: Path | str | None = None) -> Brand:
    """Load and validate the brand kit ``name`` from ``<templates_dir>/brands/<name>/brand.yaml``.

    ``templates_dir`` defaults to the configured one (``QUIRE_HOME/templates``). Every
    problem raises :class:`~quire.errors.ConfigError` with a message naming the file and
    the key: unknown brand (listing the available ones), YAML syntax (with the line),
    unknown or missing keys, malformed colours, a missing, linked or oversized logo, insufficient contrast.
    """
    root = _brands_dir(templates_dir)
    available = list_brands(templates_dir)
    if not isinstance(name, str) or not _KEY.match(name) or name not in available:
        choices = ", ".join(available) if available else f"none found in {root}"
        raise ConfigError(f"unknown brand {name!r}; available brands: {choices}",
                          hint=f"add a folder {root}/<name>/ with a {BRAND_FILE}")
    folder = root / name
    source = folder / BRAND_FILE
    try:
        data = yamltext.safe_load(source.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"brand '{name}': {source} is not valid YAML{line}: {exc.problem or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"brand '{name}': {source} is not UTF-8 text (byte {exc.start}: "
                          f"{exc.object[exc.start:exc.start + 1]!r})", hint="save it as UTF-8") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"brand '{name}': cannot read {source}: {exc}") from None
    if not isinstance(data, dict):
        from quire.problems import yaml_found

        raise ConfigError(f"brand '{name}': {source} must hold keys such as name:, logo: and colors:, but holds "
                          f"{yaml_found(data)}; templates/brands/quire/brand.yaml is an example")
    reserved = {"key", "folder"} & set(data)
    if reserved:
        raise ConfigError(f"brand '{name}' ({source}): unknown key '{sorted(reserved)[0]}' "
                          f"(the brand's key is its folder name)")
    try:
        brand = Brand(key=name, folder=folder, **data)
    except ValidationError as exc:
        from quire.problems import describe

        details = "; ".join(_describe(*problem) for problem in describe(exc, Brand, hidden={"key", "folder"}))
        raise ConfigError(f"brand '{name}' ({source}): {details}") from None
    _check_logo_content(brand, source)
    _check_contrast(brand, source)
    return brand


__all__ = ["AUDIENCES", "AudienceLines", "Brand", "BrandColors", "FooterLines", "LegalLines", "load_brand", "list_brands",
           "contrast_ratio", "adjust_for_contrast", "chart_colour", "drawn_colours", "mix", "relative_luminance",
           "MIN_CONTRAST", "CHART_CONTRAST", "MAX_LOGO_BYTES"]
