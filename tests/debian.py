"""Installing a missing tool from Debian's packages, as the benchmark and CI sessions need."""

from __future__ import annotations

import os
import shutil
import subprocess

__all__ = ["apt_install"]


def apt_install(*packages: str) -> None:
    """``apt-get install`` ``packages``; a clear error where that is not possible (not root)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        names = " ".join(packages)
        raise RuntimeError(f"{names} missing; install it (Debian: apt-get install {names}).")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True)
