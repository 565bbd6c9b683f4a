"""The reference page ``docs/contracts.md``, written from the contracts (a test keeps the committed page in step).

``quire warehouse contract --markdown > docs/contracts.md`` regenerates it.
"""

from __future__ import annotations

from quire.contract.model import KIND_WORDS, ColumnContract, ReportContract, TableContract
from quire.contract.reports import CONTRACTS

PAGE_PATH = "docs/contracts.md"
REGENERATE = "quire warehouse contract --markdown > docs/contracts.md"

INTRO = f"""# Data contracts: what each report reads

<!-- Generated from lib/quire/contract by `{REGENERATE}`; do not edit by hand (a test compares them). -->

Each report reads only its own tables. Below, per report: the tables it **requires** (it
cannot run without them) and the **optional** ones (without them a section, or part of
one, is left out and the report says so in a note), and per table the columns it reads:
their type, whether they may be empty (NULL), keys, references to other tables and the
values allowed. A warehouse may hold more tables and columns than these: the reports
ignore them. Views serve as well as tables.

Check a warehouse against these contracts with `quire warehouse check` (add `--json` for
scripts): it lists per report what is missing or mistyped, row counts, the days each
table covers, orphans (rows whose reference finds nothing), values outside the allowed
sets, and which reports can run for which periods. It exits with 1 when a report cannot run.

Types: {"; ".join(f"**{k}**, {v}" for k, v in KIND_WORDS.items())}. The SQL column gives the
type the sample warehouse uses; any type of the same family serves (e.g. `BIGINT` for
`INTEGER`, `DOUBLE` for `NUMERIC`, `TEXT` for `VARCHAR`; a `DATE` for a timestamp).
"""


