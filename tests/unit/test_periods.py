from datetime import date

import pandas as pd
import pytest

from quire.errors import ParameterError
from quire.periods import Period, add_months, parse_period, resolve_period


@pytest.mark.parametrize("text,start,kind,end", [
    ("2026-10", date(2026, 10, 1), "month", date(2026, 10, 31)),
    ("2024-02", date(2024, 2, 1), "month", date(2024, 2, 29)),
    ("2026-Q3", date(2026, 7, 1), "quarter", date(2026, 9, 30)),
    ("2025-q1", date(2025, 1, 1), "quarter", date(2025, 3, 31)),
    ("2025", date(2025, 1, 1), "year", date(2025, 12, 31)),
])
def test_parse(text, start, kind, end):
    p = parse_period(text)
    assert (p.start, p.kind, p.end) == (start, kind, end)
    assert parse_period(p.key) == p


@pytest.mark.parametrize("bad", ["banana", "2026-13", "2026-00", "2026-Q5", "26-10", "2026/10", "",
                                 "\uff12\uff10\uff12\uff16-10", "\u0662\u0660\u0662\u0666"])  # fullwidth, Arabic-Indic digits
def test_malformed_period_names_parameter_and_format(bad):
    with pytest.raises(ParameterError) as info:
        parse_period(bad)
    assert "parameter 'period'" in str(info.value) and "YYYY-MM" in str(info.value)


@pytest.mark.parametrize("far", ["9999-12", "9999-Q4", "9999", "0001-01", "1899", "0000", "0000-01", "0000-Q1"])
def test_a_period_outside_the_plausible_years_is_a_parameter_error(far):
    # The year 9999's next month does not exist: it failed as a raw ValueError in the API and the CLI.
    with pytest.raises(ParameterError, match=f"'{far}' is outside the years 1900–2099"):
        resolve_period(far, first_month=date(2025, 1, 1), last_month=date(2026, 10, 1))


def test_previous_and_months():
    q = parse_period("2026-Q1")
    assert q.previous() == Period(date(2025, 10, 1), "quarter")
    assert q.months == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert parse_period("2026-01").previous().key == "2025-12"
    assert add_months(date(2026, 11, 1), 14) == date(2028, 1, 1)


def test_resolve_latest_and_bounds():
    first, last = date(2024, 1, 1), date(2026, 10, 1)
    assert resolve_period("latest", first_month=first, last_month=last).key == "2026-10"
    stale = date(2025, 10, 1)
    with pytest.raises(ParameterError, match="2025-12 is after the data ends"):
        resolve_period("2025-12", first_month=first, last_month=stale)
    with pytest.raises(ParameterError, match="2025-11 is not complete in the data yet"):  # it may hold a few days
        resolve_period("2025-11", first_month=first, last_month=stale)
    with pytest.raises(ParameterError, match="2026-Q4 is not complete"):  # yet, or in the data
        resolve_period("2026-Q4", first_month=first, last_month=last)
    with pytest.raises(ParameterError, match=r"before the data starts \(data covers .*\); pick a later period or .latest.$"):
        resolve_period("2023-12", first_month=first, last_month=last)
    # A period the data covers only in part is refused as such, with the first whole one of its kind
    # (not "starts in 2024-03 or later": no quarter starts in March).
    later = date(2024, 3, 1)
    with pytest.raises(ParameterError, match=r"^parameter 'period': 2024 begins before the data does \(data covers "
                                             r"2024-03 to 2026-10\); the first whole year in the data is 2025$"):
        resolve_period("2024", first_month=later, last_month=last)
    with pytest.raises(ParameterError, match="2024-Q1 begins before the data does .*; the first whole quarter in the "
                                             "data is 2024-Q2$"):
        resolve_period("2024-Q1", first_month=later, last_month=last)
    with pytest.raises(ParameterError, match="no whole year is in the data yet$"):
        resolve_period("2024", first_month=later, last_month=date(2025, 6, 1))
    assert resolve_period("2024-Q2", first_month=later, last_month=last).key == "2024-Q2"
    assert resolve_period("2024-03", first_month=later, last_month=last).key == "2024-03"


def test_a_churned_clients_advice_keeps_within_the_months_the_data_covers(tiny_warehouse):
    from quire.pipeline import ClientNotSubscribedError, check_subscribed
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(tiny_warehouse) as conn:
        clients = queries.clients(conn)
        churned = clients[clients["status"] == "churned"].iloc[0]
        gone = pd.Timestamp(churned["churned_on"])
        after = parse_period(f"{gone + pd.DateOffset(months=1):%Y-%m}")
        # Data that starts the month the client churned: no month before it can be advised.
        with pytest.raises(ClientNotSubscribedError, match=rf"choose a period from {gone:%Y-%m} to {gone:%Y-%m}, e\.g\."):
            check_subscribed(conn, churned, after, data=(gone.date().replace(day=1), after.start))
        later = (after.start, after.start)
        with pytest.raises(ClientNotSubscribedError, match=r"; the data holds no month of that subscription$"):
            check_subscribed(conn, churned, after, data=later)


def test_a_client_of_a_month_not_complete_yet_is_told_when_its_first_report_can_run(tiny_warehouse):
    # "choose a period from 2026-12 on" sent the reader to a period then refused as "not complete yet".
    from quire.pipeline import ClientNotSubscribedError, check_subscribed
    from quire.warehouse import queries
    from quire.warehouse.engine import connection

    with connection(tiny_warehouse) as conn:
        client = queries.clients(conn).iloc[0].copy()
        client["client_id"] = -1  # no subscription rows: subscribed from its signup
        client["signup_date"], client["churned_on"] = pd.Timestamp("2026-11-03"), None
        data = (date(2025, 9, 1), date(2026, 10, 1))
        with pytest.raises(ClientNotSubscribedError, match=r"\(subscribed since 2026-11-03\); its first month, "
                           r"2026-11, is not complete in the data yet \(the latest complete month is 2026-10\); its "
                           r"first report can run once it is$"):
            check_subscribed(conn, client, parse_period("2026-10"), data=data)
        # Data that covers its first month: that month is the advice.
        with pytest.raises(ClientNotSubscribedError, match=r"; choose a period from 2026-11 on$"):
            check_subscribed(conn, client, parse_period("2026-10"), data=(data[0], date(2026, 11, 1)))


@pytest.mark.parametrize("text,why", [("2099-01", "is in the future"), (f"{date.today():%Y-%m}", "is not complete yet"),
                                      (f"{date.today().year}", "is not complete yet"),
                                      ("2026-04", "is after the data ends"),
                                      ("2026-03", "is not complete in the data yet"),
                                      ("2026-Q1", "is not complete in the data yet")])
def test_a_period_past_the_data_says_whether_it_is_running_or_the_data_stops_short(text, why):
    with pytest.raises(ParameterError, match=rf"^parameter 'period': {text} {why} \(data covers 2025-02 to 2026-02\); "):
        resolve_period(text, first_month=date(2025, 2, 1), last_month=date(2026, 2, 1))
    # Where the report's months come from explains a month the data lacks, not one that has not ended
    # (it made "2027-03 is not complete yet" a line of nested parentheses about the ledger).
    with pytest.raises(ParameterError) as info:
        resolve_period(text, first_month=date(2025, 2, 1), last_month=date(2026, 2, 1), months_from="the ledger's")
    assert ("the ledger's" in info.value.message) == why.startswith(("is after", "is not complete in")), info.value
