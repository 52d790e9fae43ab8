"""`robyn-config runbook list | show | run` through the installed console script."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.helpers import CONSOLE_SCRIPT, REPO_ROOT, run_program, sigint_as_default


def cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The console script with ``args``, this environment plus ``env``."""
    return run_program(CONSOLE_SCRIPT, *args, cwd=Path.cwd(), env={**os.environ, **(env or {})})


@pytest.fixture
def own_runbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A runbooks directory of fake runbooks, selected with $ROBYN_CONFIG_RUNBOOKS."""
    directory = tmp_path_factory.mktemp("runbooks")
    (directory / "fails.md").write_text(
        "# Fails\n\n## 1. Fine\n\n```sh\necho fine\n```\n\n"
        "## 2. Breaks\n\n```sh\necho about to break\nfalse\n```\n\n"
        "## 3. Never\n\n```sh\ntouch never\n```\n"
    )
    (directory / "sleeps.md").write_text("# Sleeps\n\n## 1. Sleep\n\n```sh\nsleep 300\n```\n")
    (directory / "compose.md").write_text(
        "# Compose\n\n## 1. Up\n\n<!-- requires: docker -->\n\n```sh\ntouch up\n```\n\n"
        "## 2. Check\n\n```sh\ntouch checked\n```\n"
    )
    return {"ROBYN_CONFIG_RUNBOOKS": str(directory)}


def test_list_names_and_titles() -> None:
    listed = cli("runbook", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    names = {line.split()[0] for line in lines}
    assert names == {p.stem for p in (REPO_ROOT / "runbooks").glob("*.md")}
    assert any(line.startswith("workflow") and "Suggested workflow order" in line for line in lines)


def test_show_prints_the_markdown() -> None:
    shown = cli("runbook", "show", "workflow")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (REPO_ROOT / "runbooks" / "workflow.md").read_text()


def test_help_of_a_subcommand() -> None:
    helped = cli("runbook", "run", "--help")
    assert helped.returncode == 0
    assert "--from-step" in helped.stdout and "--dry-run" in helped.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("runbook", "show", "nope"), ("Unknown runbook 'nope'", "workflow", "add-entity")),
        (("runbook", "run", "nope"), ("Unknown runbook 'nope'", "rollback")),
        (("runbook", "run", "add-entity", "--from-step", "99"), ("out of range", "1 to 7")),
        (("runbook", "run", "add-entity", "--from-step", "x"), ("--from-step", "'x'")),
        (("runbook", "run", "add-entity", "--project", "/no/such/dir"), ("/no/such/dir",)),
        (("runbook", "frobnicate"), ("frobnicate", "list, run, show")),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(args: tuple[str, ...], fragments: tuple[str]) -> None:
    completed = cli(*args)
    assert completed.returncode == 2, completed
    message = completed.stderr.strip()
    assert "\n" not in message and "Traceback" not in message
    for fragment in fragments:
        assert fragment in message


def test_failing_step_exits_1_with_command_and_tail(
    tmp_path: Path, own_runbooks: dict[str, str]
) -> None:
    completed = cli("runbook", "run", "fails", "--project", str(tmp_path), env=own_runbooks)
    assert completed.returncode == 1
    assert "[1/3] Fine: done in" in completed.stdout
    assert "[2/3] Breaks failed (exit status 1)" in completed.stdout
    assert "$ false" in completed.stdout and "about to break" in completed.stdout
    assert "resume with --from-step 2" in completed.stderr
    assert not (tmp_path / "never").exists()
    resumed = cli(
        "runbook", "run", "fails", "--project", str(tmp_path), "--from-step", "3", env=own_runbooks
    )
    assert resumed.returncode == 0, resumed.stderr
    assert (tmp_path / "never").exists()


def test_dry_run_prints_steps_and_runs_nothing(
    tmp_path: Path, own_runbooks: dict[str, str]
) -> None:
    completed = cli(
        "runbook", "run", "fails", "--project", str(tmp_path), "--dry-run", env=own_runbooks
    )
    assert completed.returncode == 0
    assert "[3/3] Never" in completed.stdout and "touch never" in completed.stdout
    assert list(tmp_path.iterdir()) == []


def test_docker_step_skipped_with_reason_when_engine_absent(
    tmp_path: Path, own_runbooks: dict[str, str]
) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    docker = fake_bin / "docker"
    docker.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    project = tmp_path / "svc"
    project.mkdir()
    env = {**own_runbooks, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    completed = cli("runbook", "run", "compose", "--project", str(project), env=env)
    assert completed.returncode == 0, completed.stderr
    skipped = "[1/2] Up: skipped, requires a Docker engine and 'docker info' failed"
    assert skipped in completed.stdout
    assert "1 passed, 1 skipped" in completed.stdout
    assert not (project / "up").exists() and (project / "checked").exists()


def test_ctrl_c_exits_130_and_stops_the_step(tmp_path: Path, own_runbooks: dict[str, str]) -> None:
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "runbook", "run", "sleeps", "--project", str(tmp_path)],
        env={**os.environ, **own_runbooks},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_as_default,
    )
    assert process.stdout is not None
    assert "[1/1] Sleep" in process.stdout.readline()
    time.sleep(0.5)  # let the step's shell start its sleep
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Interrupted at step 1/1" in stderr and "--from-step 1" in stderr
    leftover = subprocess.run(["pgrep", "-f", "sleep 300"], capture_output=True, text=True)
    own = [pid for pid in leftover.stdout.split() if _cwd_of(pid) == tmp_path]
    assert own == []


def _cwd_of(pid: str) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


@pytest.mark.e2e
def test_the_wheel_ships_the_runbooks(tmp_path: Path) -> None:
    """The installed console script finds the runbooks without a checkout."""
    import shutil
    import zipfile

    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    subprocess.run([uv, "build", "--wheel", "-o", str(tmp_path), str(REPO_ROOT)], check=True)
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(name).stem for name in names if name.startswith("scaffold/runbooks_data/")}
    assert shipped == {p.stem for p in (REPO_ROOT / "runbooks").glob("*.md")}
