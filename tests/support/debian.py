"""Installing a missing tool from Debian's packages, as the benchmark and CI sessions need."""

from __future__ import annotations

import os
import shutil
import subprocess

__all__ = ["apt_install", "ensure_program"]


def apt_install(*packages: str) -> None:
    """``apt-get install`` ``packages``; a clear error where that is not possible (not root)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        names = " ".join(packages)
        raise RuntimeError(f"{names} missing; install it (Debian: apt-get install {names}).")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True)


def ensure_program(program: str, package: str | None = None) -> str:
    """The path of ``program``, installed from Debian's packages first when it is not on PATH.

    Args:
        program: The executable to find.
        package: The Debian package that provides it (default: the program's name).
    """
    found = shutil.which(program)
    if found:
        return found
    apt_install(package or program)
    found = shutil.which(program)
    if not found:
        raise RuntimeError(f"apt-get install {package or program} did not put {program} on PATH.")
    return found
