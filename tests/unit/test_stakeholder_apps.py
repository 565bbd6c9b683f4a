"""The stakeholder apps without a browser: widget values are checked server side, the tenant pin holds."""

from __future__ import annotations

from datetime import date

import pytest

from quire.apps import base, client, executive
from quire.apps.base import AppInputError, period_options
from quire.serve.archive import ARCHIVE_FILE, read_archive_file


def test_period_options_are_complete_periods_newest_first():
    options = period_options(date(2024, 5, 1), date(2026, 10, 1))
    keys = [key for _, key in options]
    assert keys[:2] == ["2026-10", "2026-09"] and len([k for k in keys if "Q" not in k]) == 12
    assert [k for k in keys if "Q" in k] == ["2026-Q3", "2026-Q2", "2026-Q1", "2025-Q4"]  # Q4 2026 is not complete
    assert ("October 2026", "2026-10") in options


def test_executive_app_refuses_a_value_it_does_not_offer(tiny_warehouse):
    app = executive.ExecutiveApp(tiny_warehouse)
    app.select("segment", "sector; DROP TABLE clients")
    assert "not one of the choices for segment" in app.message.value
    assert app.pickers["segment"].value == "all" and app.renders == 0
    app.select("segment", "sector:municipality")
    assert app.renders == 1 and app.message.value == ""


def test_a_crafted_widget_message_is_refused_visibly(tiny_warehouse):
    """ipywidgets applies a browser's widget message with set_state: an index out of range is refused in the app."""
    app = executive.ExecutiveApp(tiny_warehouse)
    before = app.pickers["period"].value
    app.pickers["period"].set_state({"index": 999})
    assert app.pickers["period"].value == before
    assert "not one of its choices" in app.message.value and app.renders == 0


def test_segment_restriction_keeps_only_that_segments_clients(tiny_warehouse):
    from quire.reports.executive_data import load

    data = load("latest", tiny_warehouse)
    part = executive.restrict(data, "sector:municipality")
    ids = set(part.clients["client_id"])
    assert ids and set(part.clients["sector"]) == {"municipality"}
    for frame in (part.movements, part.projects, part.surveys, part.usage, part.tickets):
        assert set(frame["client_id"]) <= ids


def test_client_app_offers_a_picker_internally(tiny_warehouse):
    app = client.ClientApp(tiny_warehouse)
    assert "client" in app.pickers and len(app.pickers["client"].options) > 1


def test_client_facing_mode_pins_the_client_and_refuses_any_other(tiny_warehouse, monkeypatch):
    monkeypatch.setenv(base.TENANT_ENV, "quantalane-health")
    app = client.ClientApp(tiny_warehouse, pinned=base.pinned_client())
    assert "client" not in app.pickers  # no picker is shown
    assert app.values()["client"] == "quantalane-health"
    app.select("client", "riverton-realty")
    assert "fixed for this app" in app.message.value and app.renders == 0
    assert app.values()["client"] == "quantalane-health"


def test_the_client_app_offers_and_shows_only_periods_of_the_clients_subscription(tiny_warehouse, monkeypatch):
    """A period before a client signed up was shown as a report of zeros ("No activity"); `quire run` refuses it."""
    import pandas as pd

    from quire.periods import parse_period
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(tiny_warehouse) as conn:
        clients = queries.clients(conn)
    active = clients[clients["status"] == "active"]
    late = active.loc[pd.to_datetime(active["signup_date"]).idxmax()]  # the newest client: signed up last
    internal = client.ClientApp(tiny_warehouse)
    offered = [key for _, key in internal.pickers["period"].options]
    before = [k for k in offered if parse_period(k).end < pd.Timestamp(late["signup_date"]).date()]
    assert before, "the sample's newest client signed up after the data's first offered period"
    monkeypatch.setenv(base.TENANT_ENV, late["slug"])
    own = client.ClientApp(tiny_warehouse, pinned=base.pinned_client())
    kept = [key for _, key in own.pickers["period"].options]
    assert kept and not set(kept) & set(before) and set(kept) <= set(offered)
    # The internal app, which offers every period, says why it shows nothing for one before the subscription.
    internal.select("client", late["slug"])
    internal.select("period", before[0])
    # In the picker's words: the client's name and "October 2026", not its slug and 2026-10.
    label = parse_period(before[0]).label
    assert f"{late['name']} had no subscription in {label} (subscribed " in internal.output.value
    # Announced by a screen reader: the report it was reading has gone.
    assert '<div class="q-callout q-warning" role="alert"><strong>Nothing to show.</strong>' in internal.output.value
    assert late["slug"] not in internal.output.value and "Views" not in internal.output.value


