"""The load part of the bench: the generated service beside its references, and the targets.

For each database (SQLite, PostgreSQL) every server gets its own fresh database with the same
``products`` table, seeded with the same rows by ``seed``, then ``wrk`` on each endpoint:

* the generated service, per design x ORM (``GET /healthcheck`` too);
* the ceiling, Robyn and the raw driver, and FastAPI + uvicorn + async SQLAlchemy
  (``references.py``), for read, list and insert;
* a bare Robyn app (``hello_robyn.py``) for ``/healthcheck``, once.

Every generated figure is printed with its ratios to the ceiling and to FastAPI (to the bare
app for ``/healthcheck``), and the issue's targets are checked on them: printed met or missed,
never asserted (a shared 2-core machine is noisy).
"""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.references import REFERENCES, make_reference_env, serve_reference
from tests.reliability.service_kit import Service, create_schema, serve, serve_project
from tests.support.postgres import PostgresServer, running_postgres
from tests.support.project_env import project_env
from tests.support.wrk import POST_LUA, run_wrk

__all__ = ["ENDPOINTS", "LoadReport", "bench_load", "render_load"]

HELLO = Path(__file__).with_name("hello_robyn.py")
CONNECTIONS = 32
THREADS = 2
SEED_ROWS = 50

HEALTH = "GET /healthcheck"
READ = "GET /products/{id}"
LIST = "GET /products?limit=20"
INSERT = "POST /products"
# name -> (path, wrk script); every server but the bare app answers the last three.
ENDPOINTS = {
    HEALTH: ("/healthcheck", ""),
    READ: ("/products/1", ""),
    LIST: ("/products?limit=20", ""),
    INSERT: ("/products", POST_LUA),
}
DATA_ENDPOINTS = (READ, LIST, INSERT)


@dataclass(frozen=True)
class Goals:
    """The issue's targets for one database (issue 11, point 1)."""

    read_vs_ceiling: float
    read_vs_fastapi: float
    others_vs_ceiling: float  # list and insert


# WEB_CONCURRENCY of the generated service: the targets are the one-process figures'.
PROCESSES = (1, 2)
GOALS = {"SQLite": Goals(0.5, 3.0, 0.3), "PostgreSQL": Goals(0.7, 1.5, 0.5)}
P99_OVER_P50 = 3.0
RSS_GROWTH = 0.10
HEALTH_VS_BARE = 0.8


@dataclass
class Figure:
    """One wrk run of one server on one endpoint, with its ratios to the references."""

    database: str  # "" for the bare app (no database)
    endpoint: str
    server: str
    kind: str  # "generated", "processes" (more than one), "ceiling", "sync", "fastapi", "bare"
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    vs_ceiling: float | None = None
    vs_fastapi: float | None = None
    vs_bare: float | None = None


@dataclass
class Memory:
    """A server's RSS (its whole process group) before and after its load runs."""

    database: str
    server: str
    start_kib: int
    end_kib: int
    seconds: float

    @property
    def growth(self) -> float:
        return (self.end_kib - self.start_kib) / self.start_kib if self.start_kib else 0.0


@dataclass
class Target:
    """One target of one generated cell on one database: the figure and whether it is met."""

    database: str
    server: str
    target: str
    figure: str
    met: bool


@dataclass
class LoadReport:
    figures: list[Figure] = field(default_factory=list)
    memory: list[Memory] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    reference_env: list[str] = field(default_factory=list)


def seed(base_url: str, count: int = SEED_ROWS) -> None:
    """The rows every server's table starts with, written through its own ``POST``."""
    for number in range(count):
        body = json.dumps({"name": f"seed {number}", "price": "1.00", "in_stock": True}).encode()
        request = urllib.request.Request(
            base_url + "/products", body, {"Content-Type": "application/json"}, method="POST"
        )
        urllib.request.urlopen(request, timeout=10).read()


def measure(
    report: LoadReport,
    service: Service,
    *,
    database: str,
    server: str,
    kind: str,
    endpoints: tuple[str, ...],
    seconds: float,
    work: Path,
) -> None:
    """Seed (unless the bare app), then wrk on each endpoint; the RSS around the runs."""
    if kind != "bare":
        seed(service.base_url)
    start_rss = service.rss_kib()
    for endpoint in endpoints:
        path, script = ENDPOINTS[endpoint]
        result = run_wrk(
            service.base_url + path,
            seconds=seconds,
            connections=CONNECTIONS,
            threads=THREADS,
            script=script,
            workdir=work,
        )
        report.figures.append(
            Figure(
                database,
                endpoint,
                server,
                kind,
                result.rps,
                result.p50_us / 1000,
                result.p99_us / 1000,
                result.non2xx,
                result.socket_errors,
            )
        )
    report.memory.append(
        Memory(database, server, start_rss, service.rss_kib(), seconds * len(endpoints))
    )


def _database_url(database: str, server: PostgresServer | None, name: str, work: Path) -> str:
    if database == "PostgreSQL" and server is not None:
        return server.create_database(f"bench_{name.replace('-', '_')}")
    return f"sqlite:///{work / (name + '.db')}"


def bench_load(
    projects: dict[str, Path], work: Path, seconds: float, *, postgres: bool
) -> LoadReport:
    """Every server on every database; the figures, their ratios and the targets."""
    report = LoadReport()
    python, report.reference_env = make_reference_env(
        work / "reference-venv", list(projects.values())
    )
    first = next(iter(projects.values()))
    env = {**project_env(first), "PYTHONDONTWRITEBYTECODE": "1"}
    hello = [str(first / ".venv" / "bin" / "python"), str(HELLO)]
    with serve(hello, cwd=work, env=env, log_path=work / "hello.log", ready_path="/") as bare:
        measure(
            report,
            bare,
            database="",
            server="bare Robyn",
            kind="bare",
            endpoints=(HEALTH,),
            seconds=seconds,
            work=work,
        )
        bare.kill()  # it ignores SIGTERM, like any bare Robyn 0.88 app
        bare.stop_seconds = 0.0

    databases = ["SQLite", *(["PostgreSQL"] if postgres else [])]
    with running_postgres() if postgres else _no_server() as pg:
        for database in databases:
            for reference in REFERENCES:
                if database not in reference.names:
                    continue
                url = _database_url(database, pg, f"ref_{reference.kind}", work)
                log = work / f"ref-{reference.kind}-{database}.log"
                with serve_reference(reference, python, url, work=work, log_path=log) as service:
                    name = reference.name(database)
                    measure(
                        report,
                        service,
                        database=database,
                        server=name,
                        kind=reference.kind,
                        endpoints=DATA_ENDPOINTS,
                        seconds=seconds,
                        work=work,
                    )
            for cell, project in projects.items():
                for processes in PROCESSES:
                    label = cell if processes == 1 else f"{cell}-{processes}p"
                    url = _database_url(database, pg, label, work)
                    create_schema(project, url)
                    log = work / f"{label}-{database}.log"
                    with serve_project(project, url, log, processes=processes) as service:
                        name = cell.rsplit("-", 1)[0]  # the package manager changes nothing
                        measure(
                            report,
                            service,
                            database=database,
                            server=name if processes == 1 else f"{name}, {processes} processes",
                            kind="generated" if processes == 1 else "processes",
                            endpoints=tuple(ENDPOINTS),
                            seconds=seconds,
                            work=work,
                        )
    _ratios(report.figures)
    report.targets = targets(report)
    return report


@contextlib.contextmanager
def _no_server() -> Iterator[None]:
    yield None


def _ratios(figures: list[Figure]) -> None:
    """Each figure divided by the references' on the same database and endpoint.

    A generated figure gets both ratios (and ``/healthcheck`` its ratio to the bare app);
    each reference gets its ratio to the other one.
    """
    rates = {(f.database, f.endpoint, f.kind): f.rps for f in figures if f.kind != "generated"}

    def over(figure: Figure, database: str, kind: str) -> float | None:
        reference = rates.get((database, figure.endpoint, kind))
        return figure.rps / reference if reference and figure.kind != kind else None

    for figure in figures:
        if figure.kind != "bare":
            figure.vs_ceiling = over(figure, figure.database, "ceiling")
            figure.vs_fastapi = over(figure, figure.database, "fastapi")
        if figure.kind in ("generated", "processes"):
            figure.vs_bare = over(figure, "", "bare")


def _ratio_target(
    figures: dict[str, Figure], endpoint: str, attribute: str, goal: float, reference: str
) -> tuple[str, str, bool]:
    label = f"{endpoint} >= {goal:g}x {reference}"
    figure = figures.get(endpoint)
    value = None if figure is None else getattr(figure, attribute)
    if figure is None or value is None:
        return label, "not measured", False
    return label, f"{value:.2f}x ({figure.rps:.0f} req/s)", value >= goal


def targets(report: LoadReport) -> list[Target]:
    """The issue's targets for every generated cell on every database."""
    rows: list[Target] = []
    servers = {(f.database, f.server) for f in report.figures if f.kind == "generated"}
    order = [(f.database, f.server) for f in report.figures if f.kind == "generated"]
    for database, server in sorted(servers, key=order.index):
        mine = {
            f.endpoint: f for f in report.figures if (f.database, f.server) == (database, server)
        }
        goals = GOALS[database]
        checks = [
            _ratio_target(mine, READ, "vs_ceiling", goals.read_vs_ceiling, "ceiling"),
            _ratio_target(mine, READ, "vs_fastapi", goals.read_vs_fastapi, "FastAPI"),
            _ratio_target(mine, LIST, "vs_ceiling", goals.others_vs_ceiling, "ceiling"),
            _ratio_target(mine, INSERT, "vs_ceiling", goals.others_vs_ceiling, "ceiling"),
            _ratio_target(mine, HEALTH, "vs_bare", HEALTH_VS_BARE, "bare Robyn"),
        ]
        non2xx = sum(f.non2xx for f in mine.values())
        errors = sum(f.socket_errors for f in mine.values())
        checks.append(
            (
                "0 non-2xx and 0 socket errors, every endpoint",
                f"non-2xx {non2xx}, socket errors {errors}",
                non2xx == 0 and errors == 0,
            )
        )
        spread = max(mine.values(), key=lambda f: f.p99_ms / f.p50_ms if f.p50_ms else 0.0)
        ratio = spread.p99_ms / spread.p50_ms if spread.p50_ms else 0.0
        checks.append(
            (
                f"p99 <= {P99_OVER_P50:g}x p50, every endpoint",
                f"worst {ratio:.1f}x ({spread.endpoint}: p50 {spread.p50_ms:.1f} ms, "
                f"p99 {spread.p99_ms:.1f} ms)",
                ratio <= P99_OVER_P50,
            )
        )
        memory = next(m for m in report.memory if (m.database, m.server) == (database, server))
        checks.append(
            (
                f"RSS growth < {RSS_GROWTH:.0%} over the load ({memory.seconds:.0f} s)",
                f"{memory.growth:+.1%} ({memory.start_kib} -> {memory.end_kib} KiB)",
                memory.growth < RSS_GROWTH,
            )
        )
        rows += [Target(database, server, what, figure, met) for what, figure, met in checks]
    return rows


def _times(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def render_load(report: LoadReport, seconds: float) -> list[str]:
    """The load, memory and targets tables as Markdown lines."""
    lines = [
        f"## Load: wrk -t{THREADS} -c{CONNECTIONS}, {seconds:g} s per figure, "
        f"{SEED_ROWS} seeded products",
        "",
        "| database | endpoint | server | req/s | p50 ms | p99 ms | non-2xx | socket errors "
        "| x ceiling | x FastAPI | x bare Robyn |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    databases = list(dict.fromkeys(f.database for f in report.figures))
    kinds = {"bare": 0, "generated": 1, "processes": 2, "ceiling": 3, "sync": 4, "fastapi": 5}
    for database in databases:
        for endpoint in ENDPOINTS:
            group = [f for f in report.figures if (f.database, f.endpoint) == (database, endpoint)]
            for f in sorted(group, key=lambda f: kinds[f.kind]):
                lines.append(
                    f"| {f.database or '(none)'} | {f.endpoint} | {f.server} | {f.rps:.0f} "
                    f"| {f.p50_ms:.1f} | {f.p99_ms:.1f} | {f.non2xx} | {f.socket_errors} "
                    f"| {_times(f.vs_ceiling)} | {_times(f.vs_fastapi)} | {_times(f.vs_bare)} |"
                )
    lines += [
        "",
        "## Server memory (RSS of the process group, before and after its load runs)",
        "",
        "| database | server | before KiB | after KiB | growth | over |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {m.database or '(none)'} | {m.server} | {m.start_kib} | {m.end_kib} "
        f"| {m.growth:+.1%} | {m.seconds:.0f} s |"
        for m in report.memory
    ]
    met = sum(t.met for t in report.targets)
    lines += [
        "",
        f"## Targets (issue 11): {met} of {len(report.targets)} met",
        "",
        "| database | server | target | figure | met |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {t.database} | {t.server} | {t.target} | {t.figure} | {'met' if t.met else 'missed'} |"
        for t in report.targets
    ]
    lines += ["", "References' environment: " + " ".join(report.reference_env)]
    return lines
