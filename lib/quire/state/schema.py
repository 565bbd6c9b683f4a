"""Tables of the state database (SQLAlchemy Core). Times are naive UTC on every backend.

Naive UTC because SQLite has no time zones and a PostgreSQL ``timestamp`` without one
then compares the same way; :func:`quire.state.db.utcnow` is the only clock used.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: Run statuses; ``queued``/``running`` are the live ones a crash can leave behind.
RUN_STATUSES = ("queued", "running", "succeeded", "failed", "timed_out", "cancelled")
TRIGGERS = ("schedule", "manual", "retry")

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
    sa.CheckConstraint(f"status IN {RUN_STATUSES}", name="quire_runs_status"),
    sa.CheckConstraint(f"trigger IN {TRIGGERS}", name="quire_runs_trigger"),
)
sa.Index("quire_runs_by_status", runs.c.status)
sa.Index("quire_runs_by_report", runs.c.report, runs.c.created_at)

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
    # One e-mail per run and recipient, whoever writes the outbox and however often.
    sa.UniqueConstraint("run_id", "recipient", name="quire_outbox_once"),
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
