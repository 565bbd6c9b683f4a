"""``quire warehouse import``: the mapping's files into the embedded DuckDB warehouse, all or nothing.

The new warehouse is built in a temporary DuckDB file beside the target and renamed onto
it only when every file was read and every check passed; until then the existing
warehouse is never opened, so a failed import leaves it byte for byte as it was (and a
report reading it meanwhile keeps reading the old file). The files are first staged (as
read, rows numbered) in a second temporary database, so the checks can name the file
and line of a bad value, and the warehouse file holds only the final tables.

Memory stays bounded whatever the files' size: DuckDB streams the readers, runs under
``memory_limit`` and spills to a temporary folder beside the warehouse. For that the
tables are created without primary-key and unique indexes (as the sample build already
leaves out foreign keys and secondary indexes): DuckDB holds such an index (an ART) in
memory while rows go in, so a 1 GB events file with its key ran out of a 256 MB limit,
while the same uniqueness checked by a query (a hash aggregate, which spills) did not.

Order: every mapped table is staged and its values checked; the tables are loaded
parents first and their keys checked for duplicates (a duplicate is then looked up by
line in the stage); the derived tables (:mod:`quire.dataio.derive`) are made; last,
every reference between loaded tables is checked (an event of an unknown user).
"""

from __future__ import annotations

import os
import shutil
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import duckdb
import duckdb_engine
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateTable

from quire.dataio import checks, derive
from quire.dataio.errors import DataError
from quire.dataio.expressions import (ColumnPlan, converted, distinct_slugs, droppable_keys, expected, mapped_text,
                                      plan_columns, repeatable_keys, skipped_sources, slug_of)
from quire.dataio.mapping import Mapping, TableMapping
from quire.dataio.sources import SourceFile, columns_of, first_line, source_files, stage
from quire.dataio.target import TableSpec, referenced_by, table_names, table_spec
from quire.errors import ConfigError, OutputError, describe_os_error
from quire.warehouse.engine import database_file

Progress = Callable[[str], None]
STAGE = "quire_stage"
#: Memory each import thread is given room for within ``memory_limit``. DuckDB runs a thread per core by default,
#: and each thread's buffers lie outside the limit's accounting: a 96 MB limit held 300 MB on 32 threads.
THREAD_MEMORY = 128 * 2**20
_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50, "EiB": 2**60}
# qmark: the SQL is run by duckdb itself, so a '%' in a date format must not be doubled as pyformat would.
DIALECT = duckdb_engine.Dialect(paramstyle="qmark")


@dataclass(frozen=True)
class ImportStats:
    """What an import loaded."""

    rows: dict[str, int]                  # rows per table, mapped and derived, in load order
    skipped: dict[str, int]               # rows left out per table by its skip_rows_without
    duplicates: dict[str, int]            # rows left out per table for a repeated key (its duplicates: first/drop)
    shared_slugs: tuple[str, ...]         # the slugs of clients whose names slug alike (each with its id after it)
    derived: tuple[str, ...]              # tables made from the others (see quire.dataio.derive)
    seconds: float
    size_bytes: int
    previous: Path | None = None          # the warehouse this import replaced, kept beside it


