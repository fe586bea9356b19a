"""The report's templates compiled once and kept: a page renders the same with the cache as without,
an edited template is compiled again, and a cache folder that cannot be written is done without."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest

import servingmatrix.report.html as html


def test_the_cache_lives_in_the_project_cache_and_keeps_compiled_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(html, "cache_dir", lambda: tmp_path / "cache")
    cache = html._bytecode_cache()
    assert isinstance(cache, jinja2.FileSystemBytecodeCache)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.j2").write_text("{{ a }} and {{ b }}")
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), bytecode_cache=cache)
    assert environment.get_template("page.j2").render(a=1, b=2) == "1 and 2"
    kept = list((tmp_path / "cache" / "jinja").iterdir())
    assert len(kept) == 1
    # A fresh environment (a new process) reads it back; an edited template is compiled anew.
    again = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates), bytecode_cache=html._bytecode_cache()
    )
    assert again.get_template("page.j2").render(a=1, b=2) == "1 and 2"
    (templates / "page.j2").write_text("{{ b }} then {{ a }}")
    edited = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates), bytecode_cache=html._bytecode_cache()
    )
    assert edited.get_template("page.j2").render(a=1, b=2) == "2 then 1"


def test_a_folder_that_cannot_be_written_means_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a user without write access sees it (root writes through permissions, so ask the check).
    monkeypatch.setattr(html, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert html._bytecode_cache() is None


def test_a_cache_folder_that_is_a_file_means_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cache").write_text("not a folder")
    monkeypatch.setattr(html, "cache_dir", lambda: tmp_path / "cache")
    assert html._bytecode_cache() is None
