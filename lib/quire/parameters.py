"""Run parameters: read from a notebook's ``parameters`` cell, checked before anything runs.

Values from any outside source (the CLI, a schedule, an app) are strings or loosely
typed; :func:`validate_parameters` turns them into the declared Python types or
raises a one-line :class:`ParameterError` naming the parameter and what is allowed.
Names are never pasted into code unchecked: only declared names pass.
"""

from __future__ import annotations

import ast
import difflib
import math
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from quire.catalog import ParameterSpec, ReportSpec
from quire.formatting.text import KEY_PATTERN
from quire.errors import ConfigError, ParameterError, WarehouseDataError, first_line_of
from quire.periods import LATEST, parse_period
from quire.problems import quoted

_KEY = re.compile(KEY_PATTERN)

# papermill's inferred type names that each catalog type accepts as a default.
_COMPATIBLE = {
    "str": {"str"}, "period": {"str"}, "date": {"str"}, "choice": {"str"}, "brand": {"str"},
    "client": {"str"}, "experiment": {"str"},
    "int": {"int"}, "float": {"float", "int"}, "bool": {"bool"},
}


@dataclass(frozen=True)
class DeclaredParameter:
    """A parameter as the notebook declares it, typed by the catalog."""

    name: str
    spec: ParameterSpec
    default: Any
    help: str = ""


def inspect_parameters(notebook: Path) -> dict[str, dict[str, Any]]:
    """The notebook's ``parameters`` cell, checked (:func:`_check_parameters_cell`) and read as papermill reads it:
    name -> {default, inferred_type_name, help}.

    Read with papermill's Python translator, not ``papermill.inspect_notebook``: that one wants the notebook to
    name its kernel, which a notebook written by a script (nbformat, jupytext) often does not, and a run's
    notebook is Python whatever kernel it names.
    """
    import nbformat  # imported late, as papermill below: slow imports, only needed here
    from papermill.translators import PythonTranslator

    from quire.notebook.setup import cell_ids_filled_quietly

    if not notebook.is_file():
        raise ConfigError(f"notebook not found: {notebook}")
    try:
        with cell_ids_filled_quietly():
            nb = nbformat.read(notebook, as_version=4)
    except Exception as exc:  # not JSON, not a notebook: nbformat's own words
        raise ConfigError(f"{notebook}: cannot read the notebook ({first_line_of(exc, 200)})",
                          hint="open it in JupyterLab and save it, or restore it from version control") from None
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    tagged = [i for i, cell in enumerate(code) if "parameters" in cell.metadata.get("tags", [])]
    if not tagged:
        raise ConfigError(f"{notebook}: no cell tagged 'parameters'", hint="tag the first code cell 'parameters' in JupyterLab")
    _check_parameters_cell(notebook, code, tagged[0])
    return {p.name: p._asdict() for p in PythonTranslator.inspect(code[0])}


def _check_parameters_cell(notebook: Path, code: list, tagged: int) -> None:
    """Raise a :class:`ConfigError` unless the cell tagged ``parameters`` (code cell ``tagged`` of ``code``, the
    notebook's code cells) is the notebook's first code cell and holds nothing but ``name: type = value`` lines (and
    comments).

    A run sets its values in a cell right after that one: a cell above it ran without them ("name 'period' is not
    defined"); a statement in it was read by papermill as the end of the parameter above ("the default of 'months'
    must be a literal, not 12import os"); a parameter without its type was read as having no default.
    """
    if tagged != 0:
        raise ConfigError(f"{notebook.name}: the cell tagged 'parameters' is code cell {tagged + 1}; it must be the "
                          "first (a run sets its values right after it, so the cells above it ran without them)",
                          hint="move the parameters cell to the top in JupyterLab")
    source = code[0].source
    try:
        statements = ast.parse(source).body
    except SyntaxError as exc:
        raise ConfigError(f"{notebook.name}: the parameters cell is not valid Python (line {exc.lineno}: {exc.msg})") \
            from None
    for statement in statements:
        line = source.splitlines()[statement.lineno - 1].strip()
        if isinstance(statement, ast.Assign) and [type(t) for t in statement.targets] == [ast.Name]:
            name = statement.targets[0].id
            raise ConfigError(f"{notebook.name}: parameter {name!r} has no type in the parameters cell ({quoted(line)})",
                              hint=f"write it as `{name}: <type> = <default>`, e.g. `{name}: int = 12`")
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                and statement.value is not None):
            raise ConfigError(f"{notebook.name}: line {statement.lineno} of the parameters cell, {quoted(line)}, is not "
                              "a parameter (`name: type = value`)", hint="move it to the next cell")