def import_threads(con: duckdb.DuckDBPyConnection) -> int:
    """The threads an import on ``con`` runs: DuckDB's own (one per core), but only as many as its memory limit
    gives :data:`THREAD_MEMORY` each, and at least one."""
    limit, threads = con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
    amount, _, unit = str(limit).partition(" ")  # as DuckDB writes it, e.g. "91.5 MiB"
    if unit not in _UNITS:  # a form this DuckDB release writes otherwise: its own thread count
        return int(threads)
    return max(1, min(int(threads), int(float(amount) * _UNITS[unit]) // THREAD_MEMORY))


def _remove_dead_imports(target: Path) -> None:
    """Remove the temporary files of earlier imports into ``target`` whose process is gone (killed, say by SIGTERM,
    before it could clean up: a few megabytes each, hidden beside the warehouse for good)."""
    for path in target.parent.glob(f".{target.name}.*.importing*"):
        pid = path.name[len(target.name) + 2:].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running: another import, which cleans up after itself
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # alive, another user's
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _settle(target: Path) -> None:
    """Make the warehouse about to be replaced safe to replace: refuse one another program has open for writing (its
    later writes would land in a log beside the new file, which DuckDB then refuses to open), and fold a log left by a
    writer that stopped without a checkpoint into the file, where no reader prevents it (else the log is kept)."""
    if not target.is_file():
        return
    try:
        duckdb.connect(str(target), read_only=True).close()  # readers share the file; only a writer locks it out
    except duckdb.IOException as exc:
        if "Conflicting lock" in str(exc):
            raise OutputError(f"{target} is open for writing in another program ({first_line(exc).split(' held in ')[-1]})"
                              ": close that connection and import again (the warehouse is left as it was)") from exc
        return  # not a database DuckDB can open: it is replaced as it is, and kept as the previous one
    except duckdb.Error:
        return
    if target.with_name(target.name + ".wal").exists():
        try:
            old = duckdb.connect(str(target))
        except duckdb.Error:  # a report is reading it: the log is kept beside the previous copy instead
            return
        try:
            old.execute("CHECKPOINT")
        finally:
            old.close()


def _keep_previous(target: Path) -> Path | None:
    """Keep the warehouse about to be replaced as ``<name>.previous.duckdb`` (one generation), or None.

    An import into the sample warehouse by mistake, or of the wrong files, is undone with one ``mv``.
    A hard link costs no copy and leaves ``target`` in place until the atomic replace.
    """
    if not target.is_file():
        return None
    kept = target.with_name(f"{target.stem}.previous{target.suffix}")
    kept.unlink(missing_ok=True)
    try:
        os.link(target, kept)
    except OSError:  # a filesystem without hard links
        shutil.copy2(target, kept)
    return kept


def import_files(mapping: Mapping, url: str, *, memory_limit: str = "1GB", threads: int | None = None,
                 progress: Progress | None = None) -> ImportStats:
    """Load the mapping's files into the DuckDB warehouse at ``url``, replacing it only if everything passed.

    Raises :class:`DataError` (file, line, column and reason) for bad data, and
    :class:`~quire.errors.ConfigError` for a warehouse URL that is not a DuckDB file.
    """
    started = time.perf_counter()
    target = _target(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.importing")
    staging = temp.with_name(temp.name + ".stage")
    spill = temp.with_name(temp.name + ".spill")
    leftovers = [temp, staging, *(p.with_name(p.name + ".wal") for p in (temp, staging))]
    for path in leftovers:
        path.unlink(missing_ok=True)
    _remove_dead_imports(target)
    try:
        con = duckdb.connect(str(temp), config={"memory_limit": memory_limit, "temp_directory": str(spill),
                                                **({"threads": threads} if threads else {})})
    except (duckdb.InvalidInputException, duckdb.ParserException) as exc:  # which one depends on the DuckDB release
        temp.unlink(missing_ok=True)
        raise ConfigError(f"--memory-limit {memory_limit!r}: not a size DuckDB understands (e.g. 512MB, 2GB)") from exc
    try:
        con.execute("SET enable_progress_bar = false")  # DuckDB would draw its own bar on stdout
        if not threads:
            con.execute(f"SET threads = {import_threads(con)}")
        con.execute("SET TimeZone = 'UTC'")  # offsets in the files convert to UTC instants
        con.execute(f"ATTACH $path AS {STAGE}", {"path": str(staging)})
        job = _Import(con, mapping, progress or (lambda _m: None))
        rows = job.run()
        con.execute(f"DETACH {STAGE}")
        (progress or (lambda _m: None))("writing the warehouse")
        con.execute("CHECKPOINT")  # fold the write-ahead log into the file before it is renamed
        con.close()
        _settle(target)
        previous = _keep_previous(target)
        # The old file's log goes with it (a stale log would replay onto the new file; deleted, it took the commits a
        # writer had not yet folded into the file out of the kept copy).
        log = target.with_name(target.name + ".wal")
        if log.exists():
            if previous is None:
                log.unlink()
            else:
                os.replace(log, previous.with_name(previous.name + ".wal"))
        os.replace(temp, target)
    except RuntimeError as exc:
        # Ctrl-C: DuckDB stops the query and raises this in place of KeyboardInterrupt.
        if "interrupted" in str(exc).lower():
            raise KeyboardInterrupt from exc
        raise
    except duckdb.OutOfMemoryException as exc:
        raise DataError(f"the import ran out of memory within --memory-limit {memory_limit}; allow more "
                        "(e.g. --memory-limit 4GB) or free some memory") from exc
    except duckdb.IOException as exc:
        if "No space left on device" in str(exc):  # said on a later line than the checkpoint that failed
            raise OutputError(f"the import could not write beside {target}: the disk is full",
                              hint="free some space there and import again; the warehouse is unchanged") from exc
        raise OutputError(f"the import could not write beside {target}: {first_line(exc)}") from exc
    except duckdb.Error as exc:  # anything else DuckDB refuses in the data (e.g. a number too large for its column)
        raise DataError(f"the import failed: {first_line(exc)}") from exc
    except OSError as exc:
        raise OutputError(f"the import could not write the warehouse: {describe_os_error(exc)}") from exc
    finally:
        con.close()
        for path in leftovers:
            path.unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)
    skipped = {table: staged.skipped for table, staged in job.staged.items() if staged.skipped}
    duplicates = {table: staged.duplicates for table, staged in job.staged.items() if staged.duplicates}
    return ImportStats(rows, skipped, duplicates, job.shared_slugs, tuple(derive.derived_tables(mapping)),
                       time.perf_counter() - started, target.stat().st_size, previous)


def _target(url: str) -> Path:
    path = database_file(url)
    if path is None or make_url(url).get_backend_name() != "duckdb":
        raise ConfigError("quire warehouse import loads files into the embedded DuckDB warehouse, and "
                          "QUIRE_WAREHOUSE_URL names another database; point it at a duckdb:/// file, or use "
                          "mode: views in the mapping to read tables where they are")
    return path.resolve()


@dataclass
class _Staged:
    """One mapped table after staging: where its rows are and how each Quire column is computed."""

    spec: TableSpec
    mapping: TableMapping
    plans: list[ColumnPlan]
    files: list[tuple[int, SourceFile]] = field(default_factory=list)  # (rows before the file, the file)
    skipped: int = 0  # rows left out for an empty skip_rows_without column
    duplicates: int = 0  # rows left out for a repeated key (duplicates: first or drop)

    @cached_property
    def relation(self) -> sa.Alias:
        """The staging table, aliased: its columns stay distinct from a loaded table's of the same name."""
        sources = dict.fromkeys(p.source for p in self.plans if p.source)
        return sa.table(self.spec.name, sa.column("quire_seq"), *(sa.column(s) for s in sources),
                        schema=STAGE).alias("staged")

    @property
    def seq(self) -> sa.ColumnElement:
        return self.relation.c.quire_seq

    def value(self, plan: ColumnPlan) -> sa.ColumnElement:
        return converted(plan, self.mapping, self.relation, duck=True, row_number=self.seq)

    def value_of(self, column: str) -> sa.ColumnElement:
        """The Quire ``column``'s value (see :meth:`value`)."""
        return self.value(next(p for p in self.plans if p.column.name == column))

    def text(self, plan: ColumnPlan) -> sa.ColumnElement | None:
        return mapped_text(plan, self.mapping, self.relation)

    def locate(self, seq: int | None) -> str:
        if seq is None:
            return self.files[0][1].label
        offset, source = self.files[max(bisect_right([o for o, _ in self.files], seq - 1) - 1, 0)]
        row = seq - offset
        return f"{source.label} line {row + 1}" if source.format == "csv" else f"{source.label} row {row}"


class _Import:
    def __init__(self, con: duckdb.DuckDBPyConnection, mapping: Mapping, progress: Progress) -> None:
        self.con, self.mapping, self.progress = con, mapping, progress
        self.staged: dict[str, _Staged] = {}
        self.shared_slugs: tuple[str, ...] = ()

    def run(self) -> dict[str, int]:
        order = [t for t in table_names() if t in self.mapping.tables]
        for table in order:
            self.staged[table] = self._stage(table)
        for key in self.mapping.text_ids:
            self._number_text_ids(key)
        for table in order:
            self._check_values(self.staged[table])
            self._drop_duplicates(self.staged[table])
        rows: dict[str, int] = {}
        made = derive.derived_tables(self.mapping)
        for table in [t for t in table_names() if t in order or t in made]:
            self._create(table)
        for table in order:
            self.progress(f"loading {table}")
            rows[table] = self._insert(self.staged[table])
        for table in made:
            self.progress(f"making {table}")
            select = derive.derived_select(table, self.mapping, _loaded, set(order), self._id_texts)
            self._exec(sa.insert(_loaded(table)).from_select(list(table_spec(table).column_names), select))
            rows[table] = self._count(table)
        self.progress("checking references between the tables")
        for table in order:
            self._check_references(self.staged[table], set(order) | set(made))
        if "experiment_variants" in made:
            self._check_planned_variants()
        if {"engagement_daily", "content"} <= set(order):
            self._check_content_owners()
        return {t: rows[t] for t in table_names() if t in rows}

    def _check_content_owners(self) -> None:
        """Each engagement row's client is its content's: a mix-up would count one client's post in another's report."""
        checks.check_content_owners(self._rows, _loaded("engagement_daily"), _loaded("content"),
                                    self.staged["engagement_daily"].files[0][1].label,
                                    lambda key, value: self._as_written(key)(value))

    # -- SQL -------------------------------------------------------------------------------
    def _rows(self, stmt: sa.Executable) -> list[tuple]:
        return self.con.execute(_sql(stmt)).fetchall()

    def _exec(self, stmt: sa.Executable) -> None:
        self.con.execute(_sql(stmt))

    def _count(self, table: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {_ident(table)}").fetchone()[0]

    # -- steps -----------------------------------------------------------------------------
    def _stage(self, table: str) -> _Staged:
        spec = self.mapping.tables[table]
        implied = derive.implied_defaults(self.mapping, table)
        if implied:
            spec = spec.model_copy(update={"defaults": {**implied, **spec.defaults}})
        files = source_files(spec, self.mapping.base, table)
        header = columns_of(self.con, files[0], spec)
        generate = not any(other in self.mapping.tables for other, _ in referenced_by(table))
        plans = plan_columns(table_spec(table), spec, header, files[0].label, generate_key=generate)
        needed = list(dict.fromkeys(p.source for p in plans if p.source))
        staged = _Staged(table_spec(table), spec, plans)
        total = 0
        for index, source in enumerate(files):
            self.progress(f"reading {source.label}")
            columns = header if index == 0 else columns_of(self.con, source, spec)
            missing = [name for name in needed if name not in columns]
            if missing:
                raise DataError(f"{source.label}: no column {missing[0]!r} (the first file of {table} has it); "
                                f"its columns: {', '.join(columns)}")
            staged.files.append((total, source))
            total += stage(self.con, source, spec, columns, f"{STAGE}.{_ident(table)}", needed, total, index == 0)
        self._skip_rows(staged, skipped_sources(plans, spec, files[0].label), total)
        return staged

    def _skip_rows(self, staged: _Staged, sources: list[str], total: int) -> None:
        """Delete the staged rows with an empty skip_rows_without column (the others keep their line numbers)."""
        if not sources:
            return
        table = f"{STAGE}.{_ident(staged.spec.name)}"
        # A cell of spaces is an empty one, as everywhere else in the import.
        empty = " OR ".join(f"nullif(trim(CAST({_ident(source)} AS VARCHAR)), '') IS NULL" for source in sources)
        staged.skipped = self.con.execute(f"SELECT count(*) FROM {table} WHERE {empty}").fetchone()[0]
        if staged.skipped == total:
            without = " or ".join(staged.mapping.skip_rows_without)
            raise DataError(f"{staged.files[0][1].label}: every row lacks {without}, so skip_rows_without would leave "
                            f"nothing of {staged.spec.name}; check the rename of that column")
        self.con.execute(f"DELETE FROM {table} WHERE {empty}")

    def _check_values(self, staged: _Staged) -> None:
        self.progress(f"checking {staged.spec.name}")
        table = staged.spec.name
        columns = [checks.Checked(p.column, staged.value(p), staged.text(p), p.source,
                                  expected(p, staged.mapping), f"tables.{table}.values.{p.column.name}")
                   for p in staged.plans if p.source is not None]
        checks.check_values(self._rows, staged.relation, columns, staged.spec, staged.locate, staged.seq)

    def _number_text_ids(self, key: str) -> None:
        """``text_ids``: number every distinct text value of ``key`` across the staged tables (1, 2, 3… in text
        order) and put the numbers in place of the texts, so that the key reads as any numeric key does."""
        fillers = [(staged, plan.source) for staged in self.staged.values() for plan in staged.plans
                 if plan.column.name == key and plan.source is not None]
        if not fillers:
            raise DataError(f"text_ids: no mapped table fills {key} from a column of its file(s); "
                            "leave it out of text_ids or check the rename")
        self.progress(f"numbering the text values of {key}")
        ids = f"{STAGE}.{_ident('quire_ids_' + key)}"  # read back by _id_texts
        # Trimmed, as every text value of the import is: " cust-1001 " in one file is "cust-1001" in the other.
        text = lambda column: f"nullif(trim(CAST({column} AS VARCHAR)), '')"  # noqa: E731
        every = " UNION ALL ".join(f"SELECT {text(_ident(source))} AS text FROM {STAGE}.{_ident(staged.spec.name)}"
                                   for staged, source in fillers)
        self.con.execute(f"CREATE TABLE {ids} AS SELECT text, row_number() OVER (ORDER BY text) AS id "
                         f"FROM (SELECT DISTINCT text FROM ({every}) WHERE text IS NOT NULL)")
        for staged, source in fillers:
            table = f"{STAGE}.{_ident(staged.spec.name)}"
            self.con.execute(f"UPDATE {table} SET {_ident(source)} = CAST(ids.id AS VARCHAR) FROM {ids} AS ids "
                             f"WHERE {text(f'{table}.{_ident(source)}')} = ids.text")

    def _as_written(self, key: str):
        """A value of ``key`` as the files write it: its text when ``text_ids`` numbered it ('cus_UNKNOWN', not 301)."""
        texts = self._id_texts(key)
        if texts is None:
            return str

        def text_of(value: str) -> str:
            found = self._rows(sa.select(texts.c.text).where(sa.cast(texts.c.id, sa.String()) == value))
            return repr(found[0][0]) if found else value
        return text_of

    def _id_texts(self, key: str) -> sa.TableClause | None:
        """The table numbering ``key``'s text values (``text_ids``), or None."""
        if key not in self.mapping.text_ids:
            return None
        return sa.table(f"quire_ids_{key}", sa.column("text"), sa.column("id"), schema=STAGE)

    def _check_planned_variants(self) -> None:
        """Every assigned variant is one of ``experiment_plan.split``: the report refuses an experiment whose users
        saw a variant its plan does not hold, so the import says which at once."""
        split = list(self.mapping.experiment_plan.split)
        a = _loaded("experiment_assignments")
        stray = [v for (v,) in self._rows(sa.select(a.c.variant).where(a.c.variant.not_in(split)).distinct()
                                          .order_by(a.c.variant).limit(checks.SHOWN_VALUES))]
        if stray:
            staged = self.staged["experiment_assignments"]
            raise DataError(f"{staged.files[0][1].label}: variant {stray[0]!r} is not in experiment_plan.split "
                            f"({', '.join(split)}); add it there with its planned share, or map it onto one of them "
                            "under values:")

    def _drop_duplicates(self, staged: _Staged) -> None:
        """``duplicates: first|drop``: delete the staged rows of a repeated key (keys compared as converted)."""
        how = staged.mapping.duplicates
        if how == "error":
            return
        spec = staged.spec
        table = f"{STAGE}.{_ident(spec.name)}"
        before = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for keys in droppable_keys(spec, staged.plans):
            values = [staged.value_of(k) for k in keys]
            ranked = (sa.select(staged.seq.label("seq"),
                                sa.func.row_number().over(partition_by=values, order_by=staged.seq).label("nth"),
                                sa.func.count().over(partition_by=values).label("rows"))
                      .select_from(staged.relation).where(*(v.is_not(None) for v in values)).subquery())
            repeated = ranked.c.nth > 1 if how == "first" else ranked.c.rows > 1
            doomed = sa.select(ranked.c.seq).where(repeated)
            self.con.execute(f"DELETE FROM {table} WHERE quire_seq IN ({_sql(doomed)})")
        staged.duplicates = before - self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        if staged.duplicates == before:
            raise DataError(f"{staged.files[0][1].label}: every row of {spec.name} repeats a key "
                            f"({', '.join(spec.key)}), so duplicates: drop would leave nothing; check the rename "
                            "of the key columns")

    def _create(self, table: str) -> None:
        """The table with its columns and NOT NULLs, without key indexes (see the module docstring)."""
        spec = table_spec(table)
        bare = sa.Table(table, sa.MetaData(), *(sa.Column(c.name, c.type, nullable=c.nullable) for c in spec.table.columns))
        self._exec(CreateTable(bare))

    def _insert(self, staged: _Staged) -> int:
        spec = staged.spec
        select = sa.select(*(staged.value(p).label(p.column.name) for p in staged.plans)).select_from(staged.relation)
        select = distinct_slugs(select, spec, staged.plans)
        self._exec(sa.insert(_loaded(spec.name)).from_select(list(spec.column_names), select))
        loaded = _loaded(spec.name)
        for keys in repeatable_keys(spec, staged.plans):
            # First on the loaded table (typed columns, cheap); only a duplicate sends us back to the files.
            duplicate = (sa.select(*(loaded.c[k] for k in keys)).group_by(*(loaded.c[k] for k in keys))
                         .having(sa.func.count() > 1).order_by(*(loaded.c[k] for k in keys)).limit(1))
            found = self._rows(duplicate)
            if found:
                if keys in droppable_keys(spec, staged.plans):  # slugs made from names repeat in the files by design
                    values = {k: staged.value_of(k) for k in keys}
                    checks.check_unique(self._rows, staged.relation, values, spec, staged.locate, staged.seq)
                # Not repeated in the files: a slug told apart by its id met a name that makes it ("Acme 1").
                shown = ", ".join(f"{k}={v}" for k, v in zip(keys, found[0], strict=True))
                fix = "give such clients slugs of their own (a slug column)" if "slug" in keys else "fix the source"
                raise DataError(f"{staged.files[0][1].label}: duplicate key {shown} in {spec.name}; {fix}")
        if any(p.slugged for p in staged.plans):
            told_apart = sa.select(loaded.c.slug).where(loaded.c.slug != slug_of(loaded.c.name, duck=True))
            self.shared_slugs += tuple(row[0] for row in self._rows(told_apart.order_by(loaded.c.slug)))
        return self._count(spec.name)

    def _check_references(self, staged: _Staged, present: set[str]) -> None:
        """Every reference to a loaded table names one of its rows; an orphan is looked up by line in the stage."""
        for ref in staged.spec.references:
            if ref.table not in present:
                continue
            column, parent = ref.columns[0], _loaded(ref.table)
            child = _loaded(staged.spec.name)
            # First on the loaded tables (integer keys, cheap); only an orphan found sends us back to the files.
            orphans = sa.and_(child.c[column].is_not(None), ~sa.exists(
                sa.select(sa.literal(1)).select_from(parent).where(parent.c[ref.target_columns[0]] == child.c[column])))
            if not self._rows(sa.select(sa.func.count()).select_from(child).where(orphans))[0][0]:
                continue
            checks.check_reference(self._rows, staged.relation, staged.value_of(column), column, parent,
                                   parent.c[ref.target_columns[0]], staged.spec, ref.table, staged.locate, staged.seq,
                                   shown=self._as_written(column))


def _loaded(name: str) -> sa.TableClause:
    """A loaded table of the new warehouse, with its columns (for SELECTs over it)."""
    return sa.table(name, *(sa.column(c) for c in table_spec(name).column_names))


def _sql(stmt: sa.Executable) -> str:
    return str(stmt.compile(dialect=DIALECT, compile_kwargs={"literal_binds": True}))


def _ident(name: str) -> str:
    return DIALECT.identifier_preparer.quote(name)
