"""Writes the example shop's users.csv and events.csv (seeded: the same files every time).

Fernweh Tea is a fictional online tea shop. Its shop system exports customers and what
they did in its own words and units: dates as day/month/year, times in milliseconds
since 1970, amounts in cents, actions and acquisition channels by its own names.
mapping.yaml beside this file tells Quire how to read them.

    python examples/retail/make_data.py
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
START = datetime(2025, 5, 1, tzinfo=timezone.utc)
END = datetime(2026, 11, 1, tzinfo=timezone.utc)   # the data runs to 31 October 2026
CUSTOMERS = 700
CHANNELS = {"Search": 0.35, "Direct": 0.15, "Instagram": 0.2, "Google Ads": 0.12, "Friend": 0.12, "Marketplace": 0.06}
COUNTRIES = {"DE": 0.55, "AT": 0.15, "CH": 0.12, "NL": 0.1, "FR": 0.08}
ACTIVATES = 0.45      # share who complete their profile
DAY = 86_400


def main() -> None:
    rng = np.random.default_rng(20261031)
    span = (END - START).total_seconds()
    # Sign-ups grow over the months: later days are likelier.
    signup = np.sort(START.timestamp() + span * np.sqrt(rng.random(CUSTOMERS)))
    channel = rng.choice(list(CHANNELS), CUSTOMERS, p=list(CHANNELS.values()))
    country = rng.choice(list(COUNTRIES), CUSTOMERS, p=list(COUNTRIES.values()))
    users, events = [], []
    for i in range(CUSTOMERS):
        user_id = 1001 + i
        created = datetime.fromtimestamp(signup[i], timezone.utc)
        users.append((user_id, created.strftime("%d/%m/%Y %H:%M"), channel[i], country[i]))
        events.extend(_events(rng, user_id, signup[i] // 60 * 60))
    events.sort(key=lambda e: (e[2], e[0]))
    _write(HERE / "users.csv", ("customer_id", "created", "acquisition", "country_code"), users)
    _write(HERE / "events.csv", ("customer_id", "action", "ts", "amount_cents"), events)


def _events(rng: np.random.Generator, user_id: int, t0: float) -> list[tuple]:
    """Account, maybe a completed profile, then visits that thin out; some visits end in an order."""
    end = END.timestamp()
    rows = [(user_id, "account_created", int(t0 * 1000), "")]
    loyal = rng.random() < ACTIVATES
    if loyal:
        rows.append((user_id, "profile_completed", int((t0 + rng.exponential(1.5 * DAY)) * 1000), ""))
    horizon = (60 if loyal else 12) * DAY * rng.lognormal(0, 0.6)
    t = t0
    for _ in range(40):
        t += rng.exponential(horizon / 3)
        if t >= end or t > t0 + 3 * horizon:
            break
        rows.append((user_id, "visit", int(t * 1000), ""))
        if rng.random() < 0.15:
            rows.append((user_id, "wishlist_add", int((t + 120) * 1000), ""))
        if rng.random() < (0.35 if loyal else 0.12):
            cents = int(round(rng.lognormal(np.log(3200), 0.45), -1))
            rows.append((user_id, "order", int((t + 600) * 1000), cents))
    return [r for r in rows if r[2] < end * 1000]


def _write(path: Path, header: tuple[str, ...], rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    print(f"{path.name}: {len(rows):,} rows, {path.stat().st_size / 1000:.0f} KB")


if __name__ == "__main__":
    main()