def test_a_client_without_a_name_is_not_offered_and_its_own_app_says_why(tiny_warehouse, tmp_path):
    # It was offered as "nan" and its report said "Prepared for nan" (a clients view may have no NOT NULL).
    from quire.errors import WarehouseDataError
    from support import rebuild_table, warehouse_copy

    path = tmp_path / "nameless.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        rebuild_table(con, "clients")
        con.execute("update clients set name = null where slug = 'vectorwave-systems'")
    url = f"duckdb:///{path}"
    offered = [slug for _, slug in client.ClientApp(url).pickers["client"].options]
    assert "vectorwave-systems" not in offered and "riverton-realty" in offered
    with pytest.raises(WarehouseDataError, match="^client 'vectorwave-systems' has no name in the clients table"):
        client.ClientApp(url, pinned="vectorwave-systems")


def test_client_facing_mode_with_an_unknown_client_fails_without_listing_others(tiny_warehouse):
    with pytest.raises(AppInputError) as err:
        client.ClientApp(tiny_warehouse, pinned="nobody")
    assert "riverton" not in str(err.value)


@pytest.mark.parametrize("path", ["../x/2026-11-02/r/report.html", "executive/2026-11-02/r/run.json",
                                  "executive/2026-11-02/r/report.ipynb", ".quire/warehouse.duckdb",
                                  "executive/2026-11-02/../report.html", "executive/2026-11-02/r/report.html/x",
                                  "executive/2026-11-02/r/report.html\n", "executive/2026-11-02/r/report.pdf\r\n"])
def test_archive_paths_other_than_a_runs_report_do_not_match(path):
    assert ARCHIVE_FILE.match(path) is None and ARCHIVE_FILE.fullmatch(path) is None


def test_archive_resolution_checks_the_run_record_and_the_tenant(tmp_path):
    import json

    folder = tmp_path / "client" / "2026-11-02" / "run-a"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<p>a</p>")
    (folder / "run.json").write_text(json.dumps({"report": "client", "client": "a", "status": "succeeded"}))
    path = "client/2026-11-02/run-a/report.html"
    assert read_archive_file(tmp_path, path, {"client"}, None) == ("report.html", b"<p>a</p>")
    assert read_archive_file(tmp_path, path, {"client"}, "a") is not None
    assert read_archive_file(tmp_path, path, {"client"}, "b") is None      # another tenant's run
    assert read_archive_file(tmp_path, path, {"executive"}, None) is None  # a report this server does not serve
    (folder / "run.json").write_text(json.dumps({"report": "client", "client": "a", "status": "failed"}))
    assert read_archive_file(tmp_path, path, {"client"}, None) is None


def test_an_app_is_displayed_with_its_snapshot_marked_for_the_page(tiny_warehouse):
    """What IPython sends for the app: the widget, and its current state as static HTML the Voilà template serves."""
    from IPython.core.formatters import DisplayFormatter

    app = executive.ExecutiveApp(tiny_warehouse).show()
    data, metadata = DisplayFormatter().format(app)
    assert "application/vnd.jupyter.widget-view+json" in data
    assert metadata["text/html"] == {base.SNAPSHOT_MARK: True}
    snapshot = data["text/html"]
    assert app.output.value in snapshot and 'class="q-chart"' in snapshot
    assert "<option selected>All clients</option>" in snapshot and "<select disabled>" in snapshot
    # Class names of the live widgets are not reused: the page's selectors find the live app only.
    assert "q-app-output" not in snapshot.replace("q-app-snapshot-output", "")
    app.select("segment", "sector:municipality")
    assert "<option selected>Sector: municipality</option>" in DisplayFormatter().format(app)[0]["text/html"]


