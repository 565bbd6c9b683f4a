"""The data contract (quire.contract): one declaration per report that the queries, the checks and the docs share."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from quire import contract as C
from quire.catalog import load_catalog
from quire.config import Settings
from quire.errors import ParameterError
from quire.pipeline import prepare
from quire.warehouse import coverage, schema
from quire.warehouse.engine import connection
from support import ROOT
from support.contract_data import subset_warehouse

BUILT_IN = ("executive", "client", "cohort", "experiment")


def test_every_built_in_report_type_has_a_contract_and_each_dated_one_its_range():
    stems = {Path(spec.notebook).stem for spec in load_catalog(ROOT / "reports.yaml").reports.values()}
    assert set(BUILT_IN) <= stems and set(C.CONTRACTS) == set(BUILT_IN)
    assert set(coverage.REPORT_RANGES) == {name for name, c in C.CONTRACTS.items() if c.coverage is not None}
    assert C.CONTRACTS["experiment"].coverage is None  # it runs per experiment


def test_columns_come_from_the_schema():
    for report in C.CONTRACTS.values():
        for table in report.tables:
            source = schema.metadata.tables[table.name]
            for col in table.columns:
                src = source.c[col.name]
                assert col.nullable == src.nullable and col.key == src.primary_key, (table.name, col.name)
                assert col.sql_type.split("(")[0] in str(src.type.compile(dialect=sa.dialects.postgresql.dialect())), col
                # A foreign key only to a table the same report reads.
                if col.references:
                    assert report.reads(col.references.split(".")[0])
    events = C.contract("cohort").table("events")
    assert events.column("event_type").allowed == schema.EVENT_TYPES
    assert events.foreign_keys == (("user_id", "users", "user_id"),)
    assert C.contract("client").table("content").column("platform").allowed == schema.PLATFORMS
    assert C.contract("executive").table("mrr_movements").column("movement").allowed == schema.MOVEMENTS
    assert events.column("revenue").pandas_dtype == "float64" and events.column("occurred_at").kind == "timestamp"


def test_each_report_needs_only_its_own_tables():
    required = {name: [t.name for t in c.required_tables] for name, c in C.CONTRACTS.items()}
    assert required == {"executive": ["clients", "mrr_movements"], "client": ["clients", "content", "engagement_daily"],
                        "cohort": ["users", "events"], "experiment": ["experiment_assignments"]}
    users = C.contract("cohort").table("users")
    assert users.column_names == ("user_id", "signed_up_at")  # no client link: a product without clients runs
    assignments = C.contract("experiment").table("experiment_assignments")
    assert [c.name for c in assignments.optional_columns] == ["pre_revenue"]
    assert assignments.column("experiment_id").references == "experiments.experiment_id"
    assert all(t.without for t in (t for c in C.CONTRACTS.values() for t in c.optional_tables))


def test_the_merged_view_and_metadata_of_any_subset():
    merged = C.warehouse_tables()
    assert "sessions" not in merged and "invoices" not in merged  # no report reads them
    clients = merged["clients"]
    assert not clients.column("slug").optional and clients.column("sector").optional
    readers = {t: [use.split(":")[0] for use in merged[t].purpose.split("; ")] for t in ("clients", "events")}
    assert readers == {"clients": ["executive", "client"], "events": ["cohort"]}  # what each report reads it for
    meta = C.metadata(report="experiment")
    assert list(meta.tables) == ["experiments", "experiment_variants", "experiment_assignments"]
    alone = C.metadata(["experiment_assignments"], report="experiment", required_only=True)
    table = alone.tables["experiment_assignments"]
    assert "pre_revenue" not in table.c and not table.foreign_keys  # its parents are not included
    eng = sa.create_engine("duckdb:///:memory:")
    C.metadata(["events", "users"]).create_all(eng)  # events reference users: created in order
    eng.dispose()
    with pytest.raises(ParameterError, match="no table sessions in the cohort report's contract"):
        C.metadata(["sessions"], report="cohort")
    with pytest.raises(ParameterError, match="no data contract for report 'nosuch'; known: executive, client"):
        C.contract("nosuch")


def test_the_note_for_an_absent_optional_table_says_what_is_left_out():
    note = C.absent_note("client", ["product_usage", "organizations"])
    assert note == ("The warehouse has no organizations table, so a client without its own brand gets the quire "
                    "brand. The warehouse has no product_usage table, so the health score leaves out seat utilisation, "
                    "the usage trend and the support load (counted per seat).")


@pytest.mark.parametrize("name, family", [
    ("INTEGER", "integer"), ("BIGINT", "integer"), ("HUGEINT", "integer"), ("smallint", "integer"),
    ("UBIGINT", "integer"), ("DECIMAL(14,2)", "decimal"), ("numeric", "decimal"), ("DOUBLE", "float"),
    ("double precision", "float"), ("real", "float"), ("VARCHAR", "text"), ("character varying", "text"),
    ("text", "text"), ("DATE", "date"), ("TIMESTAMP", "timestamp"), ("timestamp without time zone", "timestamp"),
    ("TIMESTAMP WITH TIME ZONE", "timestamptz"), ("timestamptz", "timestamptz"), ("BOOLEAN", "boolean"),
    ("DATETIME", "timestamp"), ("BLOB", "other"), ("INTERVAL", "other"),
])
def test_database_type_names_map_to_families(name, family):
    assert C.family(name) == family


def test_kinds_accept_their_families():
    col = C.contract("cohort").table("events").column("occurred_at")
    assert C.accepts(col, "DATE") and C.accepts(col, "TIMESTAMP") and not C.accepts(col, "VARCHAR")
    assert not C.accepts(col, "timestamp with time zone")
    money = C.contract("cohort").table("events").column("revenue")
    assert C.accepts(money, "DOUBLE") and C.accepts(money, "BIGINT") and not C.accepts(money, "VARCHAR")


@pytest.fixture(scope="module")
def contract_columns_only(tiny_warehouse, tmp_path_factory) -> str:
    """The tiny warehouse with only the tables and columns some report's contract names (all of them)."""
    return subset_warehouse(tiny_warehouse, tmp_path_factory.mktemp("contract-only") / "wh.duckdb")


