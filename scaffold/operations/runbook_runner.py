"""Run a runbook's steps in order: a pipeline of small steps, each logged as ``[3/7] Title``.

Each step's commands run in one shell (``bash -e -o pipefail``, else ``sh -e``) in its own
process group, with the project's directory as the working directory and ``PROJECT`` /
``PROJECT_NAME`` in the environment. When the step's shell ends, whatever it left running in
that group is stopped (SIGTERM, then SIGKILL), so a server started in the background never
outlives its step. A failing step stops the run with its command and the end of its output.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from scaffold.errors import Interrupted, OperationFailed, UsageError
from scaffold.operations.runbooks import Runbook, Step
from scaffold.reporting import Reporter
from scaffold.tools.processes import stop_group, tool_environment

__all__ = [
    "RunResult",
    "RunbookInterrupted",
    "StepFailed",
    "StepStatus",
    "run_runbook",
    "step_environment",
]

TAIL_LINES = 30
STOP_GRACE_SECONDS = 5.0
DOCKER_INFO_TIMEOUT = 30.0


class StepFailed(OperationFailed):
    """A step's commands exited non-zero (exit status 1)."""


class RunbookInterrupted(Interrupted):
    """Ctrl-C during a run: the step's processes were stopped (exit status 130)."""


class StepStatus(StrEnum):
    PASSED = "passed"
    SKIPPED = "skipped"
    PLANNED = "planned"  # --dry-run


@dataclass(frozen=True)
class StepOutcome:
    step: Step
    status: StepStatus
    reason: str = ""


@dataclass
class RunResult:
    runbook: Runbook
    project: Path
    dry_run: bool
    outcomes: list[StepOutcome] = field(default_factory=list)

    def count(self, status: StepStatus) -> int:
        return sum(outcome.status is status for outcome in self.outcomes)


def run_runbook(
    *,
    runbook: Runbook,
    project: Path,
    reporter: Reporter,
    from_step: int = 1,
    dry_run: bool = False,
    environ: dict[str, str] | None = None,
) -> RunResult:
    """Run ``runbook``'s steps from ``from_step`` on; validate all input before running any."""
    project = _validate(runbook, project, from_step)
    total = len(runbook.steps)
    result = RunResult(runbook, project, dry_run)
    with tempfile.TemporaryDirectory(prefix="robyn-config-runbook-") as shim_dir:
        env = step_environment(project, environ or dict(os.environ), Path(shim_dir))
        checks = _Requirements(env)
        for step in runbook.steps[from_step - 1 :]:
            label = f"[{step.number}/{total}] {step.title}"
            if dry_run:
                _show_plan(reporter, label, step)
                result.outcomes.append(StepOutcome(step, StepStatus.PLANNED))
                continue
            missing = checks.missing(step.requires)
            if missing:
                reporter.note(f"{label}: skipped, {missing}")
                result.outcomes.append(StepOutcome(step, StepStatus.SKIPPED, missing))
                continue
            if not step.commands:
                reporter.note(f"{label}: nothing to run")
                result.outcomes.append(StepOutcome(step, StepStatus.PASSED))
                continue
            _run_step(step, label, total, project, env, reporter)
            result.outcomes.append(StepOutcome(step, StepStatus.PASSED))
    return result


def _validate(runbook: Runbook, project: Path, from_step: int) -> Path:
    total = len(runbook.steps)
    if not 1 <= from_step <= total:
        raise UsageError(
            f"--from-step {from_step} is out of range; {runbook.name!r} has steps 1 to {total}."
        )
    project = project.expanduser().absolute()
    if project.exists() and not project.is_dir():
        raise UsageError(f"--project {project} is not a directory; pass a directory.")
    if runbook.creates_project:
        if not project.parent.is_dir():
            raise UsageError(
                f"The parent of --project {project} does not exist; {runbook.name!r} creates "
                "the project there, so create the parent directory first."
            )
    elif not project.is_dir():
        raise UsageError(
            f"The project directory {project} does not exist; pass an existing service "
            "directory with --project."
        )
    return project