def test_on_a_warehouse_with_one_reports_data_the_other_apps_say_why_they_cannot_open(tmp_path):
    """An imported order log holds the cohort report's data only: that app opens, the others show a message."""
    from quire.apps import cohort, experiment
    from quire.dataio import import_files, load_mapping
    from quire.display import Callout
    from support.order_log import ORDERS_MAPPING, orders_csv

    orders_csv(tmp_path)
    (tmp_path / "mapping.yaml").write_text(ORDERS_MAPPING)
    url = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    import_files(load_mapping(tmp_path / "mapping.yaml"), url)
    assert isinstance(cohort.app(url), cohort.CohortApp)
    reasons = {"client": "no table engagement_daily", "executive": "no table mrr_movements",
               "experiment": "holds no experiments"}
    for module in (client, executive, experiment):
        shown = module.app(url)
        name = module.__name__.rsplit(".", 1)[1]
        assert isinstance(shown, Callout) and reasons[name] in shown.message and shown.message[0].isupper(), (name, shown)
        assert shown.title == "This app cannot open on this warehouse." and "quire warehouse check" in shown.message


def test_the_executive_app_opens_on_accounts_without_segments(tiny_warehouse, tmp_path):
    """Accounts made from a billing export have no sector or plan: the app offers 'All clients' only and renders."""
    from IPython.core.formatters import DisplayFormatter

    from support import warehouse_copy

    path = tmp_path / "wh.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("update clients set sector = null, plan = null, region = null, contact_email = null")
    shown = executive.app(f"duckdb:///{path}")
    assert isinstance(shown, executive.ExecutiveApp)
    assert shown.pickers["segment"].options == (("All clients", "all"),)
    assert "MRR" in DisplayFormatter().format(shown)[0]["text/html"]


def test_the_executive_app_draws_in_the_house_style_as_the_report_does(tiny_warehouse):
    # Its charts came out in matplotlib's blue and orange with boxed axes: the app built the report from a
    # segment's data without the report's build, which sets the brand's theme.
    import matplotlib as mpl

    from quire.brand import load_brand

    mpl.rcdefaults()
    app = executive.ExecutiveApp(tiny_warehouse)
    app.sections({"period": app.pickers["period"].value, "segment": "all"})
    kit = load_brand("quire")
    assert mpl.colors.same_color(mpl.rcParams["text.color"], kit.colors.text)  # matplotlib's is black
    assert not mpl.rcParams["axes.spines.top"]  # no boxed axes


def test_the_landing_page_tells_runs_of_one_report_apart(tmp_path):
    # Two cohort runs of November 2026 (monthly, and weekly for activated users) both read "November 2026", and
    # experiment runs gave a date range but no experiment.
    from quire.serve.archive import collect_runs, run_details

    defaults = {"period": "latest", "granularity": "month", "cohorts": 12, "behaviour": "all", "brand": "quire"}
    weekly = {"title": "Cohort report", "parameters": {**defaults, "period": "2026-11", "granularity": "week",
                                                         "behaviour": "activated", "brand": "harbor"}}
    assert run_details(weekly, defaults) == "granularity week, behaviour activated"
    assert run_details({"title": "Cohort report", "parameters": {**defaults, "period": "2026-11"}}, defaults) == ""
    experiment = {"title": "Experiment report: Semantic search ranking",
                  "parameters": {"experiment": "search-ranking", "level": 0.9}}
    assert run_details(experiment, {"experiment": "latest", "level": 0.95}) == "Semantic search ranking, level 0.9"
    # A run of other data (before an import replaced the warehouse) says so, without the address.
    imported = {**weekly, "warehouse": "postgresql+psycopg://quire:***@db.internal/shop"}
    assert run_details(imported, defaults, "duckdb:////srv/quire/warehouse.duckdb") == \
        "granularity week, behaviour activated, another warehouse"
    assert run_details(imported, defaults, imported["warehouse"]) == "granularity week, behaviour activated"
    assert run_details(weekly, defaults, "duckdb:////srv/quire/warehouse.duckdb") == run_details(weekly, defaults)
    assert collect_runs(tmp_path, {"cohort": "Cohort report"}, None, {"cohort": defaults}) == [
        {"id": "cohort", "title": "Cohort report", "runs": []}]


def test_the_landing_page_lists_every_period_in_its_own_language():
    # A French client's run read "novembre 2026" under an English one's "November 2026" in the same column.
    from quire.serve.archive import page_period

    assert page_period({"parameters": {"period": "2026-11"}, "period": "novembre 2026"}) == "November 2026"
    assert page_period({"parameters": {"period": "2026-Q3"}, "period": "T3 2026"}) == "Q3 2026"
    # A run without a period key keeps its record's words (an experiment's dates).
    since = "Since 1 March 2026 (still running)"
    assert page_period({"parameters": {"experiment": "search-ranking"}, "period": since}) == since
