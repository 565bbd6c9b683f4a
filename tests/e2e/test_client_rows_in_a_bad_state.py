"""One client's rows in a state the warehouse's constraints would refuse (a table or view without them).

An active client without a slug cannot be run: runs, their folders and their e-mails are named by it. It
broke every fan-out before any run started (sorting the slugs met a NULL) and every mistyped ``-p client=``
(the did-you-mean met it too), each with a bare traceback. A subscription without a start did the same to
that client's runs and to every fan-out (comparing its start with the period's).
"""

from __future__ import annotations

import re

import pytest

from quire.pipeline import fan_out_clients
from support import rebuild_table, run_quire, warehouse_copy


@pytest.fixture
def nameless(quire_env, tiny_warehouse, tmp_path) -> dict[str, str]:
    path = tmp_path / "nameless.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        rebuild_table(con, "clients")  # without its NOT NULL, as a view may be
        con.execute("update clients set slug = null where slug = 'stoneton-logistics'")
        con.execute("update clients set name = null where slug = 'vectorwave-systems'")
        con.execute("update clients set status = 'Active' where slug = 'riverhaven-food-bank'")
        con.execute("update clients set sector = ' Municipality' where slug = 'town-of-fairdale'")
    return {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{path}"}


def test_a_fan_out_leaves_a_client_without_a_slug_out_and_says_so(nameless, settings_for):
    notes: list[str] = []
    assert fan_out_clients({"sector": "business"}, settings_for(nameless), notes) == ["riverton-realty"]
    assert notes == ["client_id 6: left out, the clients table gives no slug, which runs and their files are named "
                     "by; give each client one"]

    run = run_quire(nameless, "run", "client", "--clients", "sector=business", "-p", "period=2026-10")
    # Left out, as a client whose slug is no key is skipped: the others run, and the exit status says one was not.
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "– client_id 6: left out, the clients table gives no slug" in run.stderr
    assert "✓ client · riverton-realty · 2026-10" in run.stdout


def test_a_fan_out_says_which_clients_a_status_it_does_not_know_leaves_out(nameless, settings_for):
    # 'Active' is no status the reports know: the client silently got no report, and the fan-out said it all ran.
    notes: list[str] = []
    slugs = fan_out_clients({}, settings_for(nameless), notes)
    assert "riverhaven-food-bank" not in slugs and "riverton-realty" in slugs
    assert notes[1] == ("riverhaven-food-bank ('Active'): left out, a status other than active or churned in the "
                        "clients table; correct it")
    notes = []
    fan_out_clients({"sector": "business"}, settings_for(nameless), notes)
    assert not any("riverhaven" in note for note in notes)  # only the clients the filters select are spoken of


def test_a_segment_written_in_another_case_is_still_the_segment_the_filter_names(nameless, settings_for):
    # ' Municipality' was left out of `--clients sector=municipality` without a word.
    assert fan_out_clients({"sector": "municipality"}, settings_for(nameless)) == ["town-of-fairdale",
                                                                                   "village-of-summerbrook"]
    assert fan_out_clients({"sector": "Municipality"}, settings_for(nameless)) == ["town-of-fairdale",
                                                                                   "village-of-summerbrook"]


def test_a_client_without_a_name_is_refused_not_addressed_as_nan(nameless):
    # Its white-label report said "Prepared for nan" on the cover, in every footer and in the title.
    run = run_quire(nameless, "run", "client", "-p", "client=vectorwave-systems")
    assert run.returncode == 1 and run.stdout == "", run.stderr
    assert run.stderr.strip() == ("error: client 'vectorwave-systems' has no name in the clients table, which its "
                                  "report is addressed by; give it one")


def test_the_client_data_an_app_or_notebook_reads_refuses_a_client_without_a_name(nameless):
    # The refusal was in `quire run`'s parameter check alone: an app or a notebook opened with the client
    # chosen reads the data directly, and said "Prepared for nan".
    from quire.errors import WarehouseDataError
    from quire.reports import client_data

    with pytest.raises(WarehouseDataError, match="^client 'vectorwave-systems' has no name in the clients table"):
        client_data.load("vectorwave-systems", "2026-10", nameless["QUIRE_WAREHOUSE_URL"])
    assert client_data.load("riverton-realty", "2026-10", nameless["QUIRE_WAREHOUSE_URL"]).client["name"]


def test_a_mistyped_client_is_still_told_what_it_may_have_meant(nameless):
    run = run_quire(nameless, "run", "client", "-p", "client=riverton-reality")
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert "did you mean 'riverton-realty'?" in run.stderr


def test_a_fan_out_skips_a_client_whose_slug_is_no_key_and_runs_the_others(quire_env, tiny_warehouse, tmp_path):
    # One slug typed with capitals stopped the whole fan-out (exit 2, no client run), blaming a `client`
    # parameter nobody gave and suggesting the same slug back.
    path = tmp_path / "capital.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("update clients set slug = 'Stoneton-Logistics' where slug = 'stoneton-logistics'")
    env = {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{path}"}
    fan_out = run_quire(env, "run", "client", "--clients", "sector=business", "-p", "period=2026-10")
    assert fan_out.returncode == 1 and "Traceback" not in fan_out.stderr, fan_out.stderr
    assert ("– client · Stoneton-Logistics: skipped, client 6 in the clients table has the slug 'Stoneton-Logistics', "
            "which is not a key (lower-case letters, digits and dashes) that runs and their files can be named by; "
            "fix clients.slug in the warehouse (e.g. 'stoneton-logistics')") in fan_out.stderr
    assert "1 of the runs asked for was skipped (above)" in fan_out.stderr
    assert "parameter 'client'" not in fan_out.stderr
    assert "✓ client · riverton-realty · 2026-10" in fan_out.stdout  # the sector's other client still ran


@pytest.fixture
def odd_rows(quire_env, tiny_warehouse, tmp_path) -> dict[str, str]:
    path = tmp_path / "odd.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        con.execute("update clients set currency = 'EURO' where slug = 'stoneton-logistics'")
        con.execute("update clients set slug = 'riverton-realty ' where slug = 'riverton-realty'")
    return {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{path}"}


def test_a_client_whose_currency_or_slug_is_wrong_is_left_out_of_a_fan_out_and_refused_alone(odd_rows, settings_for):
    # One client's currency 'EURO' stopped the whole fan-out (no report for anyone), and the scheduler retried it as if
    # the database were away; a slug with a space around it was suggested back as its own correction.
    from quire.errors import WarehouseDataError
    from quire.pipeline import prepare_runs

    settings = settings_for(odd_rows)
    notes: list[str] = []
    slugs = fan_out_clients({}, settings, notes)
    assert "riverton-realty " not in slugs and "riverton-realty" not in slugs
    assert ("'riverton-realty ': left out, the clients table writes the slug with spaces around it, which runs and "
            "their files are named by; remove them") in notes
    jobs = [("client", {"client": slug, "period": "2026-10"}, True) for slug in slugs]
    plans, _, skipped = prepare_runs(jobs, settings)
    assert {p.params["client"] for p in plans} == set(slugs) - {"stoneton-logistics"}
    assert skipped == ["client · stoneton-logistics: skipped, client stoneton-logistics: its currency in the "
                       "warehouse's clients table: 'EURO' is not a currency code; write an ISO 4217 code such as USD, "
                       "EUR, GBP or CHF"]
    for client in ("stoneton-logistics", "riverton-realty"):
        with pytest.raises(WarehouseDataError) as raised:  # data to correct: never retried as a database away
            prepare_runs([("client", {"client": client, "period": "2026-10"}, False)], settings)
        assert not raised.value.transient
    assert "correct it to 'riverton-realty' in the warehouse" in str(raised.value)


@pytest.fixture
def bad_subscriptions(quire_env, tiny_warehouse, tmp_path) -> dict[str, str]:
    path = tmp_path / "subscriptions.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        rebuild_table(con, "subscriptions")
        con.execute("update subscriptions set started_on = null where client_id = 5")
        con.execute("update subscriptions set ended_on = started_on - interval 30 day where client_id = 6")
    return {**quire_env, "QUIRE_WAREHOUSE_URL": f"duckdb:///{path}"}


def test_a_subscription_without_a_start_or_ending_before_it_starts_is_named_and_skips_only_that_client(
        bad_subscriptions):
    one = run_quire(bad_subscriptions, "run", "client", "-p", "client=stoneton-logistics")
    assert one.returncode == 1 and "Traceback" not in one.stderr, one.stderr
    assert re.fullmatch(r"error: a subscription of client 'stoneton-logistics' in the subscriptions table ends \S+ "
                        r"before it starts \(\S+\), so the periods its reports may cover are unknown; correct that row",
                        one.stderr.strip()), one.stderr
    fan_out = run_quire(bad_subscriptions, "run", "client", "--clients", "sector=municipality", "-p", "period=2026-10")
    assert fan_out.returncode == 1 and "Traceback" not in fan_out.stderr, fan_out.stderr
    assert ("– client · village-of-summerbrook: skipped, a subscription of client 'village-of-summerbrook' in the "
            "subscriptions table has no start (started_on is empty)") in fan_out.stderr
    assert "1 of the runs asked for was skipped (above)" in fan_out.stderr
    assert "✓ client · town-of-fairdale · 2026-10" in fan_out.stdout  # the sector's other client still ran


def test_a_clients_engagement_loaded_twice_is_refused_not_doubled(tiny_warehouse, tmp_path):
    # The client's own report said "Views 29,574, up 23.5 %" for 14,787, down 38 %, with no other sign.
    from datetime import date

    from quire.errors import WarehouseDataError
    from quire.warehouse import client_queries
    from quire.warehouse.engine import connection

    path = tmp_path / "twice.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        rebuild_table(con, "engagement_daily")
        con.execute("insert into engagement_daily select * from engagement_daily where client_id = 2 "
                    "and day >= date '2026-10-20'")
        repeated = con.execute("select count(*) from engagement_daily where client_id = 2 "
                               "and day >= date '2026-10-20'").fetchone()[0] // 2
    with connection(f"duckdb:///{path}") as conn:
        with pytest.raises(WarehouseDataError, match=rf"the warehouse's engagement_daily holds {repeated:,} rows of "
                                                     r"client 2 that repeat a content_id and day already there \(the "
                                                     r"first on 2026-10-20\); each piece's day counts once"):
            client_queries.client_engagement(conn, 2, date(2026, 10, 1), date(2026, 10, 31))
        before = client_queries.client_engagement(conn, 2, date(2026, 9, 1), date(2026, 9, 30))  # other months run
        assert len(before) and not before.duplicated(["content_id", "day"]).any()


@pytest.mark.parametrize("value", ["null", "-5"])
def test_a_clients_engagement_count_that_is_empty_or_negative_is_refused_not_read_as_0(tiny_warehouse, tmp_path, value):
    # Half a month of empty views read as 0: the client's own report said "Views 7,529, down 68.6 %".
    from datetime import date

    from quire.errors import WarehouseDataError
    from quire.warehouse import client_queries
    from quire.warehouse.engine import connection

    path = tmp_path / "counts.duckdb"
    with warehouse_copy(tiny_warehouse, path) as con:
        rebuild_table(con, "engagement_daily")
        con.execute(f"update engagement_daily set clicks = {value} where client_id = 2 and day >= date '2026-10-15'")
        n = con.execute("select count(*) from engagement_daily where client_id = 2 and day >= date '2026-10-15' "
                        "and day <= date '2026-10-31'").fetchone()[0]
    with connection(f"duckdb:///{path}") as conn:
        with pytest.raises(WarehouseDataError, match=rf"engagement_daily holds {n:,} rows of client 2 whose clicks is "
                                                     r"empty or below 0 \(the first on 2026-10-15\)"):
            client_queries.client_engagement(conn, 2, date(2026, 10, 1), date(2026, 10, 31))
        assert len(client_queries.client_engagement(conn, 2, date(2026, 9, 1), date(2026, 9, 30)))
