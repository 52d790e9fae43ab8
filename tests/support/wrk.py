"""Load runs with wrk: the request scripts of the bench and the reliability run, and figures."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.debian import ensure_program

__all__ = ["MIX_LUA", "POST_LUA", "WrkResult", "ensure_wrk", "run_wrk"]


def ensure_wrk() -> str:
    """The path of wrk, installed from Debian's packages when missing."""
    return ensure_program("wrk")


# wrk's summary printed by a Lua `done` hook as one JSON line: exact counts and percentiles.
WRK_REPORT_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "non2xx": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "status": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    e.status, latency:percentile(50), latency:percentile(99), latency.max))
end
"""

POST_LUA = """
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"name": "bench %d", "price": "19.99", "in_stock": true}', counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"""

# The mix of the long reliability run: reads of one item, of a page, the health check, and one
# write in ten (so the table grows, as a real service's does).
MIX_LUA = """
local counter = 0
request = function()
  counter = counter + 1
  local kind = counter % 10
  if kind == 0 then
    local body = string.format('{"name": "load %d", "price": "1.50", "in_stock": false}', counter)
    return wrk.format("POST", "/products", {["Content-Type"] = "application/json"}, body)
  elseif kind < 5 then
    return wrk.format("GET", "/products/1")
  elseif kind < 8 then
    return wrk.format("GET", "/products?limit=20")
  end
  return wrk.format("GET", "/healthcheck")
end
"""


@dataclass
class WrkResult:
    """One wrk run: counts and latencies (microseconds)."""

    requests: int
    duration_us: int
    non2xx: int
    socket_errors: int
    p50_us: int
    p99_us: int
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0


def run_wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 2,
    script: str = "",
    workdir: Path,
    timeout_s: int = 5,
) -> WrkResult:
    """Drive ``url`` with wrk; ``script`` (Lua) may set ``request``; the report hook is added."""
    lua = workdir / f"wrk-{os.getpid()}-{time.monotonic_ns()}.lua"
    lua.write_text(script + WRK_REPORT_LUA)
    completed = subprocess.run(
        [
            ensure_wrk(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={timeout_s}s",
            "-s",
            str(lua),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    lua.unlink(missing_ok=True)
    line = next(
        (line for line in completed.stdout.splitlines() if line.startswith("WRKJSON ")), None
    )
    if line is None:
        raise RuntimeError(f"wrk printed no report:\n{completed.stdout}\n{completed.stderr}")
    data = json.loads(line.removeprefix("WRKJSON "))
    # wrk counts responses with status > 399 as "status" errors (non-2xx/3xx).
    return WrkResult(
        requests=data["requests"],
        duration_us=data["duration_us"],
        non2xx=data["non2xx"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        p50_us=data["p50_us"],
        p99_us=data["p99_us"],
        raw=data,
    )
