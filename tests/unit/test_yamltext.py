"""Quire's YAML reading: libyaml's parse, PyYAML's result and messages."""

from __future__ import annotations

import pytest
import yaml

from quire import yamltext
from quire.config import PROJECT_ROOT


@pytest.mark.parametrize("path", ["reports.yaml", "lib/quire/glossary.yaml", "templates/brands/quire/brand.yaml"])
def test_quire_files_parse_as_pyyaml_parses_them(path):
    text = (PROJECT_ROOT / path).read_text(encoding="utf-8")
    assert yamltext.safe_load(text) == yaml.safe_load(text)


def test_libyaml_does_the_parsing():
    assert issubclass(yamltext._FAST, yaml.CSafeLoader)  # PyPI's wheels of PyYAML include libyaml


@pytest.mark.parametrize("text", ["a: 1\na: 2\n", "reports:\n  executive: {}\n  client: {}\n  executive: {}\n"])
def test_a_key_named_twice_is_an_error_at_its_line(text):
    # Loaders keep the last silently: a second `executive:` entry replaced the first without a word.
    with pytest.raises(yaml.YAMLError, match=r"found the key '(a|executive)' twice") as error:
        yamltext.safe_load(text)
    assert error.value.problem_mark.line == text.count("\n") - 1


@pytest.mark.parametrize("text", ["a: 1\n\tb: 2\n", "key: [1, 2\n", 'x: "open\n', "a: b: c\n"])
def test_a_broken_document_raises_pyyamls_own_error(text):
    with pytest.raises(yaml.YAMLError) as ours:
        yamltext.safe_load(text)
    with pytest.raises(yaml.YAMLError) as theirs:
        yaml.safe_load(text)
    assert str(ours.value) == str(theirs.value)


def test_the_message_names_the_character_it_cannot_read():
    with pytest.raises(yaml.YAMLError, match=r"found character '\\t' that cannot start any token"):
        yamltext.safe_load("a: 1\n\tb: 2\n")


def test_unsafe_tags_are_refused():
    with pytest.raises(yaml.YAMLError):
        yamltext.safe_load("!!python/object/apply:os.system ['true']")
