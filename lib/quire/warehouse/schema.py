"""The warehouse schema: the business data Quire's reports analyse.

One SQLAlchemy Core ``MetaData`` that DuckDB (the embedded default) and PostgreSQL
(production) both accept. Integer keys are supplied by the loader, never
auto-generated, because duckdb-engine cannot emit ``SERIAL``. Money columns are
``Numeric`` read back as ``float`` so pandas sees numbers, not ``Decimal`` objects.

Conventions: dates are ``Date``, instants are ``DateTime`` in UTC without zone,
months are stored as the first day of the month.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

MONEY = sa.Numeric(14, 2, asdecimal=False)
#: How far one amount may be off by its rounding to cents: amounts that add up to 0 exactly (an annual plan's
#: 2990/12 a month, upgraded and then churned) add up to a few cents either side once each is stored in cents
#: (33.333 + 33.333 + 33.334 - 100 is -0.01; 249.1667 + 166.6667 - 415.8333 is +0.01).
ROUNDING_PER_ROW = 0.005
# Measures that are not money are DOUBLE, not FLOAT: DuckDB's FLOAT is 4 bytes (4.03 reads 4.0300002, and
# amounts near 100,000 lose their cents), PostgreSQL's is 8.
SECTORS = ("municipality", "business", "startup", "nonprofit")
PLANS = ("starter", "growth", "enterprise")
MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")
#: The sign of each movement's amount: new, expansion and reactivation add MRR, contraction and churn take it away.
MOVEMENT_SIGNS = {"new": 1, "expansion": 1, "reactivation": 1, "contraction": -1, "churn": -1}
PLATFORMS = ("web", "linkedin", "instagram", "facebook", "newsletter")
CONTENT_TYPES = ("article", "video", "social_post", "newsletter", "landing_page")
EVENT_TYPES = ("signup", "activation", "session_start", "feature_use", "purchase")
CHANNELS = ("organic", "paid", "referral", "partner")
PRIORITIES = ("low", "normal", "high", "urgent")
SURVEYS = ("nps", "csat")
#: The scale of each survey's answers (survey_responses.score): NPS 0–10, CSAT 1–5.
SURVEY_SCALES = {"nps": (0, 10), "csat": (1, 5)}
CLIENT_STATUSES = ("active", "churned")
PRIMARY_METRICS = ("conversion", "revenue")
METRIC_UNITS = ("currency", "number")  # how experiments.metric_unit writes the continuous metric


#: ``info`` of the columns of free text people type (names, titles, comments): what the reports read from them loses
#: the direction controls that could turn the report's own text around (:func:`quire.warehouse.queries._read`).
FREE_TEXT = {"free_text": True}


def _id(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, primary_key=True, autoincrement=False)


def _fk(name: str, target: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer, sa.ForeignKey(target), nullable=nullable, index=True)


organizations = sa.Table(
    "organizations", metadata,
    _id("org_id"),
    sa.Column("name", sa.String(200), nullable=False, info=FREE_TEXT),
    sa.Column("brand", sa.String(64), nullable=False, comment="brand kit the agency's white-label reports use"),
)

clients = sa.Table(
    "clients", metadata,
    _id("client_id"),
    _fk("org_id", "organizations.org_id"),
    sa.Column("name", sa.String(200), nullable=False, info=FREE_TEXT),
    sa.Column("slug", sa.String(80), nullable=False, unique=True),
    # Segments for the fan-out filters and the address the scheduler mails a client's report to: optional
    # (a customer list exported from billing has neither), so a client without them is simply not matched
    # by a filter on them, nor mailed.
    sa.Column("sector", sa.String(20), nullable=True),
    sa.Column("plan", sa.String(20), nullable=True),
    sa.Column("region", sa.String(40), nullable=True),
    sa.Column("signup_date", sa.Date, nullable=False),
    sa.Column("contact_email", sa.String(200), nullable=True),
    sa.Column("brand", sa.String(64), nullable=True, comment="overrides the organization's brand when set"),
    sa.Column("status", sa.String(20), nullable=False, comment=" | ".join(CLIENT_STATUSES)),
    sa.Column("churned_on", sa.Date, nullable=True),
    # Optional: how the client's own reports write figures, overriding its brand kit's. Nullable, and
    # read only when present, so warehouses without the columns keep working.
    sa.Column("locale", sa.String(35), nullable=True, comment="e.g. de-DE; overrides the brand's locale when set"),
    sa.Column("currency", sa.String(3), nullable=True, comment="ISO 4217, e.g. EUR; overrides the brand's currency when set"),
)

# The revenue ledger: every change of a client's monthly recurring revenue, dated to
# the month it takes effect. A client's MRR at the end of month M is the sum of its
# movements with month <= M, so the MRR bridge closes exactly by construction.
mrr_movements = sa.Table(
    "mrr_movements", metadata,
    _id("movement_id"),
    _fk("client_id", "clients.client_id"),
    sa.Column("month", sa.Date, nullable=False, index=True),
    sa.Column("movement", sa.String(20), nullable=False, comment="|".join(MOVEMENTS)),
    sa.Column("amount", MONEY, nullable=False, comment="signed change of MRR: churn and contraction are negative"),
)

subscriptions = sa.Table(
    "subscriptions", metadata,
    _id("subscription_id"),
    _fk("client_id", "clients.client_id"),
    sa.Column("plan", sa.String(20), nullable=False),
    sa.Column("started_on", sa.Date, nullable=False),
    sa.Column("ended_on", sa.Date, nullable=True),
)

invoices = sa.Table(
    "invoices", metadata,
    _id("invoice_id"),
    _fk("client_id", "clients.client_id"),
    sa.Column("issued_on", sa.Date, nullable=False, index=True),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("paid_on", sa.Date, nullable=True),
)

projects = sa.Table(
    "projects", metadata,
    _id("project_id"),
    _fk("client_id", "clients.client_id"),
    sa.Column("name", sa.String(200), nullable=False, info=FREE_TEXT),
    sa.Column("started_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("delivered_on", sa.Date, nullable=True, comment="null while in progress"),
    sa.Column("estimated_hours", sa.Double, nullable=False),
    sa.Column("actual_hours", sa.Double, nullable=True),
    sa.Column("revision_rounds", sa.Integer, nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
    sa.Column("cost", MONEY, nullable=False),
)

content = sa.Table(
    "content", metadata,
    _id("content_id"),
    _fk("client_id", "clients.client_id"),
    sa.Column("title", sa.String(300), nullable=False, info=FREE_TEXT),
    sa.Column("content_type", sa.String(20), nullable=False),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("published_on", sa.Date, nullable=False),
)

engagement_daily = sa.Table(
    "engagement_daily", metadata,
    _fk("content_id", "content.content_id"),
    _fk("client_id", "clients.client_id"),
    sa.Column("day", sa.Date, nullable=False, index=True),
    sa.Column("views", sa.Integer, nullable=False),
    sa.Column("clicks", sa.Integer, nullable=False),
    sa.Column("conversions", sa.Integer, nullable=False),
    sa.Column("engagements", sa.Integer, nullable=False, comment="likes, shares, comments, replies"),
    sa.PrimaryKeyConstraint("content_id", "day"),
)

product_usage = sa.Table(
    "product_usage", metadata,
    _fk("client_id", "clients.client_id"),
    sa.Column("week", sa.Date, nullable=False, comment="Monday of the ISO week"),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("active_users", sa.Integer, nullable=False),
    sa.Column("logins", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("client_id", "week"),
)

support_tickets = sa.Table(
    "support_tickets", metadata,
    _id("ticket_id"),
    _fk("client_id", "clients.client_id"),
    sa.Column("opened_at", sa.DateTime, nullable=False, index=True),
    sa.Column("closed_at", sa.DateTime, nullable=True),
    sa.Column("priority", sa.String(10), nullable=False, comment=" | ".join(PRIORITIES)),
    sa.Column("category", sa.String(40), nullable=False),
)

survey_responses = sa.Table(
    "survey_responses", metadata,
    _id("response_id"),
    _fk("client_id", "clients.client_id"),
    sa.Column("responded_on", sa.Date, nullable=False, index=True),
    sa.Column("survey", sa.String(10), nullable=False, comment="nps (0-10) | csat (1-5)"),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("comment", sa.Text, nullable=True, info=FREE_TEXT),
)

users = sa.Table(
    "users", metadata,
    _id("user_id"),
    # A product without clients (one company's own users) leaves the link empty.
    _fk("client_id", "clients.client_id", nullable=True),
    sa.Column("signed_up_at", sa.DateTime, nullable=False, index=True),
    # How and where a user came: no report reads them, so a dataset that does not record them leaves them empty.
    sa.Column("channel", sa.String(20), nullable=True, comment=" | ".join(CHANNELS)),
    sa.Column("country", sa.String(2), nullable=True),
)

sessions = sa.Table(
    "sessions", metadata,
    _id("session_id"),
    _fk("user_id", "users.user_id"),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("duration_s", sa.Integer, nullable=False),
)

events = sa.Table(
    "events", metadata,
    _id("event_id"),
    _fk("user_id", "users.user_id"),
    sa.Column("event_type", sa.String(20), nullable=False),
    sa.Column("occurred_at", sa.DateTime, nullable=False, index=True),
    sa.Column("revenue", MONEY, nullable=True, comment="set on purchase events"),
)

experiments = sa.Table(
    "experiments", metadata,
    _id("experiment_id"),
    sa.Column("key", sa.String(80), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False, info=FREE_TEXT),
    sa.Column("hypothesis", sa.Text, nullable=False, info=FREE_TEXT),
    sa.Column("primary_metric", sa.String(40), nullable=False, comment=" | ".join(PRIMARY_METRICS)),
    sa.Column("started_on", sa.Date, nullable=False),
    sa.Column("ended_on", sa.Date, nullable=True),
    sa.Column("metric_name", sa.String(24), nullable=True, info=FREE_TEXT,
              comment="what experiment_assignments.revenue measures, e.g. game rounds; revenue when empty"),
    sa.Column("metric_unit", sa.String(10), nullable=True, comment=" | ".join(METRIC_UNITS) + "; currency when empty"),
)
#: Optional columns of ``experiments``: what the assignments' continuous metric is (quire.metrics.experiment_measure).
EXPERIMENT_MEASURE = ("metric_name", "metric_unit")

experiment_variants = sa.Table(
    "experiment_variants", metadata,
    _fk("experiment_id", "experiments.experiment_id"),
    sa.Column("variant", sa.String(40), nullable=False),
    sa.Column("is_control", sa.Boolean, nullable=False),
    sa.Column("allocation", sa.Double, nullable=False, comment="planned share of traffic (0: an arm switched off); the shares of an experiment add up to 1"),
    sa.PrimaryKeyConstraint("experiment_id", "variant"),
)

experiment_assignments = sa.Table(
    "experiment_assignments", metadata,
    _fk("experiment_id", "experiments.experiment_id"),
    _fk("user_id", "users.user_id"),
    sa.Column("variant", sa.String(40), nullable=False),
    sa.Column("assigned_at", sa.DateTime, nullable=False),
    sa.Column("converted", sa.Boolean, nullable=False),
    sa.Column("revenue", sa.Double, nullable=False, comment="the continuous metric during the experiment"),
    # Optional (public A/B files have no pre-period): without it for every user there is no CUPED.
    sa.Column("pre_revenue", sa.Double, nullable=True, comment="same metric in the pre-period (CUPED covariate)"),
    sa.PrimaryKeyConstraint("experiment_id", "user_id"),
)

#: Tables in dependency order (parents first), for loading and truncating.
TABLES: tuple[sa.Table, ...] = tuple(metadata.sorted_tables)
