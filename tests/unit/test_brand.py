"""Brand kits load, and every broken kit fails with a message that names the problem."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest
import yaml
from support import quire_free_env

from quire.brand import (CHART_CONTRAST, MIN_CONTRAST, Brand, adjust_for_contrast, chart_colour, contrast_ratio,
                         drawn_colours, list_brands, load_brand, mix)
from quire.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
SHIPPED = ["harbor", "northwind", "quire"]
HEX = re.compile(r"^#[0-9a-f]{6}$")


@pytest.fixture
def kit(tmp_path):
    """A writable copy of the ``northwind`` kit as ``acme``; returns (templates_dir, write(data))."""
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES / "brands" / "northwind", templates / "brands" / "acme")
    path = templates / "brands" / "acme" / "brand.yaml"
    base = yaml.safe_load(path.read_text())

    def write(**changes):
        data = {**base, **changes}
        data = {k: v for k, v in data.items() if v is not None}
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return templates

    return templates, base, write


def colors(base, **changes):
    return {**base["colors"], **changes}


# -- the shipped kits ------------------------------------------------------------------------

def test_list_brands_finds_the_shipped_kits():
    assert list_brands(TEMPLATES) == SHIPPED
    assert list_brands(Path("/nonexistent")) == []


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_brands_load_and_are_complete(name):
    brand = load_brand(name, TEMPLATES)
    assert isinstance(brand, Brand) and brand.key == name and brand.name
    assert brand.cover_text and brand.contact
    assert brand.footer.internal and brand.footer.client and brand.legal.internal and brand.legal.client
    assert all(HEX.match(c) for c in brand.colors.model_dump().values())
    assert contrast_ratio(brand.colors.text, brand.colors.background) >= MIN_CONTRAST
    assert contrast_ratio("#ffffff", brand.colors.primary) >= MIN_CONTRAST
    assert brand.logo_data_uri().startswith("data:image/svg+xml;base64,")


@pytest.mark.parametrize("name", SHIPPED)
def test_muted_text_is_readable_on_the_background_and_on_striped_rows(name):
    # A confidence interval in muted text on an even table row measured 4.38:1 (axe: serious).
    found = dict(re.findall(r"--q-([a-z-]+): (#[0-9a-f]{6});", load_brand(name, TEMPLATES).css_variables()))
    for ground in ("background", "zebra"):
        assert contrast_ratio(found["muted"], found[ground]) >= MIN_CONTRAST, ground


@pytest.mark.parametrize("name", SHIPPED)
def test_palette_has_six_or_more_distinct_colours_led_by_the_brand(name):
    brand = load_brand(name, TEMPLATES)
    palette = brand.palette
    assert len(palette) >= 6 and len(set(palette)) == len(palette)
    c = brand.colors
    assert palette[:3] == [chart_colour(colour, c.background) for colour in (c.primary, c.secondary, c.accent)]
    assert all(HEX.match(colour) for colour in palette)
    # Every series is seen on the page (WCAG 1.4.11): quire's gold accent (2.19:1) is drawn darker in charts.
    assert all(contrast_ratio(colour, c.background) >= CHART_CONTRAST for colour in palette)
    if name != "quire":
        assert palette[:3] == [c.primary, c.secondary, c.accent]


def test_css_variables_carry_colours_and_fonts():
    brand = load_brand("harbor", TEMPLATES)
    css = brand.css_variables()
    assert css.startswith(":root {") and css.rstrip().endswith("}")
    assert f"--q-primary: {brand.colors.primary};" in css
    assert f"--q-font: {brand.font_stack};" in css
    # the derived text colour for the secondary always reads on the background
    secondary_text = re.search(r"--q-secondary-text: (#[0-9a-f]{6});", css).group(1)
    assert contrast_ratio(secondary_text, brand.colors.background) >= MIN_CONTRAST
    muted = re.search(r"--q-muted: (#[0-9a-f]{6});", css).group(1)
    assert contrast_ratio(muted, brand.colors.background) >= MIN_CONTRAST


def test_white_label_is_the_default():
    assert load_brand("northwind", TEMPLATES).show_powered_by is False
    assert load_brand("harbor", TEMPLATES).show_powered_by is False


def test_default_templates_dir_comes_from_settings(monkeypatch):
    from quire.config import get_settings

    monkeypatch.setenv("QUIRE_HOME", str(ROOT))
    get_settings.cache_clear()
    try:
        assert load_brand("quire").key == "quire"
        assert list_brands() == SHIPPED
    finally:
        get_settings.cache_clear()


# -- colour helpers ---------------------------------------------------------------------------

def test_contrast_ratio_and_adjustment():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    darker = adjust_for_contrast("#7fb3d5", "#ffffff")
    assert contrast_ratio(darker, "#ffffff") >= MIN_CONTRAST
    lighter = adjust_for_contrast("#333333", "#000000")
    assert contrast_ratio(lighter, "#000000") >= MIN_CONTRAST
    assert mix("#000000", "#ffffff", 0.5) == "#808080"


# -- every broken kit names its problem -----------------------------------------------------

def test_unknown_brand_lists_the_available_ones():
    with pytest.raises(ConfigError) as err:
        load_brand("acme", TEMPLATES)
    assert "unknown brand 'acme'" in str(err.value)
    assert "harbor, northwind, quire" in str(err.value)


@pytest.mark.parametrize("name", ["../quire", "Quire", "", "a b"])
def test_brand_names_are_folder_names_only(name):
    with pytest.raises(ConfigError, match="unknown brand"):
        load_brand(name, TEMPLATES)


def test_missing_logo_names_the_file(kit):
    templates, _, write = kit
    write(logo="missing-logo.svg")
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    assert "missing-logo.svg" in str(err.value) and "does not exist" in str(err.value)


@pytest.mark.parametrize("logo,message", [
    ("../quire/logo.svg", "must be a file inside the brand folder"),
    ("/etc/passwd.svg", "must be a file inside the brand folder"),
    ("logo.gif", "not a supported logo type"),
])
def test_logo_must_be_an_image_inside_the_kit(kit, logo, message):
    templates, _, write = kit
    write(logo=logo)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_brand("acme", templates)


@pytest.mark.parametrize("value", ["#12345", "blue-ish", "#gggggg", "rgb(1,2,3)", 123])
def test_invalid_colour_names_key_and_value(kit, value):
    templates, base, write = kit
    write(colors=colors(base, primary=value))
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    message = str(err.value)
    assert "colors.primary" in message and repr(value) in message and "#RRGGBB" in message


def test_short_hex_is_expanded(kit):
    templates, base, write = kit
    write(colors=colors(base, primary="#123"))
    assert load_brand("acme", templates).colors.primary == "#112233"


def test_bad_yaml_reports_the_line(kit):
    templates, _, _ = kit
    path = templates / "brands" / "acme" / "brand.yaml"
    path.write_text("name: Acme\nlogo: logo.svg\ncolors:\n  primary: '#1b4332\n  secondary: x\n")
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    assert "not valid YAML" in str(err.value) and re.search(r"line \d+", str(err.value))


@pytest.mark.parametrize("text, found", [("- just\n- a list\n", "a list (lines starting with '-')"),
                                         ("", "nothing (the file is empty)"), ("Acme\n", "a single value ('Acme')")])
def test_yaml_that_is_not_a_mapping_says_what_the_file_holds(kit, text, found):
    # It said "not NoneType" of an empty file, "not str" of a bare word: Python's names, not the user's.
    templates, _, _ = kit
    (templates / "brands" / "acme" / "brand.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    assert str(err.value).endswith(f"brand.yaml must hold keys such as name:, logo: and colors:, but holds {found}; "
                                   "templates/brands/quire/brand.yaml is an example")


@pytest.mark.parametrize("key, value, says", [
    # pydantic's words: "should be a valid boolean, unable to interpret input", "should be a valid string"
    ("show_powered_by", "yes please", "show_powered_by: 'yes please' should be true or false"),
    ("name", 2026, "name: 2026 should be text (in quotes if it looks like a number, a date or true/false)"),
    ("cover_text", True, "cover_text: true should be text"),  # as YAML writes it, not Python's True
    ("locale", ["en-GB"], "locale: should be text, not a list"),  # not how to quote it
    ("cover_text", {"a": 1}, "cover_text: should be text, not a mapping"),
    # pydantic's words: "should be a valid dictionary or instance of BrandColors"
    ("colors", ["#112233"], "colors: should be a mapping of keys to values"),
])
def test_a_value_of_the_wrong_kind_says_what_kind_to_write(kit, key, value, says):
    templates, _, write = kit
    write(**{key: value})
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    assert says in str(err.value)


def test_unknown_key_is_named_with_the_one_meant_or_the_allowed_ones(kit):
    templates, _, write = kit
    write(colour="#000000")
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    assert "unknown key 'colour' (did you mean 'colors'?)" in str(err.value)
    write(wibble="#000000")
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    allowed = str(err.value).split("unknown key 'wibble' (allowed: ", 1)[1].split(")")[0].split(", ")
    assert "colors" in allowed and "name" in allowed and "key" not in allowed and "folder" not in allowed


def test_unknown_nested_key_and_missing_key(kit):
    templates, base, write = kit
    write(colors={**base["colors"], "tertiary": "#000000"})
    with pytest.raises(ConfigError, match=r"colors: unknown key 'tertiary' \(allowed: primary, "):
        load_brand("acme", templates)
    write(colors=base["colors"], name=None)
    with pytest.raises(ConfigError, match="'name' is required"):
        load_brand("acme", templates)


def test_reserved_keys_cannot_be_set_from_yaml(kit):
    templates, _, write = kit
    write(key="quire")
    with pytest.raises(ConfigError, match="unknown key 'key'"):
        load_brand("acme", templates)


@pytest.mark.parametrize("stack", ['"Source Sans 3, Arial', "Source Sans 3, Arial", "Arial,, sans-serif"])
def test_a_font_stack_the_browser_would_drop_is_refused(kit, stack):
    # An open quote passed the check; the browser dropped the declaration and the PDF came out in a serif font.
    templates, _, write = kit
    write(font_stack=stack)
    message = _one_line_error(templates)
    assert "is not a CSS font-family list" in message and "close every quote" in message


@pytest.mark.parametrize("name", ["Acme\u0007 Agency", "Acme \u202eycnegA"])
def test_a_brand_name_with_control_characters_is_refused(kit, name):
    # A bell and a right-to-left override went into every cover, the PDF's author and the logo's alt text.
    templates, _, write = kit
    write(name=name)
    assert "name holds the control character U+" in _one_line_error(templates)


def test_font_stack_cannot_break_out_of_css(kit):
    templates, _, write = kit
    write(font_stack="Arial; } body { display: none")
    with pytest.raises(ConfigError, match="font_stack"):
        load_brand("acme", templates)


def test_low_contrast_primary_gives_ratio_and_a_darker_suggestion(kit):
    templates, base, write = kit
    write(colors=colors(base, primary="#7fb3d5"))
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    message = str(err.value)
    assert "white text on colors.primary #7fb3d5" in message
    ratio = re.search(r"contrast (\d+\.\d\d):1", message)
    small_print = mix("#ffffff", "#7fb3d5", 0.08)  # the cover's small print is white at 92 % over the band
    assert ratio and float(ratio.group(1)) == pytest.approx(contrast_ratio(small_print, "#7fb3d5"), abs=0.01)
    suggestion = re.search(r"such as (#[0-9a-f]{6})", message).group(1)
    assert contrast_ratio(mix("#ffffff", suggestion, 0.08), suggestion) >= MIN_CONTRAST
    assert "4.5:1" in message


def test_a_primary_only_white_reads_on_is_refused_for_the_covers_small_print(kit):
    # #767676 gives white 4.54:1, but the cover's small print (white at 92 %, #f4f4f4) 4.13:1.
    templates, base, write = kit
    write(colors=colors(base, primary="#767676"))
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    message = str(err.value)
    assert "small print" in message and "4.13:1" in message
    suggestion = re.search(r"darker primary such as (#[0-9a-f]{6})", message).group(1)
    write(colors=colors(base, primary=suggestion))
    assert load_brand("acme", templates).colors.primary == suggestion


def _every_drawn_pair_reads(brand) -> None:
    drawn = drawn_colours(brand.colors)
    for text, ground in [("text", "background"), ("text", "paper"), ("cover-small", "primary"),
                         ("primary", "background"), ("primary-dark", "background"), ("primary-dark", "primary-tint"),
                         ("secondary-text", "background"), ("muted", "background"), ("muted", "zebra")]:
        assert contrast_ratio(drawn[text], drawn[ground]) >= MIN_CONTRAST, (brand.key, text, ground)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_kits_read_in_every_pair_the_template_draws(name):
    _every_drawn_pair_reads(load_brand(name, TEMPLATES))


def test_a_dark_background_kit_is_refused_with_what_to_do(kit):
    # Passed before: text 15:1 on its background, white 21:1 on the primary; but the headings, KPI values and
    # table headers drew black on #111111 (1.11:1), and the PDF printed the light text on white paper.
    templates, base, write = kit
    write(colors=colors(base, primary="#000000", text="#eeeeee", background="#111111"))
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    message = str(err.value)
    assert "colors.primary #000000 as text on colors.background #111111" in message and "1.11:1" in message
    assert "table headers" in message and "KPI values" in message
    assert "printed on white paper in the PDF" in message and "1.16:1" in message
    assert "use a light background" in message


def test_a_black_background_with_a_mid_grey_primary_is_refused_for_print(kit):
    # Every screen pair reads here (#767676 is 4.62:1 on black and 4.54:1 under white): the PDF's white paper does not.
    templates, base, write = kit
    write(colors=colors(base, primary="#6e6e6e", text="#eeeeee", background="#000000"))
    with pytest.raises(ConfigError, match=r"colors.text #eeeeee is printed on white paper in the PDF"):
        load_brand("acme", templates)


def test_a_primary_too_light_on_the_background_gets_a_darker_one_that_reads_everywhere(kit):
    templates, base, write = kit
    write(colors=colors(base, primary="#1b4332", background="#3f5f52", text="#ffffff"))
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    assert "colors.primary #1b4332 as text on colors.background #3f5f52" in str(err.value)


def test_a_pastel_secondary_is_drawn_darker_in_charts_and_said(kit):
    # #e9f3fb drew the executive report's forecast line and its band near-white on white (1.1:1).
    from quire.cli_brand import contrast_report

    templates, base, write = kit
    write(colors=colors(base, secondary="#e9f3fb", accent="#fff4b8"))
    brand = load_brand("acme", templates)
    series = brand.palette
    assert all(contrast_ratio(colour, "#ffffff") >= CHART_CONTRAST for colour in series)
    assert len(series) == len(set(series)) >= 6
    import colorsys

    hue = lambda colour: colorsys.rgb_to_hls(*(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)))[0]  # noqa: E731
    assert hue(series[1]) == pytest.approx(hue("#e9f3fb"), abs=0.02)  # the brand's blue, darker
    lines, warnings = contrast_report(brand)
    assert any("chart colour 2 #e9f3fb" in line and f"darkened to {series[1]}" in line for line in lines)
    assert warnings == []


def test_low_contrast_text_on_background(kit):
    templates, base, write = kit
    write(colors=colors(base, text="#aaaaaa"))
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    message = str(err.value)
    assert "colors.text #aaaaaa on colors.background #ffffff" in message
    suggestion = re.search(r"try text (#[0-9a-f]{6})", message).group(1)
    assert contrast_ratio(suggestion, "#ffffff") >= MIN_CONTRAST


def test_config_errors_exit_with_the_config_code(kit):
    templates, base, write = kit
    write(colors=colors(base, primary="blue-ish"))
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    assert err.value.exit_code == 2 and "brand 'acme'" in str(err.value)


# -- quire brand check -----------------------------------------------------------------------

def _quire(env_home: Path, outputs: Path, *args: str):
    import subprocess
    import sys

    env = quire_free_env()
    env.update(QUIRE_HOME=str(env_home), QUIRE_OUTPUTS=str(outputs))
    return subprocess.run([sys.executable, "-m", "quire.cli", "brand", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


@pytest.mark.slow
def test_brand_check_validates_and_renders_a_sample(tmp_path):
    proc = _quire(ROOT, tmp_path / "outputs", "check", "quire")
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "outputs" / ".quire" / "brand-check" / "quire"
    assert f"sample pdf:  {folder / 'sample.pdf'}" in proc.stdout
    assert (folder / "sample.html").read_text().count('class="q-chart"') >= 2
    assert (folder / "sample.pdf").read_bytes().startswith(b"%PDF")
    # Quire's gold accent is a chart colour below 3:1 on white: drawn darker in charts, and said.
    assert "chart colour 3 #e0a526" in proc.stdout and "WCAG 1.4.11" in proc.stdout
    assert f"darkened to {load_brand('quire', TEMPLATES).palette[2]}" in proc.stdout


def test_brand_check_reports_a_broken_kit_in_one_line(kit, tmp_path):
    templates, base, write = kit
    write(colors=colors(base, primary="#9fd3ff"))
    proc = _quire(templates.parent, tmp_path / "outputs", "check", "acme")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "colors.primary #9fd3ff" in lines[0] and "try a darker primary" in lines[0]
    assert not (tmp_path / "outputs" / ".quire" / "brand-check").exists()


def test_brand_check_says_when_none_of_the_brands_fonts_is_installed(kit, tmp_path):
    # The sample printed in DejaVu Sans and nothing said the brand's fonts were missing.
    from quire.cli_brand import missing_fonts

    assert missing_fonts('"Futura PT", Futura, sans-serif') == ["Futura PT", "Futura"]
    assert missing_fonts('"Avenir Next", "DejaVu Sans", sans-serif') == []  # one installed: no word
    assert missing_fonts("sans-serif") == []
    templates, base, write = kit
    write(font_stack='"Futura PT", sans-serif')
    (templates / "quire").symlink_to(ROOT / "templates" / "quire")  # the sample page's template
    proc = _quire(templates.parent, tmp_path / "outputs", "check", "acme")
    assert proc.returncode == 0, proc.stderr
    assert "none of the brand's fonts (Futura PT) is installed on this machine" in proc.stdout


def _svg_logo(kit, inside: str) -> tuple[Path, Path, bytes]:
    """The kit's templates folder and logo, the logo replaced by an SVG holding ``inside``, and its own bytes."""
    templates, _, write = kit
    write()
    logo = templates / "brands" / "acme" / "logo.svg"
    plain = logo.read_bytes()
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
                    f'viewBox="0 0 10 10"{inside}</svg>')
    return templates, logo, plain


def test_brand_check_says_what_reports_leave_out_of_an_svg_logo(kit, tmp_path):
    # A logo whose artwork is a linked image (as design tools export it) was printed empty in every report, and
    # the check said the kit was valid without a word.
    templates, logo, plain = _svg_logo(kit, ' onload="steal()"><script>steal()</script>'
                                            '<image xlink:href="https://cdn.example/logo.png" width="10" height="10"/>')
    (templates / "quire").symlink_to(ROOT / "templates" / "quire")  # the sample page's template
    proc = _quire(templates.parent, tmp_path / "outputs", "check", "acme")
    assert proc.returncode == 0, proc.stderr
    [warning] = [line for line in proc.stdout.splitlines() if line.startswith("! logo logo.svg:")]
    assert "<script>" in warning and "onload" in warning and "link to https://cdn.example/logo.png" in warning
    sample = (tmp_path / "outputs" / ".quire" / "brand-check" / "acme" / "sample.html").read_text()
    [drawn] = {base64.b64decode(uri) for uri in re.findall(r'class="q-cover-logo" src="data:image/svg\+xml;base64,([^"]+)"', sample)}
    assert b"<svg" in drawn.replace(b"ns0:", b"") and b"cdn.example" not in drawn and b"steal" not in drawn  # as said
    logo.write_bytes(plain)
    assert "! logo" not in _quire(templates.parent, tmp_path / "outputs", "check", "acme").stdout


