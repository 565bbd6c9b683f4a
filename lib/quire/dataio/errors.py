"""The errors of an import, a view mapping or an export."""

from __future__ import annotations

from quire.errors import QuireError


class DataError(QuireError):
    """A source file, row or value cannot become a Quire table: says which file, row, column and why."""
