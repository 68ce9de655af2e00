"""Fetch axe-core (the accessibility rules engine the browser tests inject) into a cache folder.

axe-core is an npm package (MPL-2.0). Its ``axe.min.js`` is about 650 KB, too large to keep in
the repository, so it is fetched once with the ordinary npm client (``npm pack``) into a cache
outside the repository, at an exact version whose tarball hash is checked before use::

    python tools/axe.py            # prints the path of axe.min.js, fetching it when missing

The cache is ``$GAPLENS_AXE_CACHE``, else ``$XDG_CACHE_HOME/gaplens/axe``, else
``~/.cache/gaplens/axe``. ``$GAPLENS_AXE_JS`` points at an existing axe.min.js instead.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

log = logging.getLogger("gaplens.axe")

AXE_VERSION = "4.14.1"
#: SHA-256 of axe-core-4.14.1.tgz as the npm registry serves it (npm also checks its sha512)
AXE_TGZ_SHA256 = "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745"
NPM_TIMEOUT_S = 300


class AxeUnavailableError(RuntimeError):
    """axe-core could not be fetched (no npm, no registry) or failed its hash check."""


def cache_dir() -> Path:
    if os.environ.get("GAPLENS_AXE_CACHE"):
        return Path(os.environ["GAPLENS_AXE_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gaplens" / "axe"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_axe() -> Path:
    """Path of a verified ``axe.min.js``, fetching axe-core with ``npm pack`` when needed."""
    if os.environ.get("GAPLENS_AXE_JS"):
        path = Path(os.environ["GAPLENS_AXE_JS"])
        if not path.is_file():
            raise AxeUnavailableError(f"GAPLENS_AXE_JS={path} does not exist")
        return path
    root = cache_dir() / f"axe-core-{AXE_VERSION}"
    js = root / "package" / "axe.min.js"
    if js.is_file():
        return js
    npm = shutil.which("npm")
    if not npm:
        raise AxeUnavailableError("npm is not installed (Debian: apt-get install npm), so axe-core cannot be fetched")
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root.parent, prefix=".fetch-") as tmp:
        argv = [npm, "pack", "--silent", f"axe-core@{AXE_VERSION}", "--pack-destination", tmp]
        res = subprocess.run(argv, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False)  # noqa: S603 - fixed argv
        tgz = Path(tmp) / f"axe-core-{AXE_VERSION}.tgz"
        if res.returncode != 0 or not tgz.is_file():
            raise AxeUnavailableError(f"npm pack axe-core@{AXE_VERSION} failed: {(res.stderr or res.stdout).strip()[-300:]}")
        digest = _sha256(tgz)
        if digest != AXE_TGZ_SHA256:
            raise AxeUnavailableError(f"axe-core-{AXE_VERSION}.tgz has SHA-256 {digest}, expected {AXE_TGZ_SHA256}")
        staging = Path(tmp) / "x"
        with tarfile.open(tgz) as tar:
            tar.extractall(staging, filter="data")  # the "data" filter refuses links and paths outside
        if root.exists():
            shutil.rmtree(root)
        os.replace(staging, root)
    log.info("axe-core %s cached at %s", AXE_VERSION, js)
    return js


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        print(ensure_axe())
    except AxeUnavailableError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
