"""How quire serve sends static files: gzip only where the browser accepts it, versions that follow the files."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from quire.serve.assets import CONTENT_HASHED, accepts_gzip, file_version, folders_version


@pytest.mark.parametrize(("header", "expected"), [
    ("gzip, deflate, br, zstd", True), ("deflate, gzip;q=0.5", True), ("*", True), ("", False), ("br", False),
    ("gzip;q=0", False), ("gzip; q=0.000, deflate", False), ("identity", False)])
def test_gzip_only_when_accepted(header, expected):
    assert accepts_gzip(SimpleNamespace(headers={"Accept-Encoding": header})) is expected


def test_versions_change_with_the_files(tmp_path):
    (tmp_path / "a.js").write_text("one")
    folder, file = folders_version([str(tmp_path)], salt="0.5.13"), file_version(tmp_path / "a.js")
    assert folders_version([str(tmp_path)], salt="0.5.14") != folder
    (tmp_path / "a.js").write_text("two")
    os.utime(tmp_path / "a.js", ns=(1, 1))
    assert folders_version([str(tmp_path)], salt="0.5.13") != folder and file_version(tmp_path / "a.js") != file


@pytest.mark.parametrize(("name", "hashed"), [
    ("remoteEntry.c8c9eed2cdefdeac.js", True), ("327.8166aeb81cfb2c0ff2f1.js", True), ("style.js", False),
    ("package.json", False), ("remoteEntry.js", False)])
def test_only_content_hashed_chunks_count_as_immutable(name, hashed):
    assert bool(CONTENT_HASHED.fullmatch(name)) is hashed
