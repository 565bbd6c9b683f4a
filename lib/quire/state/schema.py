"""Tables of the state database (SQLAlchemy Core). Times are naive UTC on every backend.

Naive UTC because SQLite has no time zones and a PostgreSQL ``timestamp`` without one
then compares the same way; :func:`quire.state.db.utcnow` is the only clock used.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: Run statuses; ``queued``/``running`` are the live ones a crash can leave behind.
RUN_STATUSES = ("queued", "running", "succeeded", "failed", "timed_out", "cancelled")
#: ``console``: queued from the console or the API, executed by the scheduler's workers.
TRIGGERS = ("schedule", "manual", "retry", "console")
#: What a console/API token may do; each role includes the ones before it.
ROLES = ("viewer", "runner", "admin")

runs = sa.Table(
    "quire_runs", metadata,
    sa.Column("run_id", sa.String(120), primary_key=True),  # also the archive folder's name
    sa.Column("report", sa.String(40), nullable=False),
    sa.Column("client", sa.String(80)),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, default=1),
    sa.Column("retry_of", sa.String(120)),  # the previous attempt's run id
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("started_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("output_folder", sa.Text),
    sa.Column("partial_notebook", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("error_type", sa.String(60)),
    sa.Column("transient", sa.Boolean, nullable=False, default=False),  # a retry may succeed
    # Crash detection: which process owns the run (the scheduler's lease holder, or host+pid of `quire run`).
    sa.Column("worker", sa.String(200)),
    sa.Column("host", sa.String(200)),
    sa.Column("pid", sa.Integer),
    sa.Column("child_pid", sa.Integer),
    sa.Column("requested_by", sa.String(120)),  # the console token (or server login) that queued the run
    sa.CheckConstraint(f"status IN {RUN_STATUSES}", name="quire_runs_status"),
    sa.CheckConstraint(f"trigger IN {TRIGGERS}", name="quire_runs_trigger"),
)
sa.Index("quire_runs_by_status", runs.c.status)
sa.Index("quire_runs_by_report", runs.c.report, runs.c.created_at)
# The console's history pages filter by client and order by time; the queue looks up waiting console runs.
sa.Index("quire_runs_by_client", runs.c.client, runs.c.created_at)
sa.Index("quire_runs_by_created", runs.c.created_at)
sa.Index("quire_runs_by_retry_of", runs.c.retry_of)

outbox = sa.Table(
    "quire_outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(120), sa.ForeignKey("quire_runs.run_id"), nullable=False),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # report | alert
    sa.Column("status", sa.String(16), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("claimed_by", sa.String(200)),
    sa.Column("claimed_at", sa.DateTime),
    sa.Column("sent_at", sa.DateTime),
    # One e-mail of each kind per run and recipient, whoever writes the outbox and however often: a report's owner
    # among its recipients also gets the alert about another recipient's failed e-mail.
    sa.UniqueConstraint("run_id", "recipient", "kind", name="quire_outbox_once"),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="quire_outbox_status"),
)

leases = sa.Table(
    "quire_leases", metadata,
    sa.Column("name", sa.String(60), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("acquired_at", sa.DateTime, nullable=False),
    sa.Column("heartbeat_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

tokens = sa.Table(
    "quire_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("client", sa.String(80)),  # a client token sees and runs that client's reports only
    # SHA-256 of the secret: the secret itself is shown once, at creation, and never stored.
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_used_at", sa.DateTime),
    sa.Column("revoked_at", sa.DateTime),
    sa.CheckConstraint(f"role IN {ROLES}", name="quire_tokens_role"),
)

#: Pause state of the catalog's schedules (the definitions stay in reports.yaml).
schedule_states = sa.Table(
    "quire_schedule_states", metadata,
    sa.Column("report", sa.String(40), primary_key=True),
    sa.Column("paused", sa.Boolean, nullable=False, default=False),
    sa.Column("changed_at", sa.DateTime, nullable=False),
    sa.Column("changed_by", sa.String(120)),
)
