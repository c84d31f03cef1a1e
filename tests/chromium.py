"""Headless Chromium, as the test command installs it (Debian's chromium), for pages that
people look at: the report, the API's documentation."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def chromium(*args: str, tmp_path: Path) -> str:
    """Run headless Chromium; what it printed (``--dump-dom``: the page after its scripts)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("chromium is missing: scripts/test-all installs it (apt-get install chromium)")
    done = subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'chromium'}",
            *args,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return done.stdout.decode("utf-8", "replace")
