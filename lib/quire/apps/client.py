"""Client app: one client's performance for a chosen period.

Internal use offers every active client in a picker. In client-facing mode
(``quire serve --client SLUG``, which sets :data:`~quire.apps.base.TENANT_ENV` for every
kernel) the client is fixed by the server: no picker is shown and any other client is
refused, so a client's stakeholders can never reach another client's data.
"""

from __future__ import annotations

from collections.abc import Mapping

from quire.apps.base import App, AppInputError, opened, period_options, pinned_client
from quire.config import get_settings
from quire.display import Callout
from quire.errors import EmptyDataError
from quire.formatting import long_date
from quire.periods import parse_period
from quire.pipeline import subscribed_in, subscription_spans
from quire.reports import client as client_report
from quire.reports.prose import join_words
from quire.warehouse import coverage, queries
from quire.warehouse.engine import connection


class ClientApp(App):
    title = "Client performance"

    def __init__(self, url: str | None = None, pinned: str | None = None) -> None:
        url = url or get_settings().warehouse
        with connection(url) as conn:
            first, last = coverage.report_range("client", conn)
            periods = period_options(first, last)
            if pinned is not None:
                row = queries.client_by_slug(conn, pinned)
                if row is None:
                    # The slug is the server's own setting; say so without listing other clients.
                    raise AppInputError(f"this server is pinned to client {pinned!r}, which is not in the warehouse")
                queries.require_name(row)
                # A client's own app offers the periods of its subscriptions, as `quire run` accepts them.
                spans = subscription_spans(conn, row)
                periods = [(label, key) for label, key in periods if subscribed_in(spans, parse_period(key))]
                if not periods:
                    raise AppInputError(f"client {pinned!r} had no subscription in the months the data covers")
                clients = None
            else:
                clients = queries.clients(conn)
        choices = {"period": ("Period", periods, periods[0][1])}
        if clients is not None:
            active = queries.offered_clients(clients)  # the fan-outs say which they leave out
            options = list(zip(active["name"], active["slug"], strict=True))
            choices = {"client": ("Client", options, options[0][1]), **choices}
        super().__init__(choices, fixed={"client": pinned} if pinned else None, url=url)

    def sections(self, values: Mapping[str, str]):
        # A period before the client's subscription (or after its churn) is refused as `quire run` refuses it,
        # not shown as a report of zeros.
        period = parse_period(values["period"])
        with connection(self.url) as conn:
            row = queries.client_by_slug(conn, values["client"])
            spans = subscription_spans(conn, row)
        if not subscribed_in(spans, period):
            # In the picker's words (a name, "October 2026"): the CLI's message speaks of slugs and -p period=.
            held = join_words([f"{long_date(start)} to {long_date(end) if end else 'now'}" for start, end in spans])
            raise EmptyDataError(f"{row['name']} had no subscription in {period.label} (subscribed {held}); choose "
                                 "another period")
        report = client_report.build(client=values["client"], period=values["period"], url=self.url)
        return [report.header(), report.headline(), report.engagement(), report.channels()]


def app(url: str | None = None) -> ClientApp | Callout:
    """The client app: pinned to the server's client in client-facing mode, else with a client picker."""
    return opened(lambda: ClientApp(url, pinned=pinned_client()))
