"""Runbooks: parsing (headings, fences, markers), the shipped runbooks, and the runner."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from scaffold.cli.console import ConsoleReporter
from scaffold.errors import UsageError
from scaffold.operations.runbook_runner import (
    RunbookInterrupted,
    RunResult,
    StepFailed,
    StepStatus,
    run_runbook,
)
from scaffold.operations.runbooks import (
    Runbook,
    RunbookFormatError,
    load_all,
    load_runbook,
    parse_runbook,
    runbook_names,
)

SAMPLE = """\
# Sample runbook

Intro text with an illustration that is not run:

```text
not a command
```

<!-- project: new -->

## 1. First step

```sh
echo one
```

## 2. Second step

<!-- requires: docker, curl -->

```bash
echo two
echo three
```

```toml
[not] = "run"
```

### A sub-heading stays in its step

```shell
echo four
```

## Notes without commands
"""

EXPECTED_RUNBOOKS = {
    "add-entity",
    "create-service",
    "migrations",
    "operations",
    "rollback",
    "workflow",
}


def runbook(*steps: str, name: str = "fake") -> Runbook:
    """A runbook whose steps run the given shell lines."""
    body = "".join(f"## Step {n}\n\n```sh\n{command}\n```\n\n" for n, command in enumerate(steps))
    return parse_runbook(name, f"# Fake\n\n{body}")


def run(
    book: Runbook, project: Path, *, from_step: int = 1, dry_run: bool = False
) -> tuple[str, RunResult]:
    stream = io.StringIO()
    result = run_runbook(
        runbook=book,
        project=project,
        reporter=ConsoleReporter(stream),
        from_step=from_step,
        dry_run=dry_run,
    )
    return stream.getvalue(), result


# Parsing -------------------------------------------------------------------------------------


def test_headings_become_steps_and_sh_fences_their_commands() -> None:
    parsed = parse_runbook("sample", SAMPLE)
    assert parsed.title == "Sample runbook"
    assert [step.title for step in parsed.steps] == [
        "First step",
        "Second step",
        "Notes without commands",
    ]
    assert [step.number for step in parsed.steps] == [1, 2, 3]
    assert parsed.steps[0].commands == ("echo one\n",)
    assert parsed.steps[1].script == "echo two\necho three\necho four"
    assert parsed.steps[2].commands == ()


def test_markers_requires_per_step_and_project_new() -> None:
    parsed = parse_runbook("sample", SAMPLE)
    assert parsed.creates_project
    assert parsed.steps[0].requires == ()
    assert parsed.steps[1].requires == ("docker", "curl")
    assert not runbook("true").creates_project


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("## 1. Step\n\n```sh\ntrue\n```\n", "no '# Title'"),
        ("# Title\n\nNo steps.\n", "no '## Step'"),
        ("# T\n\n## 2. Wrong number\n\n```sh\ntrue\n```\n", "is step 1"),
        ("# T\n\n## Step\n\n<!-- require: docker -->\n", "unknown marker"),
    ],
)
def test_format_errors_name_the_runbook(source: str, fragment: str) -> None:
    with pytest.raises(RunbookFormatError, match="'broken'") as caught:
        parse_runbook("broken", source)
    assert fragment in caught.value.message


def test_every_shipped_runbook_parses_and_has_commands() -> None:
    runbooks = load_all()
    assert {book.name for book in runbooks} == EXPECTED_RUNBOOKS
    for book in runbooks:
        assert book.title and book.steps, book.name
        assert any(step.commands for step in book.steps), book.name
        assert all(step.commands for step in book.steps), f"{book.name}: a step without commands"
        # A run ends by re-checking that it reached its state.
        last = book.steps[-1].script
        assert "doctor" in last or "git status --porcelain" in last, book.name


def test_workflow_follows_the_suggested_order_and_commits_before_add() -> None:
    workflow = load_runbook("workflow")
    scripts = [step.script for step in workflow.steps]
    order = [
        "robyn-config create",
        "make check",
        "make makemigration MIGRATION_MESSAGE=init",
        "make run.dev",
        "robyn-config add",
        "MIGRATION_MESSAGE=add_product",
        "make run.compose",
        "robyn-config doctor",
    ]
    positions = [next(i for i, s in enumerate(scripts) if phrase in s) for phrase in order]
    assert positions == sorted(positions)
    # The migration bootstrap commits, so that add finds a clean work tree.
    assert "git commit" in scripts[positions[2]]
    compose = workflow.steps[positions[6]]
    assert compose.requires == ("docker",)
    assert workflow.creates_project


def test_unknown_runbook_lists_the_names() -> None:
    with pytest.raises(UsageError) as caught:
        load_runbook("nope")
    assert "'nope'" in caught.value.message
    for name in runbook_names():
        assert name in caught.value.message


def test_runbooks_directory_can_be_overridden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mine.md").write_text("# Mine\n\n## Only\n\n```sh\ntrue\n```\n")
    monkeypatch.setenv("ROBYN_CONFIG_RUNBOOKS", str(tmp_path))
    assert runbook_names() == ["mine"]


# The runner ----------------------------------------------------------------------------------


def test_steps_run_in_order_with_a_counter_in_the_project(tmp_path: Path) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    book = runbook('echo "$PROJECT_NAME" > seen', 'test "$PWD" = "$PROJECT"', "true")
    output, result = run(book, project)
    assert (project / "seen").read_text() == "svc\n"
    assert "[1/3] Step 0 ..." in output
    assert "[3/3] Step 2: done in" in output
    assert output.index("[1/3]") < output.index("[2/3]") < output.index("[3/3]")
    assert result.count(StepStatus.PASSED) == 3


def test_failing_step_stops_with_its_command_and_output_tail(tmp_path: Path) -> None:
    lines = "; ".join(f"echo line{n}" for n in range(50))
    book = runbook("true", f"{lines}; false", "touch never")
    with pytest.raises(StepFailed) as caught:
        run(book, tmp_path)
    message = caught.value.message
    assert caught.value.exit_code == 1
    assert "Step 2/3" in message and "--from-step 2" in message
    assert not (tmp_path / "never").exists()


def test_failure_output_shows_command_and_last_lines(tmp_path: Path) -> None:
    lines = "; ".join(f"echo line{n}" for n in range(50))
    book = runbook(f"{lines}; false")
    stream = io.StringIO()
    with pytest.raises(StepFailed):
        run_runbook(runbook=book, project=tmp_path, reporter=ConsoleReporter(stream))
    output = stream.getvalue()
    assert "$ echo line0" in output  # the command
    assert "line49" in output and "line10\n" not in output  # only the end of its output


def test_from_step_resumes_there(tmp_path: Path) -> None:
    book = runbook("touch one", "touch two", "touch three")
    output, _ = run(book, tmp_path, from_step=2)
    assert not (tmp_path / "one").exists()
    assert (tmp_path / "two").exists() and (tmp_path / "three").exists()
    assert "[1/3]" not in output and "[2/3]" in output


def test_dry_run_runs_nothing(tmp_path: Path) -> None:
    book = runbook("touch one", "false")
    output, result = run(book, tmp_path, dry_run=True)
    assert list(tmp_path.iterdir()) == []
    assert "[1/2] Step 0" in output and "    touch one" in output and "    false" in output
    assert result.count(StepStatus.PLANNED) == 2


def _fake_program(directory: Path, name: str, exit_code: int) -> None:
    directory.mkdir(exist_ok=True)
    program = directory / name
    program.write_text(f"#!/bin/sh\nexit {exit_code}\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)


def test_step_needing_docker_is_skipped_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_bin = tmp_path / "bin"
    _fake_program(fake_bin, "docker", 1)  # `docker info` fails: no engine
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    book = parse_runbook(
        "compose",
        "# C\n\n## Compose\n\n<!-- requires: docker -->\n\n```sh\ntouch ran\n```\n"
        "## After\n\n```sh\ntouch after\n```\n",
    )
    output, result = run(book, tmp_path)
    assert not (tmp_path / "ran").exists() and (tmp_path / "after").exists()
    assert "[1/2] Compose: skipped, requires a Docker engine and 'docker info' failed" in output
    outcome = result.outcomes[0]
    assert outcome.status is StepStatus.SKIPPED and "docker info" in outcome.reason


def test_step_runs_when_docker_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_bin = tmp_path / "bin"
    _fake_program(fake_bin, "docker", 0)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    source = "# C\n\n## Compose\n\n<!-- requires: docker -->\n\n```sh\ntrue\n```\n"
    book = parse_runbook("c", source)
    _, result = run(book, tmp_path)
    assert result.count(StepStatus.PASSED) == 1


def test_missing_program_requirement_is_skipped(tmp_path: Path) -> None:
    book = parse_runbook(
        "p", "# P\n\n## Needs\n\n<!-- requires: no-such-program-xyz -->\n\n```sh\nfalse\n```\n"
    )
    output, _ = run(book, tmp_path)
    assert "skipped, requires 'no-such-program-xyz', which is not on PATH" in output


def test_background_processes_are_stopped_when_the_step_ends(tmp_path: Path) -> None:
    book = runbook("sleep 300 & echo $! > pid", "true")
    run(book, tmp_path)
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_robyn_config_in_a_step_is_this_toolkit(tmp_path: Path) -> None:
    book = runbook("robyn-config runbook list > listed")
    run(book, tmp_path)
    assert "workflow" in (tmp_path / "listed").read_text()


def test_keyboard_interrupt_stops_the_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    book = runbook("sleep 300")
    original_wait = subprocess.Popen.wait
    calls: list[int] = []

    def wait(self: subprocess.Popen[bytes], timeout: float | None = None) -> int:
        if not calls:
            calls.append(self.pid)
            raise KeyboardInterrupt
        return original_wait(self, timeout)

    monkeypatch.setattr(subprocess.Popen, "wait", wait)
    with pytest.raises(RunbookInterrupted) as caught:
        run(book, tmp_path)
    assert caught.value.exit_code == 130
    assert "--from-step 1" in caught.value.message


@pytest.mark.parametrize("from_step", [0, 4])
def test_from_step_out_of_range_says_the_range(tmp_path: Path, from_step: int) -> None:
    with pytest.raises(UsageError, match=r"has steps 1 to 3\.$") as caught:
        run(runbook("true", "true", "true"), tmp_path, from_step=from_step)
    assert caught.value.exit_code == 2


def test_missing_project_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        run(runbook("true"), tmp_path / "missing")


def test_creating_runbook_runs_in_the_parent_until_the_project_exists(tmp_path: Path) -> None:
    book = parse_runbook(
        "new",
        '# New\n\n<!-- project: new -->\n\n## Make\n\n```sh\nmkdir "$PROJECT_NAME"\n```\n\n'
        '## Inside\n\n```sh\ntest "$PWD" = "$PROJECT"\n```\n',
    )
    run(book, tmp_path / "svc")
    assert (tmp_path / "svc").is_dir()
    with pytest.raises(UsageError, match="parent"):
        run(book, tmp_path / "missing" / "svc")


def test_steps_never_see_the_toolkits_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)
    monkeypatch.setenv("UV_PROJECT_ENVIRONMENT", sys.prefix)  # as nox's uv backend sets them
    monkeypatch.setenv("UV_PYTHON", sys.prefix)
    monkeypatch.setenv("UV_INDEX_STRATEGY", "first-index")  # unrelated settings stay
    book = runbook('env > seen; echo "$PATH" > path')
    run(book, tmp_path)
    seen = (tmp_path / "seen").read_text()
    assert "VIRTUAL_ENV=" not in seen
    assert "UV_PROJECT_ENVIRONMENT=" not in seen and "UV_PYTHON=" not in seen
    assert "UV_INDEX_STRATEGY=first-index" in seen
    if sys.prefix != sys.base_prefix:
        assert f"{sys.prefix}/bin" not in (tmp_path / "path").read_text().split(":")
