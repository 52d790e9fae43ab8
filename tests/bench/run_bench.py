"""The benchmark of ``nox -s bench``: timings, the load figures beside their references and the
targets (``load.py``), printed and written as JSON and Markdown.

Figures on a shared machine are noisy: they are printed beside their targets, never asserted.
Usage: ``python tests/bench/run_bench.py OUT_DIR [--seconds N] [--ci-log PATH] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scaffold.matrix import STACKS, PackageManager
from tests.bench.load import LoadReport, bench_load, render_load
from tests.reliability.service_kit import CELLS, prepare_project
from tests.support.index import index_url
from tests.support.project_env import project_env


@dataclass
class Row:
    """One figure of the table."""

    group: str
    what: str
    value: str
    target: str = ""
    met: str = ""


def timed(command: list[str], *, env: dict[str, str], cwd: Path | None = None) -> float:
    started = time.monotonic()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
    return time.monotonic() - started


def toolkit_env(bytecode: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def bench_create(rows: list[Row], work: Path, toolkit: str, *, quick: bool) -> None:
    stacks = STACKS[:1] if quick else STACKS
    url = index_url()
    for stack in stacks:
        extra = ["--index-url", url] if stack.package_manager is PackageManager.POETRY else []
        args = ["--design", stack.design.value, "--orm", stack.orm.value]
        args += ["--package-manager", stack.package_manager.value, *extra]
        env = project_env(work / "x", toolkit_env(bytecode=True))
        dest = work / f"create-{stack.id}"
        dry = timed([toolkit, "create", "svc", str(dest), *args, "--dry-run"], env=env)
        full = timed([toolkit, "create", "svc", str(dest), *args], env=env)
        shutil.rmtree(dest, ignore_errors=True)
        rows.append(Row("create", f"{stack.id} --dry-run", f"{dry:.2f} s"))
        rows.append(Row("create", f"{stack.id} with lock", f"{full:.2f} s"))


def bench_add(rows: list[Row], project: Path, toolkit: str) -> None:
    """`add` in a project with its installed dev .venv, in git and in a copy outside git."""
    outside = project.parent / f"{project.name}-nogit"
    shutil.rmtree(outside, ignore_errors=True)
    shutil.copytree(project, outside, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    venv_files = sum(1 for _ in (project / ".venv").rglob("*"))
    for where, directory in (("in git", project), ("outside git", outside)):
        for bytecode in (False, True):
            env = toolkit_env(bytecode)
            figures = []
            for attempt in range(3):
                snapshot = _snapshot(directory)
                figures.append(timed([toolkit, "add", f"tag{attempt}", str(directory)], env=env))
                _restore(directory, snapshot)
            median = statistics.median(figures)
            label = "compiled bytecode" if bytecode else "PYTHONDONTWRITEBYTECODE=1"
            rows.append(
                Row(
                    "add",
                    f"{where}, .venv of {venv_files} files, {label}",
                    f"{median:.2f} s",
                    "< 1 s",
                    "yes" if median < 1 else "no",
                )
            )


def _snapshot(directory: Path) -> dict[Path, bytes]:
    return {
        path: path.read_bytes()
        for path in directory.rglob("*")
        if path.is_file() and ".venv" not in path.parts and ".git" not in path.parts
    }


def _restore(directory: Path, snapshot: dict[Path, bytes]) -> None:
    for path in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if ".venv" in path.parts or ".git" in path.parts:
            continue
        if path.is_file() and path not in snapshot:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for path, content in snapshot.items():
        if path.read_bytes() != content:
            path.write_bytes(content)


def _seconds(humanised: str) -> int:
    """nox's durations: '48 seconds', 'a minute', '2 minutes', '1 hour 3 minutes'."""
    units = {"second": 1, "minute": 60, "hour": 3600}
    total = 0
    for amount, unit in re.findall(r"(\d+|an?)\s+(second|minute|hour)s?", humanised):
        total += (1 if amount in {"a", "an"} else int(amount)) * units[unit]
    return total


def bench_ci_log(rows: list[Row], log: Path) -> None:
    """Wall time of each matrix (and pg) session in a .ci/run log, and the matrix's total."""
    text = log.read_text(errors="replace")
    total = 0
    pattern = r"Session ((?:matrix|pg)\([^)]*\)) was successful in ([^.\n]+)"
    for match in re.finditer(pattern, text):
        seconds = _seconds(match.group(2))
        if match.group(1).startswith("matrix"):
            total += seconds
        rows.append(Row("sessions (CI log)", match.group(1), f"{seconds} s ({match.group(2)})"))
    if total:
        rows.append(
            Row(
                "sessions (CI log)",
                "all matrix(...) sessions, one after another",
                f"{total / 60:.1f} min",
                "< 15 min",
                "yes" if total < 900 else "no",
            )
        )


def render(rows: list[Row], load: LoadReport, meta: dict[str, str], seconds: float) -> str:
    lines = [f"Run {meta['date']} on {meta['machine']}", "", "## Timings", ""]
    lines += ["| group | what | figure | target | met |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r.group} | {r.what} | {r.value} | {r.target} | {r.met} |" for r in rows]
    return "\n".join([*lines, "", *render_load(load, seconds)]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--toolkit", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ci-log", type=Path)
    parser.add_argument(
        "--quick", action="store_true", help="one cell, SQLite only (the references too)"
    )
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()} ({os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()})",
    }
    rows: list[Row] = []
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="robyn-config-bench-"))
    try:
        bench_create(rows, work, options.toolkit, quick=options.quick)
        cells = CELLS[:1] if options.quick else CELLS
        projects = {
            cell: prepare_project(
                cell, work / f"svc-{cell}", toolkit=options.toolkit, dev=(cell == cells[0])
            )
            for cell in cells
        }
        bench_add(rows, projects[cells[0]], options.toolkit)
        load = bench_load(projects, work, options.seconds, postgres=not options.quick)
        if options.ci_log:
            bench_ci_log(rows, options.ci_log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows.append(Row("bench", "wall time of this run", f"{time.monotonic() - started:.0f} s"))
    table = render(rows, load, meta, options.seconds)
    print(table)
    (options.out / "bench.md").write_text(table)
    document = {
        **meta,
        "seconds": options.seconds,
        "rows": [asdict(r) for r in rows],
        "load": [asdict(f) for f in load.figures],
        "memory": [asdict(m) for m in load.memory],
        "targets": [asdict(t) for t in load.targets],
        "reference_env": load.reference_env,
    }
    (options.out / "bench.json").write_text(json.dumps(document, indent=1))
    print(f"written: {options.out / 'bench.md'} and {options.out / 'bench.json'}")


if __name__ == "__main__":
    main()
