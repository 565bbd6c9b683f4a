"""The four built-in reports' contracts, derived from the warehouse schema.

Each report names the tables it reads and, per table, the columns; everything else about
a column (SQL type, nullability, keys, foreign keys, comment) comes from
:mod:`quire.warehouse.schema`, and the allowed values from its constants. What this module
adds is what the schema cannot say: which report reads what, what is optional, what an
absent table costs a report, the bounds of numbers and the defaults the reports use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from quire.contract.model import ColumnContract, Coverage, ReportContract, TableContract
from quire.formatting.text import KEY_PATTERN
from quire.warehouse import schema

DEFAULT_BRAND = "quire"

#: Values the reports understand, per (table, column); anything else is outside the contract.
PATTERNS: dict[tuple[str, str], str] = {("clients", "slug"): KEY_PATTERN, ("experiments", "key"): KEY_PATTERN}
#: Columns whose values name a locale or a currency, read as the formatting reads them.
CONVENTIONS: dict[tuple[str, str], str] = {("clients", "locale"): "locale", ("clients", "currency"): "currency"}
ALLOWED: dict[tuple[str, str], tuple[str, ...]] = {
    ("clients", "sector"): schema.SECTORS,
    ("clients", "plan"): schema.PLANS,
    ("clients", "status"): schema.CLIENT_STATUSES,
    ("mrr_movements", "movement"): schema.MOVEMENTS,
    ("subscriptions", "plan"): schema.PLANS,
    ("content", "content_type"): schema.CONTENT_TYPES,
    ("content", "platform"): schema.PLATFORMS,
    ("support_tickets", "priority"): schema.PRIORITIES,
    ("survey_responses", "survey"): schema.SURVEYS,
    ("users", "channel"): schema.CHANNELS,
    ("events", "event_type"): schema.EVENT_TYPES,
    ("experiments", "primary_metric"): schema.PRIMARY_METRICS,
    ("experiments", "metric_unit"): schema.METRIC_UNITS,
}

_COUNTS = (0, None)
#: (minimum, maximum) of numbers, per (table, column); None: unbounded on that side.
BOUNDS: dict[tuple[str, str], tuple[float | None, float | None]] = {
    **{("engagement_daily", c): _COUNTS for c in ("views", "clicks", "conversions", "engagements")},
    **{("product_usage", c): _COUNTS for c in ("seats", "active_users", "logins")},
    **{("projects", c): _COUNTS for c in ("estimated_hours", "actual_hours", "revision_rounds", "revenue", "cost")},
    ("survey_responses", "score"): (0, 10),
    ("events", "revenue"): _COUNTS,
    ("experiment_variants", "allocation"): (0, 1),
    ("experiment_assignments", "revenue"): _COUNTS,
    ("experiment_assignments", "pre_revenue"): _COUNTS,
}


def _kind(column: sa.Column) -> str:
    t = column.type
    if isinstance(t, sa.Boolean):
        return "boolean"
    if isinstance(t, sa.DateTime):
        return "timestamp"
    if isinstance(t, sa.Date):
        return "date"
    if isinstance(t, sa.Integer):
        return "integer"
    if isinstance(t, sa.Numeric) and not isinstance(t, sa.Float):
        return "money"
    if isinstance(t, (sa.Float, sa.Numeric)):
        return "number"
    return "text"


def _ddl(column: sa.Column) -> str:
    return column.type.compile(dialect=postgresql.dialect()).replace(" WITHOUT TIME ZONE", "")


def _column(table: sa.Table, name: str, readers: set[str], *, optional: bool = False, needed_for: str = "",
            default: object = None, nullable: bool | None = None, description: str = "") -> ColumnContract:
    """A column of ``table`` as the schema defines it; a foreign key only when the report reads its parent too."""
    c = table.c[name]
    refs = [fk.target_fullname for fk in c.foreign_keys if fk.column.table.name in readers]
    lo, hi = BOUNDS.get((table.name, name), (None, None))
    unique = bool(c.unique) or any(isinstance(u, sa.UniqueConstraint) and list(u.columns.keys()) == [name]
                                   for u in table.constraints)
    return ColumnContract(
        name=name, kind=_kind(c), sql_type=_ddl(c), nullable=c.nullable if nullable is None else nullable,
        key=c.primary_key, unique=unique, references=refs[0] if refs else None,
        allowed=ALLOWED.get((table.name, name)), pattern=PATTERNS.get((table.name, name)),
        convention=CONVENTIONS.get((table.name, name)), minimum=lo, maximum=hi, optional=optional, needed_for=needed_for,
        default=default, description=description or (c.comment or ""))


def _table(name: str, columns: Iterable[str], readers: set[str], *, optional_columns: Mapping[str, str] | None = None,
           defaults: Mapping[str, object] | None = None, descriptions: Mapping[str, str] | None = None,
           **fields) -> TableContract:
    """One table as a report reads it: ``columns`` required, ``optional_columns`` (name → what it adds) not."""
    table = schema.metadata.tables[name]
    optional_columns, defaults, descriptions = optional_columns or {}, defaults or {}, descriptions or {}
    names = list(dict.fromkeys([*columns, *optional_columns]))
    cols = tuple(_column(table, n, readers, optional=n in optional_columns, needed_for=optional_columns.get(n, ""),
                         default=defaults.get(n), description=descriptions.get(n, "")) for n in names)
    return TableContract(name=name, columns=cols, description=table.comment or "", **fields)


def _report(report: str, title: str, summary: str, tables: list[dict], **fields) -> ReportContract:
    readers = {t["name"] for t in tables}
    built = tuple(_table(readers=readers, **t) for t in tables)
    return ReportContract(report=report, title=title, summary=summary, tables=built, **fields)


# --------------------------------------------------------------------------- shared table uses

# Optional columns: name → what they are for (a noun phrase: "… is left out" without them).
_CLIENT_OPTIONAL = {
    "org_id": "the link to the client's organization (agency), whose brand its report wears",
    "brand": "the client's own brand kit (else its organization's, else quire)",
    "churned_on": "the end of a client's periods when there is no subscriptions table",
    "sector": "the fan-out filter `--clients sector=…`", "plan": "the fan-out filter `--clients plan=…`",
    "region": "the fan-out filter `--clients region=…`",
    "contact_email": "the scheduler's e-mail of the report to the client",
}


#: The columns of ``clients`` every report needs (reads of the others give NULL where the warehouse lacks them).
CLIENT_REQUIRED = ("client_id", "name", "slug", "status", "signup_date")


def _clients(purpose: str, sections: tuple[str, ...], optional: Mapping[str, str] | None = None) -> dict:
    return dict(name="clients", columns=CLIENT_REQUIRED,
                optional_columns={**_CLIENT_OPTIONAL, **(optional or {})}, defaults={"brand": DEFAULT_BRAND},
                purpose=purpose, sections=sections, date_column="signup_date")


def _health(table: str, columns: tuple[str, ...], what: str, date_column: str, grain: str = "day") -> dict:
    return dict(name=table, columns=columns, optional=True, sections=("Account health",), date_column=date_column,
                grain=grain, purpose=f"{what}, one component of the health score",
                without=f"the health score leaves out {what}")


# --------------------------------------------------------------------------- the reports

EXECUTIVE = _report(
    "executive", "Executive report",
    "Company KPIs from the MRR ledger (MRR, ARR, growth, retention, churn, ARPA, CLV), project delivery, "
    "satisfaction and account health, a forecast and alerts.",
    [
        _clients("account names and the accounts health is scored for", ("Customers: satisfaction and health",
                                                                          "Project delivery")),
        dict(name="mrr_movements", columns=("movement_id", "client_id", "month", "movement", "amount"),
             purpose="the revenue ledger: every KPI of revenue, retention and churn, and the forecast",
             sections=("Headline", "Recurring revenue", "Retention and churn", "Forecast", "Alerts"),
             date_column="month", grain="month"),
        dict(name="projects", columns=tuple(c.name for c in schema.projects.columns), optional=True,
             purpose="on-time delivery, hours overrun and project margin (CLV uses the margin)",
             without="project delivery, on-time rate and project margin are left out, and CLV with them",
             sections=("Project delivery",), date_column="due_on"),
        dict(name="survey_responses", columns=tuple(c.name for c in schema.survey_responses.columns), optional=True,
             purpose="NPS and CSAT, and the latest NPS in the health score",
             without="NPS and CSAT are left out", sections=("Customers: satisfaction and health",),
             date_column="responded_on"),
        dict(name="product_usage", columns=tuple(c.name for c in schema.product_usage.columns), optional=True,
             purpose="seat utilisation, usage trend and support load (counted per seat) in the health score",
             without="the health score leaves out seat utilisation, the usage trend and the support load (counted per seat)",
             sections=("Customers: satisfaction and health",), date_column="week", grain="week"),
        dict(name="support_tickets", columns=tuple(c.name for c in schema.support_tickets.columns), optional=True,
             purpose="support load in the health score", without="the health score leaves out support load",
             sections=("Customers: satisfaction and health",), date_column="opened_at", grain="instant"),
    ],
    coverage=Coverage("ledger", first=("mrr_movements", "month"), last=("mrr_movements", "month"),
                      reach=(("engagement_daily", "day"), ("events", "occurred_at")),
                      also=(("projects", "delivered_on"), ("survey_responses", "responded_on"), ("product_usage", "week"),
                            ("support_tickets", "opened_at")), what="MRR data"),
)

CLIENT = _report(
    "client", "Client performance report",
    "One client's content engagement, platforms, top content, health and standing against the other clients "
    "(anonymised), in the client's brand.",
    [
        _clients("the client the report is for: its name, slug and brand", ("Cover",), optional={
            "locale": "the client's own way of writing numbers and dates (else its brand's)",
            "currency": "the client's own currency (else its brand's)"}),
        dict(name="content", columns=("content_id", "client_id", "title", "content_type", "platform", "published_on"),
             purpose="the client's content: titles, platforms and content types",
             sections=("Platforms and content types", "Top content"), date_column="published_on"),
        dict(name="engagement_daily", columns=("content_id", "client_id", "day", "views", "clicks", "conversions",
                                               "engagements"),
             purpose="daily views, clicks, conversions and engagements of each piece of content",
             sections=("Headline", "Engagement over time", "Platforms and content types", "Top content",
                       "How you compare", "Recommendations"), date_column="day"),
        dict(name="organizations", columns=("org_id", "brand"), optional=True,
             purpose="the agency's brand, for clients without their own",
             without=f"a client without its own brand gets the {DEFAULT_BRAND} brand", sections=("Cover",)),
        dict(name="subscriptions", columns=("subscription_id", "client_id", "started_on", "ended_on"), optional=True,
             purpose="the periods a client's report runs for",
             without="a client's report runs from its signup_date to its churned_on", sections=(),
             date_column="started_on"),
        dict(name="mrr_movements", columns=("client_id", "month", "amount"), optional=True,
             purpose="whether the account pays (health is scored for paying accounts only; no amount is shown)",
             without="an account counts as paying from its signup_date to its churned_on",
             sections=("Account health",), date_column="month", grain="month"),
        _health("product_usage", ("client_id", "week", "seats", "active_users", "logins"),
                "seat utilisation, the usage trend and the support load (counted per seat)", "week", "week"),
        _health("support_tickets", ("ticket_id", "client_id", "opened_at", "closed_at", "priority", "category"),
                "support load", "opened_at", "instant"),
        _health("survey_responses", ("response_id", "client_id", "responded_on", "survey", "score", "comment"),
                "the latest NPS answer", "responded_on"),
    ],
    coverage=Coverage("span", first=("engagement_daily", "day"), last=("engagement_daily", "day"),
                      what="content engagement"),
    runs_per="client and period",
)

COHORT = _report(
    "cohort", "Cohort report",
    "Acquisition cohorts by signup week or month: user and revenue retention, LTV curves, recent against earlier "
    "cohorts, an optional activation filter.",
    [
        dict(name="users", columns=("user_id", "signed_up_at"), purpose="who signed up when: each user's cohort",
             sections=("Headline", "User retention", "Revenue retention", "Lifetime value (LTV) curves",
                       "Recent versus earlier cohorts"), date_column="signed_up_at", grain="instant"),
        dict(name="events", columns=("event_id", "user_id", "event_type", "occurred_at", "revenue"),
             purpose="what users did and when: activity (session_start, feature_use, purchase) makes a user active "
                     "in an age, purchase revenue makes revenue retention and LTV, activation drives the filter",
             sections=("User retention", "Revenue retention", "Lifetime value (LTV) curves",
                       "Behavioural filter: activated users"), date_column="occurred_at", grain="instant",
             descriptions={"revenue": "set on purchase events (NULL on others)"}),
    ],
    coverage=Coverage("span", first=("users", "signed_up_at"), last=("events", "occurred_at"),
                      starts_with=(("events", "occurred_at"),), what="product users and events"),
    notes=("Users need no client: the cohort report reads neither clients nor users.client_id.",),
)

EXPERIMENT = _report(
    "experiment", "Experiment report",
    "One A/B(/n) experiment: sample-ratio check, conversion lift, Welch test on revenue per user, CUPED, power and "
    "MDE, multiple-comparison correction and a verdict.",
    [
        dict(name="experiment_assignments",
             columns=("experiment_id", "user_id", "variant", "assigned_at", "converted", "revenue"),
             optional_columns={"pre_revenue": "the CUPED comparison of revenue per user (less noisy by what each "
                                              "user's pre-period revenue explains)"},
             purpose="one row per assigned user: variant, conversion and revenue",
             sections=("Verdict", "Assignment and sample ratio", "Conversion by variant", "Revenue per user", "Power",
                       "Multiple comparisons"), date_column="assigned_at", grain="instant"),
        dict(name="experiments", columns=("experiment_id", "key", "name", "hypothesis", "primary_metric", "started_on",
                                          "ended_on"), optional=True,
             optional_columns={"metric_name": "the continuous metric's name when it is not revenue (e.g. game rounds)",
                               "metric_unit": "the continuous metric's unit: number for a count or amount that is not "
                                              "money, currency (the default) for money"},
             purpose="each experiment's key, name, hypothesis, primary metric and dates",
             without="each experiment is named experiment-<experiment_id>, decides on conversion, and runs from its "
                     "first to its last assignment", sections=("Verdict",), date_column="started_on"),
        dict(name="experiment_variants", columns=("experiment_id", "variant", "is_control", "allocation"), optional=True,
             purpose="the planned variants, which one is the control, and the planned split",
             without="the variants are those assigned, the control is the one whose name says so (control, baseline, "
                     "original, old, A…; else the first by name, with a warning), and the planned "
                     "split is equal", sections=("Assignment and sample ratio",)),
    ],
    runs_per="experiment",
)

#: Report type (its notebook's stem) → its contract.
CONTRACTS: dict[str, ReportContract] = {c.report: c for c in (EXECUTIVE, CLIENT, COHORT, EXPERIMENT)}
