"""A shop's order log for the import tests: guests included, no table of sign-ups."""

from __future__ import annotations

from pathlib import Path

# A shop's order log: one row per order, guests (no customer id) included, and no table of sign-ups.
ORDERS = [  # (customer, placed, total in cents)
    ("17850", "01/12/2025 08:26", "1530"), ("", "01/12/2025 09:02", "990"), ("13047", "03/12/2025 10:00", "2500"),
    ("17850", "15/01/2026 11:45", "780"), ("", "20/01/2026 12:00", "120"), ("12583", "02/02/2026 16:20", "4410"),
    ("13047", "28/02/2026 09:15", "600"), ("17850", "01/03/2026 10:30", "1999"),
]
ORDERS_MAPPING = """
company: {name: Shop}
tables:
  events:
    source: orders.csv
    rename: {customer: user_id, placed: occurred_at, total_cents: revenue}
    dates: {occurred_at: "%d/%m/%Y %H:%M"}
    multiply: {revenue: 0.01}
    defaults: {event_type: purchase}
    skip_rows_without: [user_id]
"""


def orders_csv(folder: Path, rows: list[tuple[str, str, str]] = ORDERS) -> None:
    """Write ``rows`` as the shop's orders.csv in ``folder``."""
    lines = ["customer,placed,total_cents", *(",".join(row) for row in rows)]
    (folder / "orders.csv").write_text("\n".join(lines) + "\n")
