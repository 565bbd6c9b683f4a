"""What is wrong in a file a user wrote (the catalog, a brand kit, an import mapping), in the user's words.

pydantic's own messages speak Python ("Input should be a valid tuple", "Extra inputs are not
permitted"), and a misspelt key comes out as two problems, the right key "missing" first: a
user reading only that looks for a key that is plainly there. Here a misspelt key is one
problem that names the key it was probably meant to be, an unknown key lists the keys allowed
where it stands, a list given as a single value says how to write the list, a value outside its
choices names them, a value of the wrong kind says what kind to write ("should be a whole number",
not "a valid integer, unable to parse string as an integer"; :func:`requirement`, which the
``QUIRE_*`` settings' messages use too), and a key-like value says in words (not as a regular
expression) what it should be.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Collection
from typing import Any

from pydantic import BaseModel, ValidationError

MISSING = "required key is missing"
#: Longest piece of outside text an error message quotes; the rest is cut (a message stays one readable line).
QUOTE_LIMIT = 60

#: What the patterns of the keys users write ask for, in words (see :func:`worded`).
_PATTERN_WORDS: dict[str, str] = {}


def worded(pattern: str, words: str) -> str:
    """``pattern`` (for a pydantic field), with the ``words`` a mistake against it is told in: "<value> should
    <words>", e.g. "be lower-case letters and digits"."""
    _PATTERN_WORDS[pattern] = words
    return pattern


def quoted(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as an error message shows it: quoted, control characters escaped (no raw newline), cut to ``limit``."""
    text = str(value)
    return repr(text[:limit] + "…" if len(text) > limit else text)


def yaml_found(value: Any) -> str:
    """What a YAML document holds instead of the mapping it should, in the words of someone who wrote it."""
    if value is None:
        return "nothing (the file is empty)"
    if isinstance(value, list):
        return "a list (lines starting with '-')"
    return f"a single value ({quoted(value, 40)})"


def describe(exc: ValidationError, model: type[BaseModel], *, keep: Callable[[Any], bool] = lambda part: True,
             hidden: Collection[str] = ()) -> list[tuple[tuple, str]]:
    """(path, message) for each problem of ``exc``, raised validating ``model``, in pydantic's order.

    ``path`` holds the user's keys (the parts of pydantic's location that ``keep`` accepts): for an
    unknown key, the path of the mapping it stands in. ``hidden`` are fields the user does not write
    (filled in by the loader), never suggested.
    """
    errors = [(tuple(p for p in e["loc"] if keep(p)), e) for e in exc.errors()]
    missing = {path for path, e in errors if e["type"] == "missing"}
    found: list[tuple[tuple, str]] = []
    meant: set[tuple] = set()
    for path, error in errors:
        if error["type"] == "extra_forbidden" and path:
            parent, key = path[:-1], str(path[-1])
            allowed = [k for k in _keys_at(model, parent) if k not in hidden]
            # Stricter than a parameter's near name: a key one or two letters off (not 'tertiary' for 'primary').
            close = next(iter(difflib.get_close_matches(key, allowed, n=1, cutoff=0.75)), None)
            if close and (*parent, close) in missing:
                meant.add((*parent, close))  # the same slip, said once: as the misspelt key
            found.append((parent, f"unknown key '{key}'" + (f" (did you mean '{close}'?)" if close else
                                                            f" (allowed: {', '.join(allowed)})" if allowed else "")))
        elif error["type"] == "missing":
            found.append((path, MISSING))
        elif error["type"] in ("list_type", "tuple_type", "set_type"):
            found.append((path, f"should be a list in brackets, e.g. [{_example(error.get('input'))}]"))
        elif error["type"] in ("dict_type", "model_type", "model_attributes_type"):
            found.append((path, "should be a mapping of keys to values, e.g. {key: value} or one 'key: value' per "
                                "line indented below it"))
        elif error["type"] == "literal_error":
            found.append((path, f"{_shown(error.get('input'))} is not allowed; use {error['ctx']['expected']}"))
        elif error["type"] == "string_pattern_mismatch" and error["ctx"]["pattern"] in _PATTERN_WORDS:
            found.append((path, f"{_shown(error.get('input'))} should {_PATTERN_WORDS[error['ctx']['pattern']]}"))
        else:
            found.append((path, _plain(error)))
    return [(path, message) for path, message in found if not (message == MISSING and path in meant)]


#: What a value of each of pydantic's basic types is, in the words of someone writing a file or a setting
#: (pydantic's own: "a valid integer, unable to parse string as an integer").
_TYPE_WORDS = {
    **dict.fromkeys(("bool_parsing", "bool_type"), "be true or false"),
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float"), "be a whole number"),
    **dict.fromkeys(("float_parsing", "float_type"), "be a number"),
    "string_type": "be text",
    **dict.fromkeys(("date_parsing", "date_type", "date_from_datetime_parsing", "date_from_datetime_inexact"),
                    "be a date such as 2026-11-01"),
    **dict.fromkeys(("datetime_parsing", "datetime_type", "datetime_from_date_parsing"),
                    "be a time such as 2026-11-01T08:00"),
}


def requirement(error: Any) -> str:
    """What one pydantic ``error`` asks of its value, without naming the value: "should be a whole number",
    "should be less than or equal to 65535", or a validator's own message."""
    given, kind = error.get("input"), error["type"]
    if kind in _TYPE_WORDS and isinstance(given, (list, dict)):  # a list or a mapping where one value belongs
        return f"should {_TYPE_WORDS[kind]}, not {'a list' if isinstance(given, list) else 'a mapping'}"
    if kind == "string_type":  # YAML read the text as a number, a date or a boolean
        return "should be text (in quotes if it looks like a number, a date or true/false)"
    if kind in _TYPE_WORDS:
        return f"should {_TYPE_WORDS[kind]}"
    message = error["msg"].removeprefix("Value error, ")  # the prefix of a validator's own message
    for noun in ("Input should ", "String should "):
        if message.startswith(noun):
            return "should " + message.removeprefix(noun)
    return message


