"""Which brand a run wears, and that a kit it cannot wear refuses the run before it starts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from quire.config import Settings
from quire.errors import ConfigError
from quire.pipeline import prepare

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path) -> Path:
    """A copy of the project's catalog, notebooks and templates, for editing."""
    for name in ("notebooks", "templates"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "reports.yaml", tmp_path / "reports.yaml")
    return tmp_path


def _catalog_brand(home: Path, report: str, brand: str) -> None:
    text = (home / "reports.yaml").read_text(encoding="utf-8")
    head, body = text.split(f"\n  {report}:\n", 1)
    body = body.replace("\n    brand: quire\n", f"\n    brand: {brand}\n", 1)
    (home / "reports.yaml").write_text(f"{head}\n  {report}:\n{body}", encoding="utf-8")


def test_the_catalogs_brand_is_worn_unless_a_run_names_another(home, tiny_warehouse, tmp_path):
    # The notebook's default brand ("quire") silently won over the catalog's.
    _catalog_brand(home, "executive", "harbor")
    settings = Settings(home=home, outputs=tmp_path / "out", warehouse_url=tiny_warehouse)
    assert prepare("executive", {}, settings).brand == "harbor"
    assert prepare("executive", {}, settings).params["brand"] == "harbor"  # the notebook is told too
    assert prepare("executive", {"brand": "northwind"}, settings).brand == "northwind"


def test_a_kit_the_run_cannot_wear_refuses_it_before_it_starts(home, tiny_warehouse, tmp_path):
    # The catalog's unknown kit: `validate` refused it, `run` published in another brand. A broken kit named
    # with -p brand=: a failed run with a history row, where every other bad parameter is refused up front.
    settings = Settings(home=home, outputs=tmp_path / "out", warehouse_url=tiny_warehouse)
    (home / "templates" / "brands" / "harbor" / "brand.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^brand 'harbor': .* is not valid YAML"):
        prepare("executive", {"brand": "harbor"}, settings)
    _catalog_brand(home, "executive", "nobrand")
    with pytest.raises(ConfigError, match=r"^unknown brand 'nobrand'; available brands: "):
        prepare("executive", {}, settings)
    assert not (tmp_path / "out").exists()


def test_a_clients_unknown_brand_says_it_came_from_the_warehouse(home, tiny_warehouse, tmp_path):
    # "unknown brand 'nonexistent'; available brands: …": nothing said the name was the client's record's.
    from quire.pipeline import run_plan
    from support import warehouse_copy

    path = tmp_path / "w.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        [(slug,)] = con.execute("select slug from clients where status = 'active' order by slug limit 1").fetchall()
        con.execute("update clients set brand = 'nonexistent' where slug = ?", [slug])
    settings = Settings(home=home, outputs=tmp_path / "out", warehouse_url=f"duckdb:///{path}")
    with pytest.raises(ConfigError) as raised:
        run_plan(prepare("client", {"client": slug}, settings), settings=settings)
    assert raised.value.message.startswith(f"client '{slug}': the brand its warehouse record names fails: unknown "
                                           "brand 'nonexistent'; available brands: ")
    assert raised.value.hint.endswith("fix clients.brand (or its organization's brand) in the warehouse")
    assert not list((tmp_path / "out").glob("client/*/*/report.html"))


def test_a_clients_broken_kit_is_blamed_on_the_kit_not_the_warehouse(home, tiny_warehouse, tmp_path):
    # "…brand.yaml is not valid YAML (fix clients.brand … in the warehouse)": the advice re-branded a white-label
    # client to get past a typo in the kit's file.
    from quire.pipeline import run_plan
    from support import warehouse_copy

    path = tmp_path / "w.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        [(slug,)] = con.execute("select slug from clients where status = 'active' order by slug limit 1").fetchall()
        con.execute("update clients set brand = 'harbor' where slug = ?", [slug])
    (home / "templates" / "brands" / "harbor" / "brand.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    settings = Settings(home=home, outputs=tmp_path / "out", warehouse_url=f"duckdb:///{path}")
    with pytest.raises(ConfigError) as raised:
        run_plan(prepare("client", {"client": slug}, settings), settings=settings)
    assert raised.value.message.startswith(f"client '{slug}': its brand kit fails: brand 'harbor': ")
    assert "is not valid YAML" in raised.value.message and "warehouse" not in str(raised.value)
    assert not list((tmp_path / "out").glob("client/*/*/report.html"))


def test_a_home_without_the_report_template_is_refused_by_validate_and_before_a_run(home, tiny_warehouse, tmp_path):
    # `quire validate` said "✓ catalog, notebooks and brands are valid"; the run then executed the notebook and
    # failed in its render.
    from quire.errors import RenderError
    from quire.validation import validate_project

    settings = Settings(home=home, outputs=tmp_path / "out", warehouse_url=tiny_warehouse)
    assert validate_project(settings) == []
    shutil.rmtree(home / "templates" / "quire")
    assert any(p.startswith("report template not found: ") for p in validate_project(settings))
    with pytest.raises(RenderError, match="report template not found"):
        prepare("executive", {}, settings)
    assert not (tmp_path / "out").exists()