def declared_parameters(spec: ReportSpec, home: Path) -> dict[str, DeclaredParameter]:
    """Join the notebook's parameters with the catalog's types; any mismatch is a :class:`ConfigError`."""
    notebook = spec.notebook_path(home)
    found = inspect_parameters(notebook)
    missing = sorted(set(found) - set(spec.parameters))
    extra = sorted(set(spec.parameters) - set(found))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"not in reports.yaml: {', '.join(missing)}")
        if extra:
            parts.append(f"not in the notebook: {', '.join(extra)}")
        raise _mismatch(spec, f"parameters differ between {spec.notebook} and reports.yaml ({'; '.join(parts)})")
    declared = {}
    for name, info in found.items():
        pspec = spec.parameters[name]
        inferred = info.get("inferred_type_name") or "None"
        if inferred not in _COMPATIBLE[pspec.type]:
            raise _mismatch(spec, f"parameter {name!r} is {pspec.type} in reports.yaml but its default in the notebook "
                                  f"is {inferred}")
        try:
            default = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            raise _mismatch(spec, f"the default of {name!r} must be a literal, not {info['default']}") from None
        if pspec.type not in ("bool", "str", "brand") and default not in (None, ""):
            # A run that leaves the parameter out uses the notebook's default: one the catalog refuses from
            # outside (min_events 0 where min is 5) would run unchecked.
            try:
                coerce(name, pspec, default)
            except ParameterError as exc:
                raise _mismatch(spec, f"the notebook's default of {name!r} is refused by reports.yaml "
                                      f"({exc.message.removeprefix(f'parameter {quoted(name)}: ')})") from None
        declared[name] = DeclaredParameter(name, pspec, default, pspec.help or info.get("help", ""))
    return declared


def _mismatch(spec: ReportSpec, what: str) -> ConfigError:
    """A disagreement between ``spec``'s notebook and reports.yaml: named by its report, in the text and the context
    (``quire validate`` reads the context to name each report once)."""
    return ConfigError(f"report {spec.id!r}: {what}", report=spec.id)


