"""The CLI through the installed console script (and `python -m scaffold`, `invoke`).

Errors: exit status 2 and exactly one line on stderr, no traceback, nothing written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import make_executable
from tests.helpers import (
    CONSOLE_SCRIPT,
    INVOKE,
    PYTHON,
    REPO_ROOT,
    assert_usage_error,
    manifest,
    populate_existing,
    run_program,
    sigint_as_default,
)

__all__ = ["run"]  # used by the other console-script tests


def run(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    program: tuple[str, ...] = (str(CONSOLE_SCRIPT),),
) -> subprocess.CompletedProcess[str]:
    return run_program(*program, *args, cwd=cwd, env=env)


def test_console_script_is_installed() -> None:
    assert CONSOLE_SCRIPT.is_file() and os.access(CONSOLE_SCRIPT, os.X_OK)


@pytest.mark.parametrize(
    ("option", "value", "choices"),
    [
        ("--design", "hexagonal", "ddd, mvc"),
        ("--orm", "django", "sqlalchemy, tortoise"),
        ("--package-manager", "pip", "uv, poetry"),
    ],
)
def test_unknown_choice(option: str, value: str, choices: str, tmp_path: Path) -> None:
    completed = run("create", "demo", option, value, cwd=tmp_path)
    assert_usage_error(completed, option, repr(value), choices)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["1abc", "a/b", "my service", "..", "bad$name"])
def test_invalid_name(name: str, tmp_path: Path) -> None:
    completed = run("create", name, cwd=tmp_path)
    assert_usage_error(completed, repr(name))
    assert list(tmp_path.iterdir()) == []


def test_empty_name(tmp_path: Path) -> None:
    assert_usage_error(run("create", "", cwd=tmp_path), "empty")
    assert list(tmp_path.iterdir()) == []


def test_missing_name(tmp_path: Path) -> None:
    completed = run("create", cwd=tmp_path)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert list(tmp_path.iterdir()) == []


def test_destination_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("mine")
    before = manifest(tmp_path)
    assert_usage_error(run("create", "demo", "taken", cwd=tmp_path), "taken", "not a directory")
    assert manifest(tmp_path) == before


def test_conflicting_destination_lists_files(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    populate_existing(dest)
    (dest / "pyproject.toml").write_text("[project]\nname = 'mine'\n")
    (dest / "Makefile").write_text("all:\n")
    before = manifest(tmp_path)
    completed = run("create", "demo", "dest", cwd=tmp_path)
    assert_usage_error(completed, "pyproject.toml", "Makefile", str(dest))
    assert manifest(tmp_path) == before


@pytest.mark.parametrize("manager", ["uv", "poetry"])
def test_missing_package_manager(manager: str, tmp_path: Path, bare_path: str) -> None:
    env = dict(os.environ, PATH=bare_path)
    completed = run("create", "demo", "--package-manager", manager, cwd=tmp_path, env=env)
    assert_usage_error(completed, repr(manager), f"install {manager}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [("create", "demo", "--bogus"), ("create", "--bogus", "demo"), ("create", "demo", "-z")],
    ids=["after-name", "before-name", "short"],
)
def test_unknown_option(args: tuple[str, ...], tmp_path: Path) -> None:
    completed = run(*args, cwd=tmp_path)
    line = assert_usage_error(completed)
    option = next(arg for arg in args if arg.startswith("-"))
    assert option in line
    assert list(tmp_path.iterdir()) == []


def test_unknown_command(tmp_path: Path) -> None:
    completed = run("destroy", "demo", cwd=tmp_path)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "destroy" in completed.stderr


@pytest.mark.parametrize("value", ["long", "UUID", ""])
def test_invalid_id_type(value: str, tmp_path: Path) -> None:
    completed = run("create", "demo", "--id-type", value, cwd=tmp_path)
    assert_usage_error(completed, "--id-type", repr(value), "int, uuid")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["mirror.invalid/simple", "ftp://mirror.invalid/x"])
def test_invalid_index_url(url: str, tmp_path: Path) -> None:
    completed = run("create", "demo", "--index-url", url, "--dry-run", cwd=tmp_path)
    assert_usage_error(completed, "--index-url", repr(url))


def _assert_dry_run_output(stdout: str, dest: Path) -> None:
    assert "\x1b[" not in stdout  # plain output when not on a terminal
    lines = stdout.splitlines()
    created = [line.split()[2] for line in lines if line.split()[:2] == ["would", "create"]]
    assert not [line for line in lines if line.split()[:1] == ["create"]]
    assert "pyproject.toml" in created
    assert "uv.lock" in created
    assert "Makefile" in created
    assert str(dest) in stdout


def test_dry_run_lists_and_writes_nothing(tmp_path: Path) -> None:
    before = manifest(tmp_path)
    completed = run("create", "demo", "--dry-run", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    _assert_dry_run_output(completed.stdout, tmp_path / "demo")
    assert manifest(tmp_path) == before


def test_dry_run_in_existing_destination_lists_identical(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    populate_existing(dest)
    listing = run("create", "demo", "elsewhere", "--dry-run", cwd=tmp_path)
    assert listing.returncode == 0
    before = manifest(tmp_path)
    completed = run(
        "create",
        "demo",
        "dest",
        "--dry-run",
        "--orm",
        "tortoise",
        "--design",
        "mvc",
        "--package-manager",
        "poetry",
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    assert "poetry.lock" in completed.stdout
    assert manifest(tmp_path) == before


@pytest.mark.parametrize(
    "args",
    [
        ("create", "--help"),
        ("create", "demo", "--help"),
        ("create", "demo", "dest", "-h"),
        ("--help", "create"),
    ],
)
def test_help(args: tuple[str, ...], tmp_path: Path) -> None:
    completed = run(*args, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    for option in (
        "--design",
        "--orm",
        "--package-manager",
        "--index-url",
        "--id-type",
        "--dry-run",
    ):
        assert option in completed.stdout
    assert "--no-git" in completed.stdout or "--[no-]git" in completed.stdout
    assert "ddd|mvc" in completed.stdout
    assert list(tmp_path.iterdir()) == []


def test_version_and_list(tmp_path: Path) -> None:
    import scaffold

    version = run("--version", cwd=tmp_path)
    assert version.returncode == 0 and scaffold.__version__ in version.stdout
    listing = run("--list", cwd=tmp_path)
    assert listing.returncode == 0 and "create" in listing.stdout


def test_python_dash_m_scaffold(tmp_path: Path) -> None:
    completed = run(
        "create", "demo", "out", "--dry-run", cwd=tmp_path, program=(str(PYTHON), "-m", "scaffold")
    )
    assert completed.returncode == 0, completed.stderr
    _assert_dry_run_output(completed.stdout, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
    bad = run("create", "demo", "--orm", "x", cwd=tmp_path, program=(str(PYTHON), "-m", "scaffold"))
    assert_usage_error(bad, "--orm")


def test_invoke_from_checkout_with_dest(tmp_path: Path) -> None:
    dest = tmp_path / "svc"
    completed = run("create", "demo", str(dest), "--dry-run", cwd=REPO_ROOT, program=(str(INVOKE),))
    assert completed.returncode == 0, completed.stderr
    _assert_dry_run_output(completed.stdout, dest)
    assert not dest.exists()


def test_invoke_from_checkout_without_dest(tmp_path: Path) -> None:
    name = f"dryrun-{tmp_path.name.replace('_', '-')[-30:]}"
    name = "d" + "".join(c for c in name if c.isalnum() or c == "-")
    completed = run("create", name, "--dry-run", cwd=REPO_ROOT, program=(str(INVOKE),))
    assert completed.returncode == 0, completed.stderr
    _assert_dry_run_output(completed.stdout, REPO_ROOT / name)
    assert not (REPO_ROOT / name).exists()


def test_invoke_flag_without_value_is_a_usage_error(tmp_path: Path) -> None:
    # invoke's own Program parses here (not robyn-config's): tasks.py makes it exit 2 too.
    completed = run("create", "demo", "--index-url", cwd=REPO_ROOT, program=(str(INVOKE),))
    assert_usage_error(completed, "--index-url", "needs a value")
    assert not (REPO_ROOT / "demo").exists()


def test_invoke_usage_error(tmp_path: Path) -> None:
    completed = run("create", "demo", "--design", "x", cwd=REPO_ROOT, program=(str(INVOKE),))
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "'x'" in completed.stderr


# --- failures through the CLI (stub package manager, no network) ----------------------------


def _path_with(stub_bin: Path) -> dict[str, str]:
    return dict(os.environ, PATH=f"{stub_bin}{os.pathsep}{os.environ['PATH']}")


def test_failed_lock_exits_1_and_rolls_back(tmp_path: Path, stub_bin: Path) -> None:
    make_executable(stub_bin / "uv", "#!/bin/sh\necho 'error: no index reachable' >&2\nexit 2\n")
    completed = run("create", "demo", cwd=tmp_path, env=_path_with(stub_bin))
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    assert "no index reachable" in completed.stderr
    assert "Rolled back" in completed.stderr
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_lock_exits_130_and_rolls_back(tmp_path: Path, stub_bin: Path) -> None:
    marker = tmp_path.parent / f"{tmp_path.name}-locking"
    make_executable(stub_bin / "uv", f"#!/bin/sh\ntouch '{marker}'\nmkdir -p .venv\nsleep 30\n")
    dest = tmp_path / "existing"
    before = populate_existing(dest)
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "create", "demo", str(dest)],
        cwd=tmp_path,
        env=_path_with(stub_bin),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_as_default,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert time.monotonic() < deadline, "the lock step never started"
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        marker.unlink(missing_ok=True)
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    assert "rolled back" in stderr.lower()
    assert manifest(dest) == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("create", "demo", "--index-url"), "--index-url"),
        (("create", "demo", "--dry-run", "--orm"), "--orm"),
        (("create", "demo", "--package-manager"), "--package-manager"),
        (("create", "demo", "dest", "extra"), "'extra'"),
        (("create", "--dry-run"), "name"),
    ],
    ids=["index-url-no-value", "orm-no-value", "manager-no-value", "extra-argument", "no-name"],
)
def test_parse_errors_name_what_the_operator_typed(
    args: tuple[str, ...], fragment: str, tmp_path: Path
) -> None:
    line = assert_usage_error(run(*args, cwd=tmp_path), fragment)
    assert "<Argument" not in line  # invoke's internal objects are not the operator's words
    assert list(tmp_path.iterdir()) == []


def test_help_into_a_closed_pipe_has_no_traceback(tmp_path: Path) -> None:
    # `robyn-config create --help | head -1`: the reader leaves before the help is written.
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "create", "--help"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr
