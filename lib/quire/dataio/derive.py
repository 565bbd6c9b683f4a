"""Tables a mapping may leave out, filled from what it does give.

* **organizations** and **clients**: a single-company dataset (users and events of one
  shop) has no clients; Quire's tables hang every user off a client and every client off
  an organization. Without a ``clients`` table in the mapping, one organization (id 1)
  and one client (id 1) are made from the mapping's ``company:`` block, and every
  ``client_id`` / ``org_id`` the mapping does not fill points at them. The client's
  signup date is the earliest day of the mapped data (a sign-up, an event, a post…) unless
  the block gives one.
* **users**: an event log (a shop's orders, an app's events) often comes without a table
  of sign-ups. Without a ``users`` table, each user of the events becomes one, signed up
  at their first event (the usual "first purchase" cohort of a transaction log), under the
  derived client if there is one; channel and country stay empty (not recorded).
* **experiments**: assignments name an experiment by id; without an ``experiments`` table
  each experiment id becomes the experiment ``experiment-<id>`` that started on the day of
  its first assignment, measuring what the mapping's ``experiment_metric`` says (revenue, in money, without
  one).
* **experiment_variants**: which variant is the control and the planned split are facts the
  assignments do not hold (a public 96/4 test is no 50/50 test that went wrong). The
  mapping's ``experiment_plan`` gives them, and each experiment gets its variants from it;
  without one none are made, and the report takes the control by its name and assumes an
  equal split, and says so.

Each derived table is a SQLAlchemy ``SELECT`` over the loaded tables, so the import
inserts it and the views path creates it as a view of the same query.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import sqlalchemy as sa

from quire.dataio.expressions import slug_of
from quire.dataio.mapping import Company, ExperimentMetric, ExperimentPlan, Mapping
from quire.dataio.target import table_spec

Resolve = Callable[[str], sa.TableClause]  # a Quire table name -> the loaded table or view to read
#: The tables this module can make.
DERIVABLE = ("organizations", "clients", "users", "experiments", "experiment_variants")


def derived_tables(mapping: Mapping) -> list[str]:
    """The tables the mapping leaves out that are made from it, parents first."""
    mapped = set(mapping.tables)
    made: list[str] = []
    wants_client = any(ref.table == "clients" for t in mapped for ref in table_spec(t).references)
    if "clients" not in mapped and (wants_client or mapping.company is not None):
        made.append("clients")
    if "organizations" not in mapped and ("clients" in mapped or made):
        made.insert(0, "organizations")
    if "events" in mapped and "users" not in mapped:
        made.append("users")
    if "experiment_assignments" in mapped and "experiments" not in mapped:
        made.append("experiments")
    if mapping.experiment_plan is not None:
        made.append("experiment_variants")
    return made


def implied_defaults(mapping: Mapping, table: str) -> dict[str, int]:
    """Keys the mapping's ``table`` does not fill that point at the one derived organization or client."""
    made = derived_tables(mapping)
    spec = mapping.tables[table]
    return {ref.columns[0]: 1 for ref in table_spec(table).references
            if ref.table in ("clients", "organizations") and ref.table in made
            and ref.columns[0] not in spec.defaults and spec.source_of(ref.columns[0]) is None}


def derived_select(name: str, mapping: Mapping, resolve: Resolve, mapped: set[str],
                   id_texts: Callable[[str], sa.FromClause | None] = lambda _key: None) -> sa.Select:
    """The query that makes the derived table ``name`` (columns in the table's order).

    ``id_texts(key)``: for a key the import numbered from text (``text_ids``), its table of
    ``text`` → ``id``, so that a derived experiment keeps the name the data gave it.
    """
    company = mapping.company or Company()
    if name == "organizations":
        return sa.select(_const(1, "org_id"), _const(company.name, "name"), _const(company.brand, "brand"))
    if name == "clients":
        return _clients(company, resolve, mapped)
    if name == "users":
        return _users(resolve, with_client="clients" in derived_tables(mapping))
    if name == "experiment_variants":
        return _experiment_variants(resolve, mapping.experiment_plan)
    return _experiments(resolve, id_texts("experiment_id"), mapping.experiment_metric)


def _const(value: object, name: str, type_: sa.types.TypeEngine | None = None) -> sa.Label:
    column = table_spec_column(name)
    return sa.cast(sa.literal(value), type_ or column).label(name)


def table_spec_column(name: str) -> sa.types.TypeEngine:
    """A plain SQL type for a derived constant (text unbounded, keys integers)."""
    return sa.Integer() if name.endswith("_id") else sa.String()