def _show(section) -> None:
    """Build a section's HTML, as the notebook's display does (charts, tables and all)."""
    for part in section if isinstance(section, list) else [section]:
        if part is not None and hasattr(part, "html"):
            assert part.html()


def test_every_report_reads_only_the_columns_its_contract_names(contract_columns_only, tmp_path):
    from quire.reports import client, cohort, executive, experiment

    url = contract_columns_only
    settings = Settings(home=ROOT, outputs=tmp_path / "outputs", warehouse_url=url)
    with connection(url) as conn:
        held = C.inventory(conn)
    assert set(held.tables) == set(C.warehouse_tables())
    assert set(held.tables["users"]) == {"user_id", "signed_up_at"}

    plan = prepare("executive", {"period": "latest"}, settings)
    report = executive.build(period=plan.params["period"], url=url)
    for name in ("header", "headline", "alerts", "revenue", "retention", "forecast", "delivery", "customers", "glossary"):
        _show(getattr(report, name)())
    assert not report.data.absent

    plan = prepare("client", {"client": "village-of-summerbrook", "period": "2026-10"}, settings)
    report = client.build(client="village-of-summerbrook", period=plan.params["period"], url=url)
    for name in ("header", "headline", "engagement", "channels", "top_content", "health", "portfolio",
                 "recommendations", "glossary"):
        _show(getattr(report, name)())
    assert report.scores_health and not report.data.absent

    plan = prepare("cohort", {"period": "latest"}, settings)
    report = cohort.build(period=plan.params["period"], behaviour="activated", url=url)
    for name in ("header", "headline", "retention", "revenue", "ltv", "comparison", "behavioural_filter", "glossary"):
        _show(getattr(report, name)())
    assert report.problem is None

    prepare("experiment", {"experiment": "pricing-page-layout"}, settings)
    report = experiment.build(experiment="pricing-page-layout", url=url)
    for name in ("header", "verdict", "headline", "assignment", "conversion", "revenue", "power",
                 "multiple_comparisons", "glossary"):
        _show(getattr(report, name)())
    assert report.analysis is not None and report.analysis.cuped and not report.data.absent


def test_the_cohort_report_needs_no_client(tiny_warehouse, tmp_path):
    """Users without a client (NULL client_id) and no clients table at all: the cohort report runs, the check agrees."""
    from quire.contract import check_warehouse
    from quire.reports import cohort
    from support import warehouse_copy

    assert schema.users.c.client_id.nullable  # the schema lets a product without clients load its users
    path = tmp_path / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("alter table users alter client_id drop not null")
        con.execute("update users set client_id = null")
        for table in ("engagement_daily", "content", "mrr_movements", "subscriptions", "projects", "product_usage",
                      "support_tickets", "survey_responses", "invoices", "clients", "organizations"):
            con.execute(f"drop table {table}")
    url = f"duckdb:///{path}"
    plan = prepare("cohort", {"period": "latest"}, Settings(home=ROOT, outputs=tmp_path / "out", warehouse_url=url))
    report = cohort.build(period=plan.params["period"], url=url)
    assert report.problem is None and report.active.sizes.sum() > 0
    with connection(url) as conn:
        result = check_warehouse(conn)
    assert {name: r.can_run for name, r in result.reports.items()} == {
        "executive": False, "client": False, "cohort": True, "experiment": True}


def test_the_note_for_an_optional_table_without_its_columns_names_them():
    note = C.absent_note("client", ["product_usage", "organizations"],
                         {"product_usage": ("seats_active", "seats_total")})
    assert note == ("The warehouse has no organizations table, so a client without its own brand gets the quire "
                    "brand. The warehouse's product_usage table has no seats_active and seats_total columns, so the "
                    "health score leaves out seat utilisation, the usage trend and the support load (counted per seat).")


def test_missing_sources_name_absent_tables_and_the_columns_of_those_there():
    assert C.missing_phrase(["product_usage", "support_tickets", "survey_responses"]) == (
        "the warehouse has no product_usage, support_tickets or survey_responses table")
    assert C.missing_phrase(["product_usage", "support_tickets", "survey_responses"],
                            {"support_tickets": ("opened_at",)}) == (
        "the warehouse has no product_usage or survey_responses table, and its support_tickets table has no "
        "opened_at column")


def test_lacking_columns_are_those_of_optional_tables_that_are_there(tiny_warehouse, tmp_path):
    from support import warehouse_copy

    from quire.warehouse.engine import connection

    with warehouse_copy(tiny_warehouse, tmp_path / "w.duckdb") as con:
        con.execute("alter table projects rename column actual_hours to actual_hrs")
        con.execute("drop table survey_responses")
    with connection(f"duckdb:///{tmp_path / 'w.duckdb'}") as conn:
        assert C.lacking_columns(conn, C.contract("executive")) == {"projects": ("actual_hours",)}