CHECK_JSON = """## `quire warehouse check --json`

One JSON document; these keys are stable:

- `warehouse` (the URL, password hidden), `dialect` (`duckdb`, `postgresql`…), `ok` (every
  report can run), `seconds`.
- `reports.<report>`: `title`, `can_run`, `first_month` and `last_month` (`YYYY-MM`, the
  months its data covers; null for the experiment report), `periods` (per kind `month`,
  `quarter`, `year`: `{"first": …, "latest": …}`, or null when no whole period of that kind
  is covered), `experiments` (the experiment report: keys of the experiments with assigned
  users, else null), `left_out` (optional tables the report does without), `findings`.
- a finding: `severity` (`error`: the report cannot run; `warning`; `note`), `code`
  (`missing_table`, `missing_column`, `mistyped_column`, `empty_table`, `nulls`,
  `duplicate_keys`, `orphans`, `outside_allowed`, `not_a_key`, `out_of_range`, `no_complete_month`,
  `no_experiments`, `unreadable_view`, `missing_amount`, `repeated_movement`, `miscased_event_type`, `movement_kind`, `movement_sign`, `negative_mrr`, `survey_scale`, `before_signup`, `missing_months`, `purchase_without_revenue`, `repeated_purchases`, `foreign_content`, `unknown_brand`, `bad_contact_email`,
  `unplanned_variant`, `guessed_control`, `experiment_dates`), `table`, `column` (or null), `message`, `count` (rows concerned, or
  null) and `examples` (a few of the values concerned).
- `tables.<table>`: `present`, `view`, `unreadable` (why a view cannot be read, or null), `rows`, `first_day` and `last_day` (ISO dates of its
  date column), `complete_months`, and `columns.<column>`: `kind` (expected), `status`
  (`ok`, `missing`, `mistyped`), `found` (the database's type) and `nulls`.

Exit status: 0 when every report can run, 1 when one cannot, 2 when the warehouse cannot
be reached (with `--json`, stdout then holds `{"ok": false, "error": "…"}`).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _values(c: ColumnContract) -> str:
    if c.convention:
        return "a language and region: `en-US`, `de-DE`" if c.convention == "locale" else "ISO 4217: `USD`, `EUR`"
    if c.allowed:
        return ", ".join(f"`{v}`" for v in c.allowed)
    if c.minimum is not None and c.maximum is not None:
        return f"{c.minimum:g} to {c.maximum:g}"
    if c.minimum is not None:
        return f"≥ {c.minimum:g}"
    return ""


def _notes(c: ColumnContract) -> str:
    parts = []
    if c.unique and not c.key:
        parts.append("unique")
    if c.pattern:
        parts.append("lower-case letters, digits and dashes (up to 80): runs are named by it")
    if c.references:
        parts.append(f"references `{c.references}`")
    if c.optional:
        parts.append(f"optional; for {c.needed_for}" if c.needed_for else "optional")
    if c.default is not None:
        parts.append(f"default `{c.default}`")
    if c.description and not (c.allowed and c.description.replace(" ", "") == "|".join(c.allowed)):
        parts.append(c.description)
    return _cell("; ".join(parts))


def _table_md(t: TableContract) -> list[str]:
    lines = [f"#### `{t.name}` — {'optional' if t.optional else 'required'}", "",
             f"Read for {t.purpose}." if t.purpose else ""]
    if t.optional and t.without:
        lines[-1] += f" Without it, {t.without}."
    if t.sections:
        lines[-1] += f" Sections: {', '.join(t.sections)}."
    if t.date_column:
        lines[-1] += f" Dated by `{t.date_column}`."
    lines += ["", "| column | type | SQL | empty allowed | key | values | notes |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for c in t.columns:
        lines.append(f"| `{c.name}` | {c.kind} | `{c.sql_type}` | {'yes' if c.nullable else 'no'} | "
                     f"{'primary' if c.key else ''} | {_values(c)} | {_notes(c)} |")
    return [*lines, ""]


def _coverage(c: ReportContract) -> str:
    cov = c.coverage
    if cov is None:
        return f"Runs per {c.runs_per}, not per period."
    if cov.kind == "ledger":
        reach = " or ".join(f"`{t}.{col}`" for t, col in cov.reach)
        also = ", ".join(f"`{t}.{col}`" for t, col in cov.also)
        return (f"Runs per {c.runs_per}. Its months: from the first `{cov.first[0]}.{cov.first[1]}` to the last month "
                f"the daily data ({reach}, where present) reaches the end of; without daily data, to the later of the "
                f"last `{cov.first[0]}.{cov.first[1]}` and the last month {also} reach the end of. A month without a "
                f"row in `{cov.first[0]}` is one in which no account's MRR changed.")
    later = "".join(f" (or the first `{t}.{col}`, if later)" for t, col in cov.starts_with)
    return (f"Runs per {c.runs_per}. Its months: from the first `{cov.first[0]}.{cov.first[1]}`{later} to the last month "
            f"`{cov.last[0]}.{cov.last[1]}` reaches the end of.")


def _report_md(c: ReportContract) -> list[str]:
    required = ", ".join(f"`{t.name}`" for t in c.required_tables)
    optional = ", ".join(f"`{t.name}`" for t in c.optional_tables) or "none"
    lines = [f"## {c.title} (`{c.report}`)", "", c.summary, "", _coverage(c), "",
             f"Requires {required}; optional: {optional}.", ""]
    lines += [f"{note}" for note in c.notes] + ([""] if c.notes else [])
    for t in c.tables:
        lines += _table_md(t)
    return lines


def markdown() -> str:
    """The whole reference page."""
    lines = [INTRO.rstrip("\n"), "", "## Contents", ""]
    lines += [f"- [{c.title}](#{c.title.lower().replace(' ', '-')}-{c.report}): requires "
              + ", ".join(f"`{t.name}`" for t in c.required_tables) for c in CONTRACTS.values()]
    lines += ["- [`quire warehouse check --json`](#quire-warehouse-check---json)", ""]
    for c in CONTRACTS.values():
        lines += _report_md(c)
    lines.append(CHECK_JSON)
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"


__all__ = ["PAGE_PATH", "REGENERATE", "markdown"]
