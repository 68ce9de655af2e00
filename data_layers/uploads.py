"""Temporary folders for uploaded files, cleaned when their server stops (or at the next start).

An upload is kept in ``<temp>/gaplens-<purpose>-<pid>-<random>`` while a person reviews it. The
process id in the name says whose folder it is: at start, the folders of processes that no longer
run (a server killed with ``kill -9``) are removed; at a normal exit, the process removes its own.
A folder of a live process is never touched, so two servers on one machine do not interfere.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "gaplens-"
PURPOSES = ("upload", "mapping")
_NAME = re.compile(rf"^{PREFIX}(?:{'|'.join(PURPOSES)})-(?:(\d+)-)?")
LEGACY_AGE_S = 3600  # folders named before the pid was part of the name: no process can claim them after an hour


def new_dir(purpose: str) -> Path:
    """A private temporary folder for one upload, removed at this process's exit."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown upload purpose {purpose!r}")
    _register_exit()
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{purpose}-{os.getpid()}-"))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def sweep(root: Path | None = None, *, mine: bool = False) -> list[Path]:
    """Remove upload folders of dead processes (and, with ``mine``, this process's own). Returns them."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for p in entries:
        m = _NAME.match(p.name)
        if not m or not p.is_dir():
            continue
        pid = int(m.group(1)) if m.group(1) else None
        if pid is None:
            try:
                stale = time.time() - p.stat().st_mtime > LEGACY_AGE_S
            except OSError:
                continue
        else:
            stale = (mine and pid == os.getpid()) or not _alive(pid)
        if stale:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    if removed:
        log.info("removed %d leftover upload folder(s) from %s", len(removed), root)
    return removed


@functools.cache
def _register_exit() -> None:
    """Once per process: remove this process's upload folders when it exits normally."""
    atexit.register(sweep, mine=True)
