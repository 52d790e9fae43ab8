"""Run the nox sessions of some tags on a few workers: CI's wall time, not its work, shrinks.

The end-to-end sessions wait on installs and servers as much as on the processor, so two of
them share the machine's two cores well. Each session's output is printed whole when it ends
(never interleaved), with nox's own "Session ... was successful" line. Sessions tagged
``alone`` (load measurements) run after the others, one at a time.

    uv run python -m tests.support.session_pool --tags ci --jobs 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["main"]

# Listed first, since the pool takes sessions in order: the longest one should not start last.
LONGEST_FIRST = ("tests",)
ALONE = "alone"


def _sessions(tags: list[str]) -> list[tuple[str, list[str]]]:
    listed = subprocess.run(
        ["nox", "--list", "--json", "--tags", *tags],
        capture_output=True,
        text=True,
        check=True,
    )
    return [(item["session"], item["tags"]) for item in json.loads(listed.stdout)]


def _ordered(names: list[str]) -> list[str]:
    return sorted(names, key=lambda name: (name not in LONGEST_FIRST, names.index(name)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", nargs="+", required=True)
    parser.add_argument("--jobs", type=int, default=2)
    options = parser.parse_args(argv)
    sessions = _sessions(options.tags)
    pooled = _ordered([name for name, tags in sessions if ALONE not in tags])
    alone = [name for name, tags in sessions if ALONE in tags]
    printing = threading.Lock()
    failed: list[str] = []

    def run(name: str) -> None:
        done = subprocess.run(
            ["nox", "-s", name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        with printing:
            sys.stdout.write(done.stdout)
            sys.stdout.flush()
            if done.returncode != 0:
                failed.append(name)

    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        list(pool.map(run, pooled))
    for name in alone:
        run(name)
    if failed:
        print(f"nox sessions failed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
