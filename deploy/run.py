"""Run GapLens as several app processes behind nginx, over one shared read-only store.

``python -m deploy.run --replicas 2 --port 8080 [--data-dir DIR] [--work DIR]`` starts ``N``
``streamlit run dashboard.py`` replicas on free loopback ports (``GAPLENS_READ_ONLY=1``, one
``GAPLENS_DATA_DIR``), renders ``deploy/nginx.conf.template`` into a work folder and runs Debian's
nginx in the foreground with that folder as its prefix (its own pid, logs and temp files: no
system configuration is read or touched, no root needed). It waits until the whole chain answers,
prints the URL, and stops everything on Ctrl-C / SIGTERM or as soon as one process dies.

Why several processes: a Streamlit server runs every session's script in threads of one Python
process, so it uses about one core however many the machine has (see benchmarks/RESULTS.md,
"Load"); replicas use the others. Why read-only: the replicas share the store's files, and only
one writer at a time is safe; imports go through the CLI (or one writable instance) and every
replica notices the new data within seconds (``data_layers.cache`` re-checks the store's
fingerprint).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("gaplens.deploy")

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")  # Debian installs it in sbin, off a normal user's PATH
START_TIMEOUT_S = 90.0  # a cold replica start on 2 busy cores takes 5-15 s
STOP_TIMEOUT_S = 15.0


class DeployError(RuntimeError):
    """The deployment could not start (no nginx, a replica that does not answer, ...)."""


def find_nginx() -> str | None:
    """The nginx binary, or None when it is not installed (``apt-get install nginx``)."""
    for c in NGINX_CANDIDATES:
        found = shutil.which(c)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None = None, *, timeout: float = START_TIMEOUT_S,
                 log_path: Path | None = None) -> None:
    """Poll ``url/_stcore/health`` until it answers 200; fail quoting the log if the process dies."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:] if log_path and log_path.exists() else ""
            raise DeployError(f"{proc.args[0] if proc.args else 'process'} exited with code {proc.returncode}: {tail}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:  # noqa: S310 (our own server)
            if r.status == 200:
                return
        if time.monotonic() > deadline:
            tail = log_path.read_text(errors="replace")[-2000:] if log_path and log_path.exists() else ""
            raise DeployError(f"no answer from {url}/_stcore/health within {timeout:.0f} s: {tail}")
        time.sleep(0.3)


def render_config(*, prefix: Path, listen: str, upstreams: Sequence[str], workers: int = 1,
                  max_body_mb: int = 200) -> str:
    """The nginx configuration for these replicas (``host:port`` each) from the template."""
    servers = "\n".join(f"        server {u} max_fails=3 fail_timeout=10s;" for u in upstreams)
    text = TEMPLATE.read_text(encoding="utf-8")
    for key, value in {"PREFIX": str(prefix), "LISTEN": listen, "SERVERS": servers, "WORKERS": str(workers),
                       "MAX_BODY_MB": str(max_body_mb)}.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        raise DeployError(f"unfilled placeholder in {TEMPLATE}: {text[text.index('{{'):][:40]}")
    return text


@dataclass
class Deployment:
    """The running chain: nginx in front, the replicas behind it."""

    url: str
    work: Path
    nginx: subprocess.Popen[bytes] | None = None
    replicas: list[subprocess.Popen[bytes]] = field(default_factory=list)
    replica_urls: list[str] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        """Every process of the deployment (for memory measurement)."""
        return [p.pid for p in [*self.replicas, *([self.nginx] if self.nginx else [])]]

    def dead(self) -> list[str]:
        """Processes that exited (a deployment with one is broken)."""
        named = [("nginx", self.nginx)] + [(f"replica {u}", p) for u, p in zip(self.replica_urls, self.replicas, strict=True)]
        return [f"{name} (exit {p.returncode})" for name, p in named if p is not None and p.poll() is not None]


def _stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=STOP_TIMEOUT_S)