def _plain(error: Any) -> str:
    """pydantic's own message for ``error``, about the value given rather than "Input" or "String"."""
    wanted = requirement(error)
    given = error.get("input")
    if wanted.startswith("should ") and isinstance(given, (str, int, float)):
        return f"{_shown(given)} {wanted}"
    return wanted


def _shown(given: object) -> str:
    """A value as a message quotes it: text in quotes and cut short, anything else as YAML writes it."""
    if isinstance(given, str):
        return quoted(given)
    if isinstance(given, bool):
        return "true" if given else "false"
    return "nothing" if given is None else str(given)


def _example(given: object) -> str:
    if isinstance(given, (str, int, float)) and not isinstance(given, bool) and str(given).strip():
        return ", ".join(part.strip() for part in str(given).split(",") if part.strip())
    return "a, b"


def _keys_at(model: type[BaseModel], path: tuple) -> list[str]:
    """The keys a user may write in the mapping at ``path`` of ``model`` (none known: empty)."""
    annotation: Any = model
    for part in path:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    found = _model_in(annotation)
    return [field.alias or name for name, field in found.model_fields.items()] if found else []


def _step(annotation: Any, part: Any) -> Any:
    """The annotation one key or index below ``annotation``."""
    found = _model_in(annotation)
    if found is not None:
        fields = {field.alias or name: field for name, field in found.model_fields.items()}
        return fields[part].annotation if part in fields else None
    annotation = _unwrapped(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin in (list, tuple, set, frozenset) and args and isinstance(part, int):
        return args[0]
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model ``annotation`` is, or the first model of its union (``Spec | None``)."""
    annotation = _unwrapped(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return next((m for m in map(_model_in, typing.get_args(annotation)) if m is not None), None)
    return None


def _unwrapped(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation
