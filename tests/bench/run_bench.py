"""The benchmark of ``nox -s bench``: one table, printed and written as JSON and Markdown.

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
from tests.reliability.service_kit import (
    CELLS,
    create_schema,
    prepare_project,
    serve,
    serve_project,
)
from tests.support.index import index_url
from tests.support.postgres import running_postgres
from tests.support.project_env import project_env
from tests.support.wrk import POST_LUA, run_wrk

HELLO = Path(__file__).with_name("hello_robyn.py")
CONNECTIONS = 32


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


def load_figures(
    rows: list[Row], label: str, base_url: str, rss: list[int], seconds: float, work: Path
) -> dict[str, float]:
    rates: dict[str, float] = {}
    for name, path, script in (
        ("GET /healthcheck", "/healthcheck", ""),
        ("GET /products/{id}", "/products/1", ""),
        ("GET /products?limit=20", "/products?limit=20", ""),
        ("POST /products", "/products", POST_LUA),
    ):
        if label == "bare Robyn" and name != "GET /healthcheck":
            continue
        result = run_wrk(
            base_url + path, seconds=seconds, connections=CONNECTIONS, script=script, workdir=work
        )
        rates[name] = result.rps
        rows.append(
            Row(
                f"load {label}",
                name,
                f"{result.rps:.0f} req/s, p50 {result.p50_us / 1000:.1f} ms, "
                f"p99 {result.p99_us / 1000:.1f} ms, non-2xx {result.non2xx}, "
                f"socket errors {result.socket_errors}",
                "0 non-2xx",
                "yes" if result.non2xx == 0 and result.socket_errors == 0 else "no",
            )
        )
    return rates


def seed(base_url: str, count: int = 50) -> None:
    import urllib.request

    for number in range(count):
        body = json.dumps({"name": f"seed {number}", "price": "1.00", "in_stock": True}).encode()
        request = urllib.request.Request(
            base_url + "/products", body, {"Content-Type": "application/json"}, method="POST"
        )
        urllib.request.urlopen(request, timeout=10).read()


def bench_load(
    rows: list[Row], projects: dict[str, Path], work: Path, seconds: float, postgres: bool
) -> None:
    reference = next(iter(projects.values()))
    python = str(reference / ".venv" / "bin" / "python")
    env = {**project_env(reference), "PYTHONDONTWRITEBYTECODE": "1"}
    with serve(
        [python, str(HELLO)], cwd=work, env=env, log_path=work / "hello.log", ready_path="/"
    ) as bare:
        bare_rate = load_figures(rows, "bare Robyn", bare.base_url, [], seconds, work)[
            "GET /healthcheck"
        ]
        bare.kill()
        bare.stop_seconds = 0.0

    databases: list[tuple[str, str | None]] = [("SQLite", None)]
    if postgres:
        databases.append(("PostgreSQL", "pg"))
    with running_postgres() if postgres else _nothing() as server:
        for cell, project in projects.items():
            for db_label, kind in databases:
                name = f"{cell.rsplit('-', 1)[0]} {db_label}"
                if kind and server is not None:
                    url = server.create_database(f"bench_{cell.replace('-', '_')}")
                else:
                    url = f"sqlite:///{work / (cell + '.db')}"
                create_schema(project, url)
                with serve_project(project, url, work / f"{cell}-{db_label}.log") as service:
                    seed(service.base_url)
                    start_rss = service.rss_kib()
                    rates = load_figures(rows, name, service.base_url, [], seconds, work)
                    end_rss = service.rss_kib()
                ratio = rates["GET /healthcheck"] / bare_rate if bare_rate else 0.0
                rows.append(
                    Row(
                        f"load {name}",
                        "/healthcheck vs bare Robyn",
                        f"{ratio:.2f}x",
                        ">= 0.8x",
                        "yes" if ratio >= 0.8 else "no",
                    )
                )
                rows.append(
                    Row(f"load {name}", "server RSS start -> end", f"{start_rss} -> {end_rss} KiB")
                )


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


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


def render(rows: list[Row], meta: dict[str, str]) -> str:
    lines = [f"Run {meta['date']} on {meta['machine']}", ""]
    lines += ["| group | what | figure | target | met |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r.group} | {r.what} | {r.value} | {r.target} | {r.met} |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--toolkit", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ci-log", type=Path)
    parser.add_argument("--quick", action="store_true", help="one cell, SQLite only")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()} ({os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()})",
    }
    rows: list[Row] = []
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
        bench_load(rows, projects, work, options.seconds, postgres=not options.quick)
        if options.ci_log:
            bench_ci_log(rows, options.ci_log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = render(rows, meta)
    print(table)
    (options.out / "bench.md").write_text(table)
    (options.out / "bench.json").write_text(
        json.dumps({**meta, "rows": [asdict(r) for r in rows]}, indent=1)
    )
    print(f"written: {options.out / 'bench.md'} and {options.out / 'bench.json'}")


if __name__ == "__main__":
    main()
