"""YAML for Quire's own files (catalog, brand kits, glossary, data mappings): libyaml's speed, PyYAML's messages."""

from __future__ import annotations

from typing import Any

import yaml

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # PyYAML's wheels include libyaml; a source build may not


class _NoDuplicates:
    """A mapping that names a key twice is an error: YAML loaders keep the last silently, so a second
    ``executive:`` entry of the catalog replaced the first without a word."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the base constructor says so
                break
            if duplicate:
                raise yaml.constructor.ConstructorError("while reading a mapping", node.start_mark,
                                                        f"found the key {key!r} twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


class _FastLoader(_NoDuplicates, _BASE):
    pass


class _PlainLoader(_NoDuplicates, yaml.SafeLoader):
    pass


_FAST = _FastLoader


def safe_load(text: str) -> Any:
    """What ``yaml.safe_load(text)`` returns, parsed by libyaml when PyYAML has it.

    libyaml parses the catalog nine times as fast as PyYAML's own parser (1 ms against 9),
    and every run reads the catalog and a brand kit or two. A document it refuses is
    parsed again by PyYAML, whose error says more (it names the character it cannot read)
    and which raises the same :class:`yaml.YAMLError` types with line and column.
    """
    try:
        try:
            return yaml.load(text, Loader=_FAST)  # noqa: S506 - a safe loader
        except yaml.YAMLError:
            if _BASE is yaml.SafeLoader:
                raise
            return yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - a safe loader
    except RecursionError:  # a thousand nested [[[…]]]: no configuration Quire reads nests like that
        raise yaml.YAMLError("it nests lists or mappings too deeply to be read") from None