def _folded(text: str) -> str:
    """``text`` in lower case without accents (``Café`` → ``cafe``): how a name is misremembered."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def likely_meant(given: str, known: Iterable[str], most: int = 3) -> list[str]:
    """The known names ``given`` most likely meant, best first (none when nothing is close): those it is but for case
    or accents (``Month`` → ``month``, ``café-zurich-6`` → ``cafe-zurich-6``), else those it begins (``gran`` →
    ``granularity``; ``cafe-zurich`` → both ``cafe-zurich-6`` and ``cafe-zurich-7``, not one of them at random), else
    those that begin as it does for at least half its length and three letters (``grain`` → ``granularity``, not
    ``brand``, which shares more letters), else the nearest spellings; equally near ones all."""
    known = list(known)
    folded = _folded(given)
    for found in ([k for k in known if _folded(k) == folded],
                  [k for k in known if given and _folded(k).startswith(folded)]):
        if found:
            return found[:most]

    def ratio(k: str) -> float:
        return difflib.SequenceMatcher(None, folded, _folded(k)).ratio()

    shared = {k: len(os.path.commonprefix([folded, _folded(k)])) for k in known}
    begun = max(shared.values(), default=0)
    if begun >= max(3, len(folded) / 2):
        candidates = [k for k in known if shared[k] == begun]
    else:
        candidates = [k for k in known if ratio(k) >= 0.6]
    scored = sorted(((ratio(k), k) for k in candidates), key=lambda s: -s[0])
    return [k for r, k in scored if r == scored[0][0]][:most]


def closest(given: str, known: Iterable[str]) -> str | None:
    """The known name ``given`` most likely meant, when one stands out (:func:`likely_meant`), else None."""
    found = likely_meant(given, known)
    return found[0] if len(found) == 1 else None


def did_you_mean(given: str, known: Iterable[str]) -> str:
    """"did you mean 'x'? " (or "'x' or 'y'") naming the known names ``given`` most likely meant, or ""."""
    found = likely_meant(given, known)
    return f"did you mean {' or '.join(quoted(k) for k in found)}? " if found else ""


class KeySyntaxError(ParameterError):
    """A client or experiment key given with characters no key has (a name, a path, capitals): ``text``.

    Made by :meth:`of`; without the warehouse it suggests the key the text spells, which may name
    nothing, and :meth:`with_known` suggests from the keys and names the warehouse holds instead.
    """

    def __init__(self, message: str, *, parameter: str | None = None, kind: str = "client", text: str = "") -> None:
        # The message first and alone positional: an exception is unpickled (from the warm service) by its args.
        super().__init__(message, parameter=parameter)
        self.kind, self.text = kind, text

    @classmethod
    def of(cls, parameter: str, kind: str, text: str, meant: list[str], *, command: str | None = None) -> KeySyntaxError:
        """The error for ``text``, suggesting the keys ``meant``, else where to look them up (``command``)."""
        article = "an" if kind == "experiment" else "a"
        message = f"parameter {quoted(parameter)}: {quoted(text)} is not {article} {kind} key (lower-case letters, digits and dashes)"
        if meant:
            message += f"; did you mean {' or '.join(quoted(k) for k in meant)}?"
        elif command:
            message += f"; `{command}` lists them"
        return cls(message, parameter=parameter, kind=kind, text=text)

    def with_known(self, known: Iterable[tuple[str, str]], command: str) -> KeySyntaxError:
        """The same mistake, suggesting from ``known`` (key, name) pairs: the key whose name the text is (``Acme
        Corp`` → ``acme-corp``), else the keys nearest the key it spells; else where to look them up (``command``)."""
        known = list(known)
        text = " ".join(self.text.split())
        meant = [key for key, name in known if _folded(" ".join(name.split())) == _folded(text)]
        if not meant:
            keyed = _spelled_key(text)
            meant = likely_meant(keyed, [key for key, _ in known]) if keyed else []
        return KeySyntaxError.of(self.parameter or "", self.kind, self.text, meant[:3], command=command)

    def held_by(self, table: str, column: str, row_id: Any) -> WarehouseDataError:
        """The same text read from the warehouse's ``table`` (a client's slug, an experiment's key), where it is the
        warehouse's mistake rather than the caller's: which row, and the key to give it when the text spells one."""
        which = f"{self.kind} {row_id}" if row_id is not None else f"a {self.kind}"
        fix = _spelled_key(self.text)
        return WarehouseDataError(f"{which} in the {table} table has the {column} {quoted(self.text)}, which is not a "
                                  "key (lower-case letters, digits and dashes) that runs and their files can be named "
                                  f"by; fix {table}.{column} in the warehouse" + (f" (e.g. {quoted(fix)})" if fix else ""))


def _spelled_key(text: str) -> str:
    """The key ``text`` spells, as keys are made ("Checkout_Redésign" → checkout-redesign), or "" if none."""
    from quire.formatting.text import slug  # only for a mistake: the formatting package loads Babel

    keyed = slug(text)
    return keyed if keyed and _KEY.match(keyed) else ""


def _fail(name: str, value: Any, expected: str) -> ParameterError:
    return ParameterError(f"parameter {quoted(name)}: {quoted(value)} is not {expected}", parameter=name)


def coerce(name: str, spec: ParameterSpec, value: Any) -> Any:
    """Convert one outside value to the declared type, checking range and choices."""
    kind = spec.type
    if kind in ("int", "float"):
        if isinstance(value, bool):
            raise _fail(name, value, f"a number ({kind})")
        # int("٣") is 3 and int("1_2") is 12: digits people type in a run are 0-9, and "1_2" is a typo.
        if isinstance(value, str) and (not value.isascii() or "_" in value):
            raise _fail(name, value, "a whole number" if kind == "int" else "a number")
        try:
            number = int(value) if kind == "int" else float(value)
        except (TypeError, ValueError, OverflowError):  # int(1e400): a JSON number past a float is infinity
            raise _fail(name, value, "a whole number" if kind == "int" else "a number") from None
        if kind == "int" and isinstance(value, float) and not value.is_integer():
            raise _fail(name, value, "a whole number")
        if not math.isfinite(number):  # NaN passes every min/max comparison; infinity is no setting either
            raise _fail(name, value, "a finite number")
        if (spec.min is not None and number < spec.min) or (spec.max is not None and number > spec.max):
            low, high = (None if v is None else f"{v:,.0f}" if float(v).is_integer() else f"{v:g}"  # 1,000,000 not 1e+06
                         for v in (spec.min, spec.max))
            bounds = f"between {low} and {high}" if low is not None and high is not None else (
                f"at least {low}" if low is not None else f"at most {high}")
            raise ParameterError(f"parameter {quoted(name)}: {number} is out of range; use a value {bounds}", parameter=name)
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "yes", "1", "on"}:
            return True
        if text in {"false", "no", "0", "off"}:
            return False
        raise _fail(name, value, "a boolean; use true or false")
    text = str(value).strip()
    if kind == "period":
        if len(text) > 20:  # longer than any period: not worth parsing, nor quoting whole
            raise _fail(name, text, "a period; use YYYY-MM, YYYY-Qn, YYYY or 'latest'")
        parse_period(text, parameter=name)
        return text
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise _fail(name, value, "a date; use YYYY-MM-DD") from None
    if kind == "choice":
        assert spec.choices is not None
        if text not in spec.choices:
            raise ParameterError(f"parameter {quoted(name)}: {quoted(text)} is not allowed; "
                                 f"{did_you_mean(text, spec.choices)}choose one of "
                                 f"{', '.join(spec.choices)}", parameter=name)
        return text
    if kind in ("client", "experiment"):
        if kind == "experiment" and text.lower() == LATEST:
            return LATEST  # any case, as a period's "latest"
        # Only the syntax here; pipeline.resolve_data_parameters checks the warehouse has it.
        if text and not _KEY.match(text):
            # The key the text spells, as keys are made ("Checkout_Redésign" → checkout-redesign); a name with spaces
            # is a name, whose key may differ from its spelling.
            keyed = "" if any(c.isspace() for c in text) else _spelled_key(text)
            raise KeySyntaxError.of(name, kind, text, [keyed] if keyed else [])
        return text
    if kind == "brand":
        from quire.brand import list_brands
        from quire.config import get_settings

        brands = list_brands(get_settings().templates_dir)
        if text not in brands:
            raise ParameterError(f"parameter {quoted(name)}: no brand kit {quoted(text)}; choose one of {', '.join(brands)}",
                                 parameter=name)
        return text
    if not text or len(text) > 200:
        raise _fail(name, value, "a non-empty text of at most 200 characters")
    return text


def validate_parameters(report: str, declared: dict[str, DeclaredParameter], given: dict[str, Any]) -> dict[str, Any]:
    """All parameters of a run: the notebook's defaults overridden by ``given``, each checked and typed."""
    for name in given:
        if name not in declared:
            close = closest(name, declared)
            hint = f"; did you mean '{close}'?" if close else ""
            known = ", ".join(sorted(declared)) or "none"
            raise ParameterError(f"unknown parameter {quoted(name)} for report '{report}'{hint} (known: {known})", parameter=name)
    values = {name: d.default for name, d in declared.items()}
    values.update({name: coerce(name, declared[name].spec, value) for name, value in given.items()})
    return values


def parse_assignments(pairs: list[str], example: str = "-p period=2026-10") -> dict[str, str]:
    """``["period=2026-10", "n=3"]`` -> dict; a malformed pair is a :class:`ParameterError`.

    ``example`` shows, in that error, how the option the pairs came from is written.
    """
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(f"cannot read {quoted(pair)}; write it as name=value (e.g. {example})")
        if name in result:
            raise ParameterError(f"parameter {quoted(name)} is given twice", parameter=name)
        result[name] = value
    return result
