"""The fault makers, the console script they fault, and the whole-tree snapshot they compare.

Every fault maker is a context manager that undoes its fault on the way out, whether the test
passed or not: a flag left behind would make pytest's temporary folders undeletable. Where the
machine cannot make a fault (no root for ``chattr``, no ``setpriv`` to run as another user),
the fault maker skips the test and says why.
"""

from __future__ import annotations

import functools
import os
import pwd
import resource
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scaffold.safety.journal import OUTSIDE_GIT_NAME
from scaffold.safety.transaction import CRASH_POINT_VARIABLE, STOP_POINT_VARIABLE
from scaffold.safety.undo import PARTIAL_SUFFIX
from tests.conftest import tree_state
from tests.helpers import CONSOLE_SCRIPT, run_program

__all__ = [
    "Cli",
    "Paused",
    "as_nobody",
    "assert_failed",
    "assert_unchanged",
    "file_size_limit",
    "immutable",
    "leftovers",
    "open_folder",
    "paused_at",
    "python_for_everyone",
    "read_only",
    "snapshot",
    "stderr_lines",
]

TIMEOUT = 300
GIT_JOURNAL_FOLDER = "robyn-config"  # <git dir>/robyn-config/pending.json


# --- what this machine can do ---------------------------------------------------------------


@functools.cache
def _immutable_unsupported() -> str | None:
    """Why ``chattr +i`` cannot be used here, or None when it works (tried once on a file)."""
    if os.geteuid() != 0:
        return f"chattr +i needs root (CAP_LINUX_IMMUTABLE); the tests run as uid {os.geteuid()}"
    if shutil.which("chattr") is None:
        return "chattr (e2fsprogs) is not installed"
    with tempfile.TemporaryDirectory(prefix="robyn-config-chattr-") as folder:
        probe = Path(folder) / "probe"
        probe.write_text("probe\n")
        tried = subprocess.run(["chattr", "+i", probe], capture_output=True, text=True)
        if tried.returncode != 0:
            return f"chattr +i fails on {tempfile.gettempdir()}: {tried.stderr.strip()}"
        subprocess.run(["chattr", "-i", probe], check=True)
    return None


@functools.cache
def _nobody() -> tuple[int, int] | str:
    """nobody's uid and gid when root can run the console script as nobody, else why not."""
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed: root cannot run the CLI as nobody"
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return "there is no user nobody to run the CLI as"
    # HOME: root's may be closed to nobody (invoke reads ~/.invoke.yaml).
    tried = subprocess.run(
        [*_setpriv(entry.pw_uid, entry.pw_gid), str(CONSOLE_SCRIPT), "--help"],
        capture_output=True,
        text=True,
        cwd="/",
        env={**os.environ, "HOME": "/nonexistent"},
    )
    if tried.returncode != 0:
        return f"nobody cannot run {CONSOLE_SCRIPT}: {tried.stderr.strip()[-300:]}"
    return entry.pw_uid, entry.pw_gid


def _setpriv(uid: int, gid: int) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]


# --- running the console script -------------------------------------------------------------


