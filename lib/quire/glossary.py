"""The one glossary of metric definitions, rendered as each report's appendix."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from quire import yamltext
from quire.display import Glossary
from quire.formatting import localise_figures

_PATH = Path(__file__).with_name("glossary.yaml")


@lru_cache(maxsize=1)
def definitions() -> dict[str, dict[str, str]]:
    """All entries: key -> {term, definition}."""
    return yamltext.safe_load(_PATH.read_text(encoding="utf-8"))


def glossary(keys: list[str], title: str = "Appendix: metric definitions") -> Glossary:
    """The appendix for a report that shows the metrics ``keys`` (in that order)."""
    entries = definitions()
    unknown = [k for k in keys if k not in entries]
    if unknown:
        raise KeyError(f"glossary has no entry for {', '.join(unknown)}")
    # The definitions are written with en-US figures ("1,000 views", "95%"): shown as the run writes figures.
    return Glossary([(entries[k]["term"], localise_figures(entries[k]["definition"])) for k in keys], title=title)