def test_validate_warns_of_what_reports_leave_out_of_an_svg_logo(kit, tmp_path):
    # Only `quire brand check` said it: `quire validate` called every kit valid, logo without artwork or not.
    from quire.config import Settings
    from quire.validation import brand_warnings

    templates, logo, plain = _svg_logo(kit, '><image xlink:href="artwork.png" width="10" height="10"/>')
    settings = Settings(home=templates.parent)
    [warning] = brand_warnings(settings)
    assert warning.startswith("brand acme: logo logo.svg: reports leave out link to artwork.png (")
    logo.write_bytes(plain)
    assert brand_warnings(settings) == []


def test_brand_check_names_the_available_kits(tmp_path):
    proc = _quire(ROOT, tmp_path / "outputs", "check", "nosuch")
    assert proc.returncode == 2 and "available brands: harbor, northwind, quire" in proc.stderr


def test_secondary_text_is_darkened_automatically_and_said():
    from quire.cli_brand import contrast_report

    lines, _ = contrast_report(load_brand("northwind", TEMPLATES))
    assert any("darkened automatically to" in line for line in lines)
    assert "--q-secondary-text: #a1670c;" in load_brand("northwind", TEMPLATES).css_variables()


def _image(kind: str, **options) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), "#1f4e79").save(buffer, format=kind, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("logo,content,message", [
    # the right header and a damaged body: passed, then a broken image headed every report
    ("logo.png", _image("PNG")[:60] + b"\0" * 40 + _image("PNG")[100:], "is not a PNG image"),
    ("logo.png", _image("PNG")[:-30], "is not a PNG image"),
    # Pillow's zlib compresses differently on different CPUs: on some, the two files above decoded to a full image
    # (decoding stops at the last pixel, before the checksums). Uncompressed pixels give the same bytes everywhere.
    ("logo.png", _image("PNG", compress_level=0)[:200] + b"\xab" * 40 + _image("PNG", compress_level=0)[240:],
     "is not a PNG image"),
    ("logo.png", _image("PNG", compress_level=0)[:-14], "is not a PNG image"),
    ("logo.jpg", _image("JPEG")[:len(_image("JPEG")) // 2], "is not a JPG image"),
    ("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "is not a PNG image"),
    ("logo.svg", b"\x89PNG\r\n\x1a\n....", "is not an SVG image"),
    # passed the check, then every run failed with "chart image is not well-formed SVG: undefined entity"
    ("logo.svg", b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
                 b"<svg xmlns='http://www.w3.org/2000/svg'><text>&xxe;</text></svg>", "declares a DOCTYPE or entities"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><g></svg>", "is not well-formed SVG"),
])
def test_logo_content_must_match_its_type(kit, logo, content, message):
    templates, base, write = kit
    (templates / "brands" / "acme" / logo).write_bytes(content)
    write(logo=logo)
    with pytest.raises(ConfigError, match=message):
        load_brand("acme", templates)


@pytest.mark.parametrize("size, named", [
    ('width="." height="30"', 'width="."'),            # was a ValueError traceback in validate and every run
    ('width="100" height="0"', 'height="0"'),          # was a ZeroDivisionError in every run
    ('viewBox="0 0 0 0"', 'viewBox="0 0 0 0"'),
    ('width="nan" height="30"', 'width="nan"'),
    ('viewBox="0 0 100" width="100"', 'viewBox="0 0 100"'),
    ('width="-40" height="30"', 'width="-40"'),
])
def test_an_svg_logo_without_a_usable_size_is_refused_naming_the_attribute(kit, size, named):
    templates, _, write = kit
    (templates / "brands" / "acme" / "logo.svg").write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" {size}><rect width="1" height="1"/></svg>')
    message = _one_line_error(write(logo="logo.svg"))
    assert f"logo file logo.svg has {named} on its <svg> element, which is not a size above 0" in message, message


@pytest.mark.parametrize("size, expected", [
    ('viewBox="0 0 100 30" width="100%"', (100, 30)),
    ("width='120px' height='3.6e1' stroke-width='0'", (120, 36)),
    ('viewBox="0,0,.5,2"', (0.5, 2)),
    ('width="80"', None),                                  # no height: drawn as it comes
])
def test_usable_svg_logo_sizes_load_and_give_the_header_their_shape(kit, size, expected):
    import base64

    from quire.pdf.pages import intrinsic_size

    templates, _, write = kit
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" {size}><rect width="1" height="1"/></svg>'.encode()
    (templates / "brands" / "acme" / "logo.svg").write_bytes(svg)
    write(logo="logo.svg")
    assert load_brand("acme", templates).logo == "logo.svg"
    assert intrinsic_size("data:image/svg+xml;base64," + base64.b64encode(svg).decode()) == expected


def test_a_logo_of_too_many_pixels_is_refused_with_the_limit(kit):
    from PIL import Image

    from quire.brand import MAX_LOGO_SIDE

    templates, _, write = kit
    for width, refused in ((MAX_LOGO_SIDE + 1, True), (MAX_LOGO_SIDE, False)):
        buffer = io.BytesIO()
        Image.new("1", (width, 8)).save(buffer, format="PNG")  # a few hundred bytes
        (templates / "brands" / "acme" / "wide.png").write_bytes(buffer.getvalue())
        if refused:
            message = _one_line_error(write(logo="wide.png"))
            assert f"logo file wide.png is {width} × 8 pixels, above the {MAX_LOGO_SIDE}" in message
        else:
            write(logo="wide.png")
            assert load_brand("acme", templates).logo == "wide.png"
    # 30,000 × 30,000 in its header: Pillow refuses to open it at all, and the check said "is not a PNG image".
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30_000, 30_000, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    (templates / "brands" / "acme" / "bomb.png").write_bytes(bomb)
    message = _one_line_error(write(logo="bomb.png"))
    assert f"logo file bomb.png has far more pixels than the {MAX_LOGO_SIDE} a logo may have" in message


def test_a_brand_file_not_in_utf8_or_nested_without_end_is_one_line(kit):
    templates, _, write = kit
    path = write() / "brands" / "acme" / "brand.yaml"
    path.write_bytes(path.read_bytes().replace(b"name: ", "name: Caf\u00e9 ".encode("latin-1"), 1))
    message = _one_line_error(templates)
    assert "brand.yaml is not UTF-8 text (byte" in message and message.endswith("(save it as UTF-8)")
    path.write_text("name: " + "[" * 2_000 + "]" * 2_000)  # a RecursionError traceback
    assert "nests lists or mappings too deeply" in _one_line_error(templates)


def test_svg_logo_is_cleaned_of_script(kit):
    import base64

    templates, base, write = kit
    (templates / "brands" / "acme" / "evil.svg").write_bytes(
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script><rect/></svg>')
    brand = load_brand("acme", write(logo="evil.svg"))
    svg = base64.b64decode(brand.logo_data_uri().split(",", 1)[1])
    assert b"onload" not in svg and b"script" not in svg and b"rect" in svg


def test_brand_list_names_every_kit(tmp_path):
    proc = _quire(ROOT, tmp_path / "outputs", "list")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["harbor", "northwind", "quire"]


# -- the logo is a regular file of the kit, of a reasonable size ----------------------------------

def _one_line_error(templates: Path) -> str:
    with pytest.raises(ConfigError) as err:
        load_brand("acme", templates)
    message = str(err.value)
    assert "\n" not in message and "brand 'acme'" in message
    return message


def test_a_symlinked_logo_is_refused_and_its_target_never_read(kit, tmp_path):
    templates, _, write = kit
    secret = tmp_path / "secret.svg"
    secret.write_text("<svg xmlns='http://www.w3.org/2000/svg'><text>warehouse password</text></svg>")
    (templates / "brands" / "acme" / "linked.svg").symlink_to(secret)
    message = _one_line_error(write(logo="linked.svg"))
    assert "logo linked.svg is a symbolic link" in message and "copy the image file itself" in message


def test_a_logo_reached_through_a_symlinked_folder_is_refused(kit, tmp_path):
    templates, _, write = kit
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(TEMPLATES / "brands" / "quire" / "logo.svg", tmp_path / "elsewhere" / "logo.svg")
    (templates / "brands" / "acme" / "img").symlink_to(tmp_path / "elsewhere")
    message = _one_line_error(write(logo="img/logo.svg"))
    assert "reached through a symbolic link (img/)" in message


def test_a_logo_in_a_real_subfolder_of_the_kit_is_fine(kit):
    templates, _, write = kit
    (templates / "brands" / "acme" / "img").mkdir()
    shutil.copy(TEMPLATES / "brands" / "quire" / "logo.svg", templates / "brands" / "acme" / "img" / "logo.svg")
    assert load_brand("acme", write(logo="img/logo.svg")).logo_data_uri().startswith("data:image/svg+xml;base64,")


def test_a_kit_folder_reached_through_a_link_still_loads(tmp_path):
    """A shared templates/ folder linked into a project (as the scheduler's test projects do) is not a logo link."""
    (tmp_path / "templates").symlink_to(TEMPLATES)
    assert load_brand("quire", tmp_path / "templates").logo_bytes().lstrip().startswith(b"<")


def test_an_oversized_logo_is_refused_with_the_limit(kit):
    from quire.brand import MAX_LOGO_BYTES

    templates, _, write = kit
    big = templates / "brands" / "acme" / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (23 * 1024 * 1024))
    message = _one_line_error(write(logo="big.png"))
    assert "logo big.png is 23.0 MB, above the 512 KB limit for a logo" in message and "export it smaller" in message
    # A real PNG padded with a text chunk to exactly the limit: accepted.
    png = _image("PNG")
    text = b"Comment\0" + b"x" * (MAX_LOGO_BYTES - len(png) - 12 - 8)
    chunk = len(text).to_bytes(4, "big") + b"tEXt" + text + zlib.crc32(b"tEXt" + text).to_bytes(4, "big")
    big.write_bytes(png[:-12] + chunk + png[-12:])  # before the closing IEND chunk
    assert len(load_brand("acme", templates).logo_bytes()) == MAX_LOGO_BYTES


def test_a_logo_that_is_not_a_regular_file_is_refused(kit):
    templates, _, write = kit
    os.mkfifo(templates / "brands" / "acme" / "pipe.svg")  # would block a plain read forever
    assert "logo pipe.svg is not a regular file" in _one_line_error(write(logo="pipe.svg"))
    (templates / "brands" / "acme" / "dir.svg").mkdir()
    assert "logo dir.svg is not a regular file" in _one_line_error(write(logo="dir.svg"))


def test_brand_check_names_a_symlinked_logo_in_one_line(kit, tmp_path):
    templates, _, write = kit
    (templates / "brands" / "acme" / "linked.svg").symlink_to(TEMPLATES / "brands" / "quire" / "logo.svg")
    write(logo="linked.svg")
    proc = _quire(templates.parent, tmp_path / "outputs", "check", "acme")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and "is a symbolic link" in lines[0], proc.stderr


# -- footer and legal lines per audience -------------------------------------------------------------

INTERNAL_ONLY = re.compile(r"internal use|internal only|internal distribution|not for (the )?client", re.IGNORECASE)


@pytest.mark.parametrize("name", SHIPPED)
def test_client_reports_never_carry_an_internal_only_line(name):
    brand = load_brand(name, TEMPLATES)
    client = brand.lines_for("client", "Town of Westbury")
    assert client["footer"] and not INTERNAL_ONLY.search(client["footer"]) and not INTERNAL_ONLY.search(client["legal"])
    assert "{client}" not in client["footer"] + client["legal"]
    assert brand.lines_for("internal")["footer"] != client["footer"]


def test_quire_kit_marks_internal_reports_internal_and_names_the_client_on_its_reports():
    brand = load_brand("quire", TEMPLATES)
    assert brand.lines_for("internal")["footer"] == "Confidential — for internal use only"
    assert brand.lines_for("client", "Town of {Westbury}")["footer"] == "Prepared for Town of {Westbury}. Confidential."


def test_one_footer_string_serves_both_audiences(kit):
    templates, _, write = kit
    brand = load_brand("acme", write(footer="Confidential", legal="Acme Ltd."))
    assert brand.lines_for("internal") == brand.lines_for("client", "X") == {"footer": "Confidential", "legal": "Acme Ltd."}


@pytest.mark.parametrize("footer", ["Confidential — for internal use only",
                                    {"internal": "Internal", "client": "Not for client distribution"}])
def test_a_client_line_that_says_internal_only_is_refused(kit, footer):
    templates, _, write = kit
    with pytest.raises(ConfigError) as info:
        load_brand("acme", write(footer=footer))
    assert "footer.client" in info.value.message and "client receives it" in info.value.message


@pytest.mark.parametrize("footer,message", [
    ({"internal": "For {client}", "client": "x"}, "only the client line may use {client}"),
    ({"internal": "x", "client": "For {name}"}, "the only placeholder is {client}"),
    ({"internal": "x", "customer": "y"}, "footer: unknown key 'customer'"),
    (42, "write one line, or a mapping"),
    # A typo printed "Confidential — prepared for {client only" on every page of the client's PDF.
    ({"internal": "x", "client": "Prepared for {client only"}, "has a brace without its pair"),
    ({"internal": "x", "client": "Prepared for client}"}, "has a brace without its pair"),
    ({"internal": "Internal {", "client": "x"}, "has a brace without its pair"),
])
def test_malformed_footer_lines_name_the_problem(kit, footer, message):
    templates, _, write = kit
    with pytest.raises(ConfigError) as info:
        load_brand("acme", write(footer=footer))
    assert message in info.value.message


@pytest.mark.parametrize("key", ["cover_text", "contact"])
def test_a_placeholder_where_none_is_filled_in_is_refused(kit, key):
    """"Dear {client}, …" on the cover was printed as written."""
    templates, _, write = kit
    with pytest.raises(ConfigError) as info:
        load_brand("acme", write(**{key: "Dear {client}, here is your report."}))
    assert f"{key} is printed as written, so it takes no placeholder" in info.value.message


# -- locale and currency -------------------------------------------------------------------------

def test_a_kit_writes_figures_in_en_us_and_usd_unless_it_says_otherwise(kit):
    templates, _, write = kit
    assert load_brand("acme", write()).conventions.to_dict() == {"locale": "en-US", "currency": "USD"}
    brand = load_brand("acme", write(locale="de_de", currency="eur"))
    assert (brand.locale, brand.currency) == ("de-DE", "EUR")  # normalised on load


@pytest.mark.parametrize("key,value,says", [
    ("locale", "xx-YY", "locale: 'xx-YY' is not a locale Quire knows; write a language and region such as en-US"),
    ("locale", "en-ZZ", "locale: 'en-ZZ' is not a locale Quire knows"),
    ("currency", "EURO", "currency: 'EURO' is not a currency code; write an ISO 4217 code such as USD, EUR"),
])
def test_a_kit_with_an_unknown_locale_or_currency_fails_on_load(kit, key, value, says):
    templates, _, write = kit
    with pytest.raises(ConfigError) as err:
        load_brand("acme", write(**{key: value}))
    assert err.value.exit_code == 2 and str(err.value).startswith("brand 'acme' (") and says in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("width", "height", "shape", "drawn"), [
    (60, 800, "tall and narrow", "0.5 × 6.5 mm"),  # a 3-px sliver on the cover and in the running header
    (2000, 60, "wide and flat", "45.0 × 1.4 mm"),  # cut to the header's widest, a line 1.4 mm high
])
def test_a_logo_too_narrow_or_too_flat_to_read_is_warned_about(kit, width, height, shape, drawn):
    templates, _, _ = kit
    (templates / "brands" / "acme" / "logo.svg").write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        f'<rect width="{width}" height="{height}" fill="#1b4332"/></svg>')
    warning = load_brand("acme", templates).logo_warning()
    assert f"is {width} × {height}, so {shape}" in warning and drawn in warning
    assert "1 to 6 times as wide as high" in warning


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_logos_give_no_warning(name):
    assert load_brand(name, TEMPLATES).logo_warning() is None