def file_size_limit(limit: int) -> Callable[[], None]:
    """A ``preexec_fn``: the child's files cannot grow past ``limit`` bytes (RLIMIT_FSIZE).

    Python ignores SIGXFSZ, so the toolkit's own writes fail with EFBIG ("File too large");
    the tools it starts get SIGXFSZ back at its default and are killed by it.
    """

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@dataclass(frozen=True)
class Cli:
    """The real console script, run with ``env``, under ``prefix`` (another user) if any."""

    env: Mapping[str, str]
    prefix: tuple[str, ...] = ()

    def command(self, *args: str | os.PathLike[str]) -> list[str]:
        return [*self.prefix, str(CONSOLE_SCRIPT), *(os.fspath(arg) for arg in args)]

    def run(
        self,
        *args: str | os.PathLike[str],
        cwd: Path,
        limit: int | None = None,
        crash_at: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``robyn-config ARGS``; ``limit``: RLIMIT_FSIZE; ``crash_at``: SIGKILL there."""
        env = dict(self.env)
        if crash_at is not None:
            env[CRASH_POINT_VARIABLE] = crash_at
        return run_program(
            *self.command(*args),
            cwd=cwd,
            env=env,
            timeout=TIMEOUT,
            preexec_fn=None if limit is None else file_size_limit(limit),
        )


@dataclass
class Paused:
    """A command stopped at a checkpoint; ``result`` once it has been let go and has ended."""

    process: subprocess.Popen[str]
    result: subprocess.CompletedProcess[str] | None = field(default=None)


def _stopped(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return text.rsplit(")", 1)[1].split()[0] in {"T", "t"}  # the state follows "(comm)"


@contextmanager
def paused_at(
    cli: Cli, checkpoint: str, *args: str | os.PathLike[str], cwd: Path
) -> Iterator[Paused]:
    """Start ``robyn-config ARGS`` and hold it at ``checkpoint`` (SIGSTOP) for the body.

    On the way out the command gets SIGCONT, runs to its end, and ``result`` holds its exit
    status and output. A command that ends before it reaches the checkpoint fails the test.
    """
    command = cli.command(*args)
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**cli.env, STOP_POINT_VARIABLE: checkpoint},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + TIMEOUT
    while not _stopped(process.pid):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            raise AssertionError(
                f"{command} never stopped at {checkpoint} (exit {process.returncode})\n{out}\n{err}"
            )
        time.sleep(0.005)
    paused = Paused(process)
    try:
        yield paused
    finally:
        process.send_signal(signal.SIGCONT)
        try:
            out, err = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        paused.result = subprocess.CompletedProcess(command, process.returncode, out, err)


# --- the faults -----------------------------------------------------------------------------


def _chattr(flag: str, path: Path, recursive: bool) -> None:
    subprocess.run(
        ["chattr", *(["-R"] if recursive else []), flag, str(path)],
        check=True,
        capture_output=True,
    )


@contextmanager
def immutable(*paths: Path, recursive: bool = False) -> Iterator[None]:
    """``chattr +i`` on ``paths`` (nobody, root included, may change them), then ``-i``.

    Skips the test where the machine cannot set the flag (not root, no chattr, a filesystem
    without immutable files).
    """
    reason = _immutable_unsupported()
    if reason is not None:
        pytest.skip(reason)
    flagged: list[Path] = []
    try:
        for path in paths:
            _chattr("+i", path, recursive)
            flagged.append(path)
        yield
    finally:
        for path in reversed(flagged):
            if path.exists():
                _chattr("-i", path, recursive)


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Take the write bits off ``path`` (a file, or a folder where files go), then put them back.

    Root writes anyway: pair it with `as_nobody` so a non-root user runs the command.
    """
    mode = stat.S_IMODE(path.stat().st_mode)
    path.chmod(mode & ~0o222)
    try:
        yield
    finally:
        path.chmod(mode)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.lchown(root, uid, gid)
    for folder, folders, files in os.walk(root):
        for name in [*folders, *files]:
            os.lchown(os.path.join(folder, name), uid, gid)


def _real_executable(name: str) -> str | None:
    """``name`` on PATH, through a pyenv shim to the program (the shim runs pyenv from root's
    home, which another user may not read)."""
    found = shutil.which(name)
    if found is None:
        return None
    with open(found, "rb") as program:
        shim = program.read(2) == b"#!" and b"pyenv" in program.read(4096)
    if shim:
        resolved = subprocess.run(["pyenv", "which", name], capture_output=True, text=True)
        return resolved.stdout.strip() or None if resolved.returncode == 0 else None
    return os.path.realpath(found)


def _link_or_copy(program: Path, link: Path) -> None:
    # Not a symlink: a program under root's home may run for nobody and still fail access(),
    # which is what shutil.which (and so create's check for uv) asks.
    try:
        os.link(program, link)
    except OSError:
        shutil.copy2(program, link)


def _open_to_all(path: Path) -> bool:
    """Whether any user may reach and run ``path`` (every folder above it open to others)."""
    real = Path(os.path.realpath(path))
    folders_open = all(folder.stat().st_mode & 0o001 for folder in real.parents)
    return folders_open and bool(real.stat().st_mode & 0o001)


def python_for_everyone(preferred: Path, versions: tuple[str, ...]) -> Path:
    """``preferred``, or else a ``python3.X`` on PATH that any user may run (one under
    root's closed home would run for nobody, but uv, which resolves it, fails there)."""
    if _open_to_all(preferred):
        return preferred
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        for version in versions:
            candidate = Path(folder) / f"python{version}"
            if candidate.is_file() and _open_to_all(candidate):
                return candidate
    return preferred


@contextmanager
def as_nobody(project: Path, cli: Cli) -> Iterator[Cli]:
    """A `Cli` that runs as a user without root's powers, so that ``chmod`` faults bite.

    As root: ``project`` is handed to nobody (and given back afterwards), and the command runs
    under ``setpriv`` as nobody with a home, caches and git configuration nobody owns. As any
    other user, the tests' own user is already bound by file modes: ``cli`` as it is.
    Take snapshots outside this block: git refuses to read a repository another user owns.
    """
    if os.geteuid() != 0:
        yield cli
        return
    found = _nobody()
    if isinstance(found, str):
        pytest.skip(found)
    uid, gid = found
    folder = project.parent
    assert folder.stat().st_mode & 0o001, f"{folder} must be open to nobody: use open_folder()"
    owner = project.stat()
    home = Path(tempfile.mkdtemp(prefix="robyn-config-nobody-"))
    env = dict(cli.env)
    config = env.get("GIT_CONFIG_GLOBAL")
    if config:  # the tests' git identity, in a copy nobody may read
        env["GIT_CONFIG_GLOBAL"] = str(shutil.copy(config, home / "gitconfig"))
    bin_folder = home / "bin"
    bin_folder.mkdir()
    for name in ("uv", "poetry"):
        program = _real_executable(name)
        if program is not None:
            _link_or_copy(Path(program), bin_folder / name)
    env.update(
        PATH=f"{bin_folder}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(home),
        UV_CACHE_DIR=str(home / "uv"),
        POETRY_CACHE_DIR=str(home / "poetry"),
        XDG_CACHE_HOME=str(home / "xdg"),
    )
    _chown_tree(home, uid, gid)
    _chown_tree(project, uid, gid)
    try:
        yield Cli(env, prefix=tuple(_setpriv(uid, gid)))
    finally:
        _chown_tree(project, owner.st_uid, owner.st_gid)
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def open_folder() -> Iterator[Path]:
    """A temporary folder every user may enter (pytest's own are root's only), then removed."""
    folder = Path(tempfile.mkdtemp(prefix="robyn-config-faults-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- what the tests compare -----------------------------------------------------------------


def _is_leftover(relative: str) -> bool:
    parts = relative.split("/")
    name = parts[-1]
    in_git = len(parts) > 1 and parts[-2] == ".git" and name == GIT_JOURNAL_FOLDER
    return in_git or name.startswith(OUTSIDE_GIT_NAME) or name.endswith(PARTIAL_SUFFIX)


def leftovers(root: Path) -> list[str]:
    """Journals and temporary siblings anywhere under ``root``, ``.git`` included."""
    if not root.is_dir():
        return []
    found = (path.relative_to(root).as_posix() for path in root.rglob("*"))
    return sorted(relative for relative in found if _is_leftover(relative))


def snapshot(root: Path) -> dict[str, object]:
    """The whole tree: every file's bytes and mode (ignored ones too), git's index, HEAD and
    stashes (``tree_state``), whether ``root`` exists; journals and temporary siblings apart.

    A journal shows up under ``leftovers`` only, so that the state of a paused command (its
    journal on disk) can be compared with the state after it, ``leftovers`` set to ``[]``.
    """
    state = tree_state(root)
    files = state["files"]
    assert isinstance(files, dict)
    state["files"] = {path: entry for path, entry in files.items() if not _is_leftover(path)}
    return {**state, "exists": root.exists(), "leftovers": leftovers(root)}


def assert_unchanged(root: Path, before: dict[str, object]) -> None:
    """``root``'s snapshot equals ``before``; else fail naming what was added, removed or
    changed (a whole-tree diff of dicts would drown the one path that matters)."""
    after = snapshot(root)
    if after == before:
        return
    old, new = before["files"], after["files"]
    assert isinstance(old, dict) and isinstance(new, dict)
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(path for path in set(old) & set(new) if old[path] != new[path])
    others = {
        key: _difference(before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if key != "files" and before.get(key) != after.get(key)
    }
    raise AssertionError(
        f"the tree under {root} changed: added {added[:20]}, removed {removed[:20]}, "
        f"changed {changed[:20]}; {others if others else 'git and journals as before'}"
    )


def _difference(before: object, after: object) -> object:
    """Two values of a snapshot, or only the lines that differ for git's (long) outputs."""
    if not (isinstance(before, str) and isinstance(after, str)):
        return (before, after)
    old, new = set(before.splitlines()), set(after.splitlines())
    return [f"-{line}" for line in sorted(old - new)][:20] + [
        f"+{line}" for line in sorted(new - old)
    ][:20]


def stderr_lines(completed: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in completed.stderr.splitlines() if line.strip()]


def assert_failed(
    completed: subprocess.CompletedProcess[str], *fragments: str, recover: bool = False
) -> str:
    """Exit status 1 and one or two lines on stderr, no traceback, holding every fragment.

    The message names what the operator knows (never a temporary sibling), then says the tree
    was rolled back or, with ``recover``, which paths were not and the command that finishes.
    """
    output = f"{completed.stdout}\n{completed.stderr}"
    detail = f"{completed.args}\nexit {completed.returncode}\n{output}"
    assert "Traceback" not in output, f"a traceback\n{detail}"
    assert completed.returncode == 1, f"exit status {completed.returncode}, not 1\n{detail}"
    lines = stderr_lines(completed)
    assert 1 <= len(lines) <= 2, f"{len(lines)} lines on stderr, not one or two\n{detail}"
    message = " ".join(lines)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from the message\n{detail}"
    assert PARTIAL_SUFFIX not in message, f"the message names a temporary sibling\n{detail}"
    if recover:
        assert "robyn-config recover" in message, f"no 'robyn-config recover'\n{detail}"
    else:
        assert "Rolled back" in message, f"no 'Rolled back'\n{detail}"
    return message