@contextlib.contextmanager
def deployment(*, replicas: int, port: int, data_dir: Path, work: Path, host: str = "127.0.0.1",
               nginx_workers: int = 1, env: dict[str, str] | None = None) -> Iterator[Deployment]:
    """Start the replicas and nginx (see the module docstring); yield once all answer; stop all after."""
    nginx_bin = find_nginx()
    if nginx_bin is None:
        raise DeployError("nginx is not installed (Debian: apt-get install nginx)")
    if replicas < 1:
        raise DeployError("--replicas must be at least 1")
    if not data_dir.is_dir():
        raise DeployError(f"{data_dir}: no such store folder")
    work.mkdir(parents=True, exist_ok=True)
    (work / "home").mkdir(exist_ok=True)
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (work / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    base_env = {**os.environ, "HOME": str(work / "home"), "GAPLENS_DATA_DIR": str(data_dir.resolve()),
                "GAPLENS_READ_ONLY": "1", "PYTHONNOUSERSITE": "1", **(env or {})}
    dep = Deployment(url=f"http://{host}:{port}", work=work)
    try:
        for _ in range(replicas):
            rport = free_port()
            log_path = work / f"replica-{rport}.log"
            with open(log_path, "wb") as out:
                dep.replicas.append(subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
                    [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(rport),
                     "--server.address", "127.0.0.1", "--server.headless", "true",
                     "--server.fileWatcherType", "none"],
                    cwd=ROOT, env=base_env, stdout=out, stderr=subprocess.STDOUT))
            dep.replica_urls.append(f"127.0.0.1:{rport}")
        for u, p in zip(dep.replica_urls, dep.replicas, strict=True):
            wait_healthy(f"http://{u}", p, log_path=work / f"replica-{u.rsplit(':', 1)[1]}.log")
        max_mb = int(base_env.get("GAPLENS_MAX_UPLOAD_MB") or 200)
        conf = work / "nginx.conf"
        conf.write_text(render_config(prefix=work, listen=f"{host}:{port}", upstreams=dep.replica_urls,
                                      workers=nginx_workers, max_body_mb=max_mb), encoding="utf-8")
        nginx_log = work / "nginx.out"
        with open(nginx_log, "wb") as out:
            # -e: the error log before the configuration is read (else nginx tries /var/log/nginx)
            dep.nginx = subprocess.Popen([nginx_bin, "-p", str(work), "-c", str(conf), "-e", str(work / "error.log"),  # noqa: S603
                                          "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT)
        wait_healthy(dep.url, dep.nginx, log_path=nginx_log, timeout=30)
        log.info("GapLens: %s (nginx, %d replicas: %s; read-only store %s)", dep.url, replicas,
                 ", ".join(dep.replica_urls), data_dir)
        yield dep
    finally:
        _stop([*([dep.nginx] if dep.nginx else []), *dep.replicas])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deploy.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--replicas", type=int, default=2, help="app processes (default 2: about one per core)")
    p.add_argument("--port", type=int, default=8080, help="port nginx listens on (default 8080)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address nginx listens on (default 127.0.0.1; 0.0.0.0 to serve the network)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="the shared store (default GAPLENS_DATA_DIR, else the sample); served read-only")
    p.add_argument("--work", type=Path, default=None,
                   help="folder for nginx.conf, logs and temp files (default: a new temporary folder)")
    p.add_argument("--nginx-workers", type=int, default=1, help="nginx worker processes (default 1)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data_dir = a.data_dir or Path(os.environ.get("GAPLENS_DATA_DIR") or ROOT / "sample_data")
    stop = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    work_ctx = contextlib.nullcontext(str(a.work)) if a.work else tempfile.TemporaryDirectory(prefix="gaplens-deploy-")
    try:
        with work_ctx as work, deployment(replicas=a.replicas, port=a.port, host=a.host, data_dir=data_dir,
                                          work=Path(work), nginx_workers=a.nginx_workers) as dep:
            print(f"GapLens is served at {dep.url} ({a.replicas} replicas behind nginx; logs in {work}). "
                  "Ctrl-C stops it.", flush=True)
            while not stop:
                dead = dep.dead()
                if dead:
                    log.error("stopping: %s", ", ".join(dead))
                    return 1
                time.sleep(1)
    except DeployError as e:
        print(f"deploy: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