def step_environment(project: Path, environ: dict[str, str], shim_dir: Path) -> dict[str, str]:
    """The environment steps run in.

    ``robyn-config`` in a step is this very toolkit (a shim first on PATH); the toolkit's own
    virtual environment is taken off PATH, VIRTUAL_ENV and (when they point at it)
    UV_PROJECT_ENVIRONMENT / UV_PYTHON, so that the project's package manager uses the
    project's environment and never touches the toolkit's.
    """
    shim = shim_dir / "robyn-config"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m scaffold "$@"\n')
    shim.chmod(0o755)
    own_bin = str(Path(sys.prefix) / "bin")
    entries = [
        entry
        for entry in environ.get("PATH", os.defpath).split(os.pathsep)
        if not (sys.prefix != sys.base_prefix and entry == own_bin)
    ]
    env = tool_environment(environ)
    env["PATH"] = os.pathsep.join([str(shim_dir), *entries])
    env["PROJECT"] = str(project)
    env["PROJECT_NAME"] = project.name
    return env


def _show_plan(reporter: Reporter, label: str, step: Step) -> None:
    needs = f" (requires: {', '.join(step.requires)})" if step.requires else ""
    reporter.note(f"{label}{needs}")
    for line in step.script.splitlines() or ["(no commands)"]:
        reporter.note(f"    {line}")


class _Requirements:
    """Whether what a step requires is on this machine; each answer is asked once per run."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.answers: dict[str, str] = {}

    def missing(self, requirements: tuple[str, ...]) -> str:
        for requirement in requirements:
            if requirement not in self.answers:
                self.answers[requirement] = self._check(requirement)
            if self.answers[requirement]:
                return self.answers[requirement]
        return ""

    def _check(self, requirement: str) -> str:
        program = shutil.which(requirement, path=self.env["PATH"])
        if requirement == "docker":
            if program is None:
                return "requires a Docker engine and 'docker' is not on PATH"
            try:
                info = subprocess.run(
                    [program, "info"],
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=DOCKER_INFO_TIMEOUT,
                )
            except subprocess.TimeoutExpired:
                return "requires a Docker engine and 'docker info' did not answer"
            if info.returncode != 0:
                return "requires a Docker engine and 'docker info' failed (no engine reachable)"
            return ""
        return "" if program else f"requires {requirement!r}, which is not on PATH"


def _shell(script: str) -> list[str]:
    bash = shutil.which("bash")
    if bash:
        return [bash, "-e", "-o", "pipefail", "-c", script]
    return ["/bin/sh", "-e", "-c", script]


def _run_step(
    step: Step, label: str, total: int, cwd_project: Path, env: dict[str, str], reporter: Reporter
) -> None:
    # A runbook that creates the project runs in the parent until the project exists.
    cwd = cwd_project if cwd_project.is_dir() else cwd_project.parent
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    returncode = 0
    try:
        with reporter.step(label):
            returncode = _execute(step.script, cwd, env, tail)
            if returncode != 0:
                raise _Failed
    except _Failed:
        reporter.note(f"{label} failed (exit status {returncode}) in {cwd}:")
        for line in step.script.splitlines():
            reporter.note(f"    $ {line}")
        reporter.note(f"--- last {len(tail)} lines of its output ---")
        for line in tail:
            reporter.note(line)
        reporter.note("---")
        raise StepFailed(
            f"Step {step.number}/{total} {step.title!r} failed with exit status {returncode}; "
            f"fix the cause, then resume with --from-step {step.number}."
        ) from None
    except KeyboardInterrupt:
        raise RunbookInterrupted(
            f"Interrupted at step {step.number}/{total} {step.title!r}; its processes were "
            f"stopped; resume with --from-step {step.number}."
        ) from None


class _Failed(Exception):
    pass


def _execute(script: str, cwd: Path, env: dict[str, str], tail: deque[str]) -> int:
    """Run ``script`` in a new process group; keep the end of its output in ``tail``."""
    process = subprocess.Popen(
        _shell(script),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    stdout = process.stdout

    def read() -> None:
        for raw in stdout:
            tail.append(raw.decode(errors="replace").rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        return process.wait()
    finally:
        stop_group(process, grace=STOP_GRACE_SECONDS)
        reader.join(timeout=STOP_GRACE_SECONDS)
