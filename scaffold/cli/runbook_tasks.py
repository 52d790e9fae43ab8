"""The `runbook` task collection: ``runbook list | show NAME | run NAME ...``.

`scaffold.cli.program` lets operators type ``runbook list`` for invoke's ``runbook.list``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from scaffold.cli.console import ConsoleReporter
from scaffold.cli.edge import edge
from scaffold.errors import UsageError

__all__ = ["runbook_collection"]

_edge = edge(interrupted="Interrupted.")


def _name(value: str) -> str:
    if value.startswith("-"):
        raise UsageError(f"Unknown option {value!r} (or a runbook NAME starting with '-').")
    return value


def _step_number(value: str) -> int:
    # Parsed here rather than by invoke, whose int conversion fails with a traceback.
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"--from-step needs a step number, not {value!r}.") from None


@task(name="list")
@_edge
def list_(c: Context) -> None:
    """List the runbooks: name and title."""
    from scaffold.operations.runbooks import load_all

    runbooks = load_all()
    width = max((len(runbook.name) for runbook in runbooks), default=0)
    for runbook in runbooks:
        print(f"{runbook.name:<{width}}  {runbook.title} ({len(runbook.steps)} steps)")


@task(positional=["name"], help={"name": "The runbook's name, as 'runbook list' shows it."})
@_edge
def show(c: Context, name: str) -> None:
    """Show a runbook (rendered on a terminal, its Markdown otherwise)."""
    from scaffold.operations.runbooks import load_runbook

    runbook = load_runbook(_name(name))
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(runbook.source))
    else:
        sys.stdout.write(runbook.source)


@task(
    positional=["name"],
    auto_shortflags=False,
    help={
        "name": "The runbook's name, as 'runbook list' shows it.",
        "project": "The service's directory; PROJECT in the steps (default: the current "
        "directory). A runbook that creates the service creates it there.",
        "from-step": "Start at step N (default: 1); resume after a failure there.",
        "dry-run": "Print the steps and their commands; run nothing.",
    },
)
@_edge
def run(
    c: Context, name: str, project: str = ".", from_step: str = "1", dry_run: bool = False
) -> None:
    """Run a runbook's steps in order; stop at the first failing step."""
    from scaffold.operations.runbook_runner import StepStatus, run_runbook
    from scaffold.operations.runbooks import load_runbook

    runbook = load_runbook(_name(name))
    reporter = ConsoleReporter()
    if dry_run:
        reporter.note(f"Dry run of {runbook.name!r}: nothing will be run.")
    result = run_runbook(
        runbook=runbook,
        project=Path(project),
        reporter=reporter,
        from_step=_step_number(from_step),
        dry_run=dry_run,
    )
    if dry_run:
        return
    skipped: dict[str, list[str]] = {}
    for outcome in result.outcomes:
        if outcome.status is StepStatus.SKIPPED:
            skipped.setdefault(outcome.reason, []).append(str(outcome.step.number))
    summary = f"Runbook {runbook.name!r} done in {result.project}: "
    summary += f"{result.count(StepStatus.PASSED)} passed, {result.count(StepStatus.SKIPPED)} "
    summary += "skipped"
    for reason, numbers in skipped.items():
        summary += f"; {'steps' if len(numbers) > 1 else 'step'} {', '.join(numbers)}: {reason}"
    reporter.note(summary + ".")


runbook_collection = Collection("runbook", list_, show, run)
