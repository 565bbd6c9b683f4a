"""An A/B test's assignment log for the import tests, with the repeats public exports have."""

from __future__ import annotations

from pathlib import Path

# An A/B export as public ones come: user 5 logged twice in its variant, user 8 in both variants, and user 011
# written with a leading zero, which is the same user as 11 once converted.
ASSIGNMENTS = [("5", "control", "0"), ("6", "treatment", "1"), ("8", "control", "0"), ("5", "control", "1"),
               ("9", "treatment", "0"), ("8", "treatment", "1"), ("11", "control", "1"), ("011", "treatment", "0"),
               ("12", "treatment", "1")]
AB_MAPPING = """
tables:
  experiment_assignments:
    source: ab.csv
    rename: {group: variant}
    defaults: {experiment_id: 1, assigned_at: 2026-01-05, revenue: 0, pre_revenue: 0}
"""


def ab_csv(folder: Path) -> None:
    """Write ASSIGNMENTS as ab.csv in ``folder``."""
    lines = ["user_id,group,converted", *(",".join(row) for row in ASSIGNMENTS)]
    (folder / "ab.csv").write_text("\n".join(lines) + "\n")


def expected_assignments(how: str) -> list[tuple[int, str, int]]:
    """Recounted from ASSIGNMENTS in Python: the first row of each user, or only the users seen once."""
    rows: dict[int, list[tuple[int, str, int]]] = {}
    for user, variant, converted in ASSIGNMENTS:
        rows.setdefault(int(user), []).append((int(user), variant, int(converted)))
    kept = [found[0] for found in rows.values() if how == "first" or len(found) == 1]
    return sorted(kept)
