"""The three-way merge add-fields uses for a generated file the operator changed."""

from __future__ import annotations

import pytest

from scaffold.sources.three_way import merge_text

BASE = "a\nb\nc\nd\ne\nf\n"


def test_the_change_from_base_to_theirs_lands_in_ours() -> None:
    ours = BASE.replace("a\n", "a  # mine\n")
    theirs = BASE.replace("e\n", "e\nnew\n")
    assert merge_text(ours, BASE, theirs) == "a  # mine\nb\nc\nd\ne\nnew\nf\n"


def test_overlapping_changes_are_no_merge() -> None:
    assert merge_text(BASE.replace("c", "mine"), BASE, BASE.replace("c", "theirs")) is None


def test_one_side_unchanged_is_the_other() -> None:
    assert merge_text(BASE, BASE, "x\n") == "x\n"
    assert merge_text("x\n", BASE, BASE) == "x\n"


def test_without_git_there_is_no_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert merge_text("x\n" + BASE, BASE, BASE + "y\n") is None
