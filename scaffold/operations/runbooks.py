"""Operator runbooks: Markdown documents whose steps the toolkit can execute.

Format (README "Runbooks"): the first ``#`` heading is the title; each ``##`` heading is one
step (an optional leading ``N.`` must equal its position); the step's fenced blocks tagged
``sh``, ``bash`` or ``shell`` are its commands, other fences are illustrations. HTML comments
``<!-- key: value -->`` carry the markers: ``requires: docker`` (or any program name) under a
step heading, and ``project: new`` before the first step for a runbook that creates the
project. The Markdown is parsed with markdown-it-py, so fences, headings and comments are
recognised exactly as a Markdown renderer would.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from scaffold.errors import ScaffoldError, UsageError

__all__ = [
    "COMMAND_LANGUAGES",
    "DIRECTORY_VARIABLE",
    "Runbook",
    "RunbookFormatError",
    "Step",
    "load_all",
    "load_runbook",
    "parse_runbook",
    "runbook_names",
]

DIRECTORY_VARIABLE = "ROBYN_CONFIG_RUNBOOKS"
COMMAND_LANGUAGES = frozenset({"sh", "bash", "shell"})
STEP_LEVEL = "h2"
TITLE_LEVEL = "h1"

_MARKER = re.compile(r"<!--\s*(?P<key>[a-z-]+)\s*:\s*(?P<value>[^>]*?)\s*-->")
_NUMBERED = re.compile(r"(?P<number>\d+)\.\s+(?P<title>.+)")


class RunbookFormatError(ScaffoldError):
    """A runbook does not follow the format; names the file and what is wrong."""


@dataclass(frozen=True)
class Step:
    """One heading of a runbook: its commands run together in one shell."""

    number: int
    title: str
    commands: tuple[str, ...]
    requires: tuple[str, ...] = ()

    @property
    def script(self) -> str:
        return "\n".join(command.rstrip("\n") for command in self.commands)


@dataclass(frozen=True)
class Runbook:
    """A parsed runbook: ``name`` is its file name without ``.md``."""

    name: str
    title: str
    source: str
    steps: tuple[Step, ...]
    creates_project: bool = False


@dataclass
class _Draft:
    title: str
    commands: list[str]
    requires: list[str]


def parse_runbook(name: str, source: str) -> Runbook:
    """Parse a runbook's Markdown; raise RunbookFormatError when it breaks the format."""
    from markdown_it import MarkdownIt  # imported on use: only runbook commands pay for it

    tokens = MarkdownIt("commonmark").parse(source)
    title: str | None = None
    creates_project = False
    drafts: list[_Draft] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            text = tokens[index + 1].content.strip()
            if token.tag == TITLE_LEVEL and title is None:
                title = text
            elif token.tag == STEP_LEVEL:
                drafts.append(_Draft(_step_title(name, text, len(drafts) + 1), [], []))
        elif token.type == "fence":
            language = token.info.strip().split(" ")[0] if token.info else ""
            if language in COMMAND_LANGUAGES and drafts:
                drafts[-1].commands.append(token.content)
        elif token.type == "html_block":
            for marker in _MARKER.finditer(token.content):
                key, value = marker["key"], marker["value"]
                if key == "requires" and drafts:
                    drafts[-1].requires.extend(v.strip() for v in value.split(",") if v.strip())
                elif key == "project" and value == "new" and not drafts:
                    creates_project = True
                else:
                    raise RunbookFormatError(
                        f"Runbook {name!r} has an unknown marker <!-- {key}: {value} -->; "
                        "use 'requires: PROGRAM' under a step heading or 'project: new' "
                        "before the first step."
                    )
    if title is None:
        raise RunbookFormatError(f"Runbook {name!r} has no '# Title' heading.")
    if not drafts:
        raise RunbookFormatError(f"Runbook {name!r} has no '## Step' heading.")
    steps = tuple(
        Step(number, draft.title, tuple(draft.commands), tuple(draft.requires))
        for number, draft in enumerate(drafts, start=1)
    )
    return Runbook(name, title, source, steps, creates_project)


def _step_title(name: str, text: str, position: int) -> str:
    match = _NUMBERED.fullmatch(text)
    if match is None:
        return text
    if int(match["number"]) != position:
        raise RunbookFormatError(
            f"Runbook {name!r}: the heading {text!r} is step {position}; "
            f"number it {position} or leave the number out."
        )
    return match["title"]


def _directory() -> Traversable:
    """$ROBYN_CONFIG_RUNBOOKS, else the packaged runbooks (wheel), else the checkout's."""
    if override := os.environ.get(DIRECTORY_VARIABLE):
        return Path(override)
    packaged = files("scaffold").joinpath("runbooks_data")
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "runbooks"


def _files() -> dict[str, Traversable]:
    directory = _directory()
    if not directory.is_dir():
        return {}
    return {
        entry.name.removesuffix(".md"): entry
        for entry in sorted(directory.iterdir(), key=lambda entry: entry.name)
        if entry.name.endswith(".md") and entry.is_file()
    }


def runbook_names() -> list[str]:
    return list(_files())


def load_runbook(name: str) -> Runbook:
    """The runbook called ``name``; an unknown name is a usage error listing the names."""
    found = _files()
    if name not in found:
        names = ", ".join(found) or "(none installed)"
        raise UsageError(f"Unknown runbook {name!r}; the runbooks are: {names}.")
    return parse_runbook(name, found[name].read_text(encoding="utf-8"))


def load_all() -> list[Runbook]:
    found = _files().items()
    return [parse_runbook(name, entry.read_text(encoding="utf-8")) for name, entry in found]
