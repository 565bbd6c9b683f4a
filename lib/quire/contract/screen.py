"""The one-screen view of a :class:`~quire.contract.check.CheckResult`, at most :data:`WIDTH` columns wide
(and closed up to fit an 80-column terminal).

Three blocks: the reports (can each run, for which months, quarters and years, and what it
does without), the tables (rows, the days they cover, who reads them, their state), and
the errors and warnings, each once, most serious first. Notes (an optional table absent)
show in the reports block only; ``--json`` has every finding.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from rich import box
from rich.console import Console, ConsoleOptions, Group
from rich.table import Table
from rich.text import Text

from quire.contract.check import CheckResult, Finding, ReportState, TableState
from quire.contract.reports import CONTRACTS

WIDTH = 100
MAX_FINDINGS = 10
MARKS = {"error": ("✗", "red"), "warning": ("!", "yellow"), "note": ("·", "dim")}


def _table(*headers: str, narrow: bool = False) -> Table:
    # Narrow (an 80-column terminal): no padding, the column dividers still leave a space between columns.
    table = Table(*headers, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  padding=(0, 0 if narrow else 1, 0, 0), header_style="bold")
    for column in table.columns:
        column.overflow = "fold"
    return table


def _span(period: dict[str, str] | None) -> str:
    return f"{period['first']}…{period['latest']}" if period else "—"


def _report_row(r: ReportState) -> list[Text]:
    runs = Text("✓ yes", "green") if r.can_run else Text("✗ no", "red")
    if not r.can_run:
        needs = [f.table if f.column is None else f"{f.table}.{f.column}" for f in r.errors]
        return [Text(r.report), runs, Text(""), Text(""), Text(""),
                Text(_first_reason(r) + (f": {', '.join(dict.fromkeys(needs))}" if needs else ""), "red")]
    if r.experiments is not None:
        n = len(r.experiments)
        shown = ", ".join(r.experiments[:3]) + (f" … ({n} in all)" if n > 3 else "")
        return [Text(r.report), runs, Text(f"{n} experiment{'s' if n != 1 else ''}"), Text(""), Text(""),
                Text(shown + (f"; without {', '.join(r.left_out)}" if r.left_out else ""))]
    return [Text(r.report), runs, Text(_span(r.periods.get("month"))), Text(_span(r.periods.get("quarter"))),
            Text(_span(r.periods.get("year"))), Text(f"without {', '.join(r.left_out)}" if r.left_out else "", "dim")]


def _first_reason(r: ReportState) -> str:
    codes = {f.code for f in r.errors}
    for code, words in (("missing_table", "needs"), ("missing_column", "needs"), ("mistyped_column", "mistyped"),
                        ("empty_table", "empty"), ("no_complete_month", "no complete month"),
                        ("no_experiments", "no experiment with users")):
        if code in codes:
            return words
    return "cannot run"


def _reports_block(result: CheckResult, narrow: bool) -> list:
    table = _table("report", "runs", "months", "quarters", "years", "notes", narrow=narrow)
    for r in result.reports.values():
        table.add_row(*_report_row(r))
    return [table]


def _table_state(t: TableState, findings: list[Finding], optional: bool) -> Text:
    if not t.present:
        return Text("missing (optional)", "dim") if optional else Text("missing", "red")
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    kind = "view" if t.view else "ok"
    if errors:
        return Text(f"{errors} error{'s' if errors > 1 else ''}", "red")
    if warnings:
        return Text(f"{warnings} warning{'s' if warnings > 1 else ''}", "yellow")
    return Text(kind, "green")


def _tables_block(result: CheckResult, findings: list[tuple[Finding, tuple[str, ...]]], narrow: bool) -> list:
    # Every cell but the "read by" list is kept whole (a name to type, a date, a state). In a narrow
    # terminal that list has no room for whole words: it is left out, and a line says where to look.
    table = _table("table", "rows", "first", "last", "months", *(() if narrow else ("read by",)), "state",
                   narrow=narrow)
    for column in table.columns:
        column.no_wrap = column.header != "read by"
    for column in table.columns[1:5]:
        column.justify = "right"
    for name, t in result.tables.items():
        readers = [r for r in result.reports if CONTRACTS[r].reads(name)]
        optional = all(CONTRACTS[r].table(name).optional for r in readers)
        own = [f for f, _ in findings if f.table == name]
        grain_month = any(CONTRACTS[r].table(name).grain == "month" for r in readers)
        day = (lambda d: f"{d:%Y-%m}") if grain_month else (lambda d: f"{d:%Y-%m-%d}")
        table.add_row(Text(name), f"{t.rows:,}" if t.rows is not None else "—",
                      day(t.first_day) if t.first_day else "—", day(t.last_day) if t.last_day else "—",
                      str(t.complete_months) if t.complete_months is not None else "—",
                      *(() if narrow else (Text(", ".join(readers)),)), _table_state(t, own, optional))
    if not narrow:
        return [table]
    return [table, Text("Which reports read each table: quire warehouse contract", "dim")]


class _Fitted:
    """A block drawn by ``draw(narrow)`` for the width it is printed at: narrow below :data:`WIDTH`."""

    def __init__(self, draw: Callable[[bool], list]) -> None:
        self.draw = draw

    def __rich_console__(self, console: Console, options: ConsoleOptions):
        yield from self.draw(options.max_width < WIDTH)


def distinct_findings(result: CheckResult) -> list[tuple[Finding, tuple[str, ...]]]:
    """Every error and warning once, with the reports it concerns, errors first.

    A missing table is left out: the reports block names what each report needs, the tables block what is missing.
    """
    seen: dict[Finding, list[str]] = {}
    for r in result.reports.values():
        for f in r.findings:
            if f.severity != "note" and f.code != "missing_table":
                seen.setdefault(f, []).append(r.report)
    order = {"error": 0, "warning": 1}
    return sorted(((f, tuple(rs)) for f, rs in seen.items()), key=lambda p: order[p[0].severity])


def _findings_block(findings: list[tuple[Finding, tuple[str, ...]]]) -> Group:
    lines = []
    for f, reports in findings[:MAX_FINDINGS]:
        mark, style = MARKS[f.severity]
        where = f.table + (f".{f.column}" if f.column and "," not in f.column else "")
        lines.append(Text.assemble((f"{mark} ", style), (f"{', '.join(reports)} · ", "dim"), (f"{where}: ", "bold"),
                                   f.message))
    if len(findings) > MAX_FINDINGS:
        lines.append(Text(f"… and {len(findings) - MAX_FINDINGS} more (quire warehouse check --json lists every one)",
                          "dim"))
    return Group(*lines)


def render(result: CheckResult) -> Group:
    """The whole screen: a title line, the reports, the tables, the findings and a verdict."""
    findings = distinct_findings(result)
    runnable = sum(r.can_run for r in result.reports.values())
    title = Text.assemble(("Warehouse ", "bold"), result.warehouse or result.dialect,
                          (f" · {result.dialect} · checked in {result.seconds:.1f} s", "dim"))
    [only] = result.reports if len(result.reports) == 1 else [None]
    verdict = (Text(f"✓ the {only} report can run" if only else f"✓ all {runnable} reports can run", "green")
               if result.ok else
               Text(f"✗ the {only} report cannot run" if only else f"✗ {runnable} of {len(result.reports)} reports can run",
                    "red"))
    parts = [title, Text(""), _Fitted(partial(_reports_block, result)), Text(""),
             _Fitted(partial(_tables_block, result, findings))]
    if findings:
        parts += [Text(""), _findings_block(findings)]
    return Group(*parts, Text(""), verdict)





def contract_view(contracts: list) -> Group:
    """What ``quire warehouse contract`` shows: per report, its tables and their columns (optional ones marked)."""
    parts: list = []
    for c in contracts:
        parts += [Text.assemble((c.title, "bold"), f" ({c.report})"), Text(c.summary, "dim")]
        table = _table("table", "", "columns (kind; ? optional)")
        for t in c.tables:
            cols = ", ".join(f"{col.name}{'?' if col.optional else ''} {col.kind}" for col in t.columns)
            table.add_row(Text(t.name), Text("optional", "dim") if t.optional else Text("required"), Text(cols))
        parts += [table, Text("")]
    parts.append(Text("Every type, key and allowed value: docs/contracts.md (quire warehouse contract --markdown)", "dim"))
    return Group(*parts)
__all__ = ["WIDTH", "contract_view", "distinct_findings", "render"]