def _clients(company: Company, resolve: Resolve, mapped: set[str]) -> sa.Select:
    today = sa.cast(sa.literal(date.today().isoformat()), sa.Date())
    if company.signup_date is not None:
        signup = sa.cast(sa.literal(company.signup_date.isoformat()), sa.Date())
    else:
        signup = sa.func.coalesce(_first_day(resolve, mapped), today)
    return sa.select(
        _const(1, "client_id"), _const(1, "org_id"), _const(company.name, "name"), _const(company.slug, "slug"),
        _const(company.sector, "sector"), _const(company.plan, "plan"), _const(company.region, "region"),
        signup.label("signup_date"), _const(company.contact_email, "contact_email"),
        sa.cast(sa.null(), sa.String()).label("brand"), _const("active", "status"),
        sa.cast(sa.null(), sa.Date()).label("churned_on"),
        # No per-client locale or currency: the brand kit's apply.
        sa.cast(sa.null(), sa.String()).label("locale"), sa.cast(sa.null(), sa.String()).label("currency"))


def _first_day(resolve: Resolve, mapped: set[str]) -> sa.ScalarSelect:
    """The earliest day any mapped table's rows are dated (a sign-up, an event, a post, a ledger month…).

    The one client's reports run from its signup date: a social-media export (posts and their
    daily figures, no users) must not make it a client since the day of the import.
    """
    from quire.contract import warehouse_tables

    dated = {t: c.date_column for t, c in warehouse_tables().items() if c.date_column}
    firsts = [sa.select(sa.cast(sa.func.min(resolve(t).c[dated[t]]), sa.Date()).label("day"))
              for t in sorted(mapped) if t in dated and t not in ("clients", "organizations")]
    days = sa.union_all(*firsts).subquery() if firsts else None
    return sa.select(sa.func.min(days.c.day)).scalar_subquery() if days is not None else sa.null()


def _users(resolve: Resolve, *, with_client: bool) -> sa.Select:
    e = resolve("events")
    client = _const(1, "client_id") if with_client else sa.cast(sa.null(), sa.Integer()).label("client_id")
    return (sa.select(e.c.user_id, client, sa.func.min(e.c.occurred_at).label("signed_up_at"),
                      sa.cast(sa.null(), sa.String()).label("channel"), sa.cast(sa.null(), sa.String()).label("country"))
            .group_by(e.c.user_id))


def _experiments(resolve: Resolve, texts: sa.FromClause | None = None,
                 metric: ExperimentMetric | None = None) -> sa.Select:
    a = resolve("experiment_assignments")
    # From the first assignment to the last, as the contract says of experiments without a table (an export of a
    # test long over was "still running" with no end).
    started, ended = sa.cast(sa.func.min(a.c.assigned_at), sa.Date()), sa.cast(sa.func.max(a.c.assigned_at), sa.Date())
    number = sa.cast(a.c.experiment_id, sa.String())
    key, name = sa.literal("experiment-") + number, sa.literal("Experiment ") + number
    query = sa.select(a.c.experiment_id)
    if texts is not None:
        # Named in the data ("Homepage hero v2"): that name, and its slug as the key (-p experiment=homepage-hero-v2),
        # the number appended where two names make the same slug or one makes none.
        text = sa.func.min(texts.c.text)
        slug = slug_of(text, duck=True)  # text_ids exist in imports only, which DuckDB runs
        shared = sa.func.count().over(partition_by=slug) > 1
        key = sa.case((slug.is_(None), key), (shared, slug + "-" + number), else_=slug)
        name = text
        query = query.join_from(a, texts, texts.c.id == a.c.experiment_id)
    return (query.add_columns(key.label("key"), name.label("name"), _const("(not recorded)", "hypothesis"),
                              _const("revenue" if metric is not None and metric.primary else "conversion",
                                     "primary_metric"), started.label("started_on"),
                              ended.label("ended_on"), *_measure(metric))
            .group_by(a.c.experiment_id))


def _experiment_variants(resolve: Resolve, plan: ExperimentPlan) -> sa.Select:
    """Every experiment of the assignments, with the plan's variants, control and shares."""
    a = resolve("experiment_assignments")
    experiments = sa.select(a.c.experiment_id).distinct().subquery()
    variants = sa.union_all(*(
        sa.select(_const(variant, "variant"), sa.cast(sa.literal(variant == plan.control), sa.Boolean()).label("is_control"),
                  sa.cast(sa.literal(share), sa.Double()).label("allocation"))
        for variant, share in plan.allocation().items())).subquery()
    return (sa.select(experiments.c.experiment_id, variants.c.variant, variants.c.is_control, variants.c.allocation)
            .select_from(experiments.join(variants, sa.true())))


def _measure(metric: ExperimentMetric | None) -> tuple[sa.Label, sa.Label]:
    """The derived experiments' metric_name and metric_unit: the mapping's ``experiment_metric``, else empty (revenue)."""
    if metric is None:
        return sa.cast(sa.null(), sa.String()).label("metric_name"), sa.cast(sa.null(), sa.String()).label("metric_unit")
    return _const(metric.name, "metric_name"), _const(metric.unit, "metric_unit")
