"""Load client: many people changing filters on the gap map at once, at Streamlit's protocol level.

Run ``python -m benchmarks.load --sessions N --changes K [--url URL] [--json FILE]``. Each session
opens a WebSocket to ``/_stcore/stream`` as the browser does, asks for the gap map page
(``BackMsg.rerun_script`` with the page name and a query string), then changes a sidebar filter
``K`` times (as-of year, group, indicator: the widget values a person would send, found by their
keys in the page's own deltas) and waits, after each change, for the script to finish with a
new Plotly figure. It reports p50/p95 latency from the filter change to the new figure, errors,
reruns per second and the server's memory (RSS of the server process tree).

Why at the protocol level: a browser per session would measure Chromium on two cores, not the
server; AppTest runs the script in-process and skips the WebSocket, the serialisation and the
session manager. The client speaks the protobuf messages of ``streamlit.proto`` of the version
pinned in ``requirements.txt``; it refuses to run against another version, and any message it
does not expect ends the run with a :class:`ProtocolError` that says what changed.

Without ``--url`` it starts ``streamlit run dashboard.py`` itself on a free port over a copy of
the sample store (``HOME`` in a temporary folder), like the browser tests do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from deploy.run import free_port, wait_healthy

log = logging.getLogger("gaplens.load")

ROOT = Path(__file__).resolve().parents[1]
PAGE = "gap_map"
"""The page every session opens (its ``st.Page`` url path)."""

FILTER_KEYS: tuple[str, ...] = ("w.as_of", "w.group", "w.indicator")
"""Widget keys (``pages/components.sidebar``) a session changes, in turn: as-of year, group,
indicator. Keys, not labels: labels are translated, keys are the app's stable names."""

RUN_TIMEOUT_S = 120.0  # one rerun that takes longer is counted as an error (a hung session)
CONNECT_TIMEOUT_S = 30.0
RSS_SAMPLE_S = 0.25  # server memory sampling period: the tree's RSS moves slowly
MAX_MESSAGE_BYTES = 64 * 2**20  # a gap map ForwardMsg is a few MB at most; refuse anything absurd
ERROR_EXAMPLES = 10  # distinct error messages kept in the report


class ProtocolError(RuntimeError):
    """The server spoke a protocol this client does not know (another Streamlit version?)."""


# --- versions ---------------------------------------------------------------------------------

def pinned_streamlit(requirements: Path = ROOT / "requirements.txt") -> str:
    """The Streamlit version pinned in requirements.txt (the protocol this client speaks)."""
    for line in requirements.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep and name.strip().lower() == "streamlit":
            return version.strip()
    raise ProtocolError(f"{requirements}: no 'streamlit==X' pin; the load client needs one to know the protocol")


def check_client_version() -> str:
    """Refuse to run when the installed Streamlit (whose ``streamlit.proto`` this client uses) is
    not the pinned one: the messages may have changed."""
    pinned = pinned_streamlit()
    installed = metadata.version("streamlit")
    if installed != pinned:
        raise ProtocolError(f"the load client speaks the protocol of streamlit {pinned} (requirements.txt) but "
                            f"streamlit {installed} is installed: check the BackMsg/ForwardMsg messages used in "
                            f"benchmarks/load.py against the new version, then update the pin")
    return pinned


# --- one session ------------------------------------------------------------------------------

@dataclass
class Widget:
    """A widget the page drew: its element id (what the protocol names) and its options."""

    id: str
    kind: str
    options: list[str] = field(default_factory=list)
    lo: float = 0.0
    hi: float = 0.0
    current: str | float | None = None


@dataclass
class RunResult:
    """What one script run sent back."""

    status: str
    figure_s: float | None = None
    finished_s: float | None = None
    figure_hash: str | None = None
    errors: list[str] = field(default_factory=list)


def _user_key(element_id: str) -> str | None:
    """The ``key=`` a widget was given, from its element id (``$$ID-<hash>-<key>``)."""
    if not element_id.startswith("$$ID-"):
        return None
    parts = element_id.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[2] != "None" else None


class Session:
    """One browser tab, as the server sees it: a WebSocket, widget states, script runs."""

    def __init__(self, url: str, index: int, seed: int) -> None:
        parsed = urllib.parse.urlparse(url)
        scheme = "wss" if parsed.scheme == "https" else "ws"
        self.page_url = f"{parsed.scheme}://{parsed.netloc}{parsed.path.rstrip('/')}/{PAGE}"
        self.origin = f"{parsed.scheme}://{parsed.netloc}"
        self.ws_url = f"{scheme}://{parsed.netloc}{parsed.path.rstrip('/')}/_stcore/stream"
        self.index = index
        self.rng = random.Random(seed * 1009 + index)
        self.ws: Any = None
        self.widgets: dict[str, Widget] = {}
        self.states: dict[str, Any] = {}  # user key -> value this session has set
        self.page_hash = ""
        self.query = ""
        self.server_version: str | None = None
        self.last_figure: str | None = None

    def _page_cookies(self) -> str:
        """GET the page as a browser does first, keeping the cookies it sets (behind nginx, the
        sticky-session cookie that must come back with the WebSocket)."""
        with urllib.request.urlopen(self.page_url, timeout=CONNECT_TIMEOUT_S) as r:  # noqa: S310 (the URL under test)
            r.read()
            cookies = r.headers.get_all("Set-Cookie") or []
        return "; ".join(c.split(";", 1)[0].strip() for c in cookies)

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        cookie = await asyncio.to_thread(self._page_cookies)
        # "streamlit" is the subprotocol the frontend selects (a second entry would carry an XSRF
        # token, a third a session id to resume: a fresh tab sends neither)
        self.ws = await asyncio.wait_for(
            connect(self.ws_url, subprotocols=["streamlit"], max_size=MAX_MESSAGE_BYTES, open_timeout=None,
                    origin=self.origin, additional_headers={"Cookie": cookie} if cookie else None),
            CONNECT_TIMEOUT_S)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):  # closing a broken socket may fail in many ways
                await self.ws.close()

    def _back_msg(self) -> bytes:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        cs.page_name = "" if self.page_hash else PAGE
        cs.context_info.timezone = "UTC"
        cs.context_info.locale = "en-US"
        for key, value in self.states.items():
            w = self.widgets.get(key)
            if w is None:
                continue
            ws = cs.widget_states.widgets.add()
            ws.id = w.id
            if w.kind == "slider":
                ws.double_array_value.data.append(float(value))
            else:
                ws.string_value = str(value)
        return msg.SerializeToString()

    async def run(self) -> RunResult:
        """Send a rerun with the current widget states; read until the script finishes."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        t0 = time.perf_counter()
        await self.ws.send(self._back_msg())
        result = RunResult(status="")
        figure: str | None = None
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), RUN_TIMEOUT_S)
            if isinstance(raw, str):
                raise ProtocolError(f"a text frame from the server ({raw[:80]!r}): Streamlit speaks binary protobuf")
            msg = ForwardMsg()
            try:
                msg.ParseFromString(raw)
            except Exception as e:  # protobuf's DecodeError and friends: the message layout changed
                raise ProtocolError(f"a ForwardMsg that does not parse ({e}): another Streamlit version?") from e
            kind = msg.WhichOneof("type")
            if kind is None:
                raise ProtocolError("a ForwardMsg with no known type: another Streamlit version?")
            if kind == "new_session":
                figure = None
                result.errors.clear()
                self._new_session(msg.new_session)
            elif kind == "delta":
                fig = self._delta(msg.delta, result)
                if fig is not None:
                    figure = fig
                    result.figure_s = time.perf_counter() - t0
            elif kind == "navigation":
                self._navigation(msg.navigation, result)
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "ref_hash":
                raise ProtocolError("the server sent a cached-message reference although this client declared "
                                    "no cached messages")
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue  # the script asked for a rerun (st.rerun): its next run follows
                result.status = status
                result.finished_s = time.perf_counter() - t0
                if status != "FINISHED_SUCCESSFULLY":
                    result.errors.append(f"script finished: {status}")
                elif figure is None:
                    result.errors.append("the run finished without a Plotly figure")
                result.figure_hash = figure
                return result

    def _new_session(self, ns: Any) -> None:
        if ns.HasField("initialize"):
            self.server_version = ns.initialize.environment_info.streamlit_version

    def _navigation(self, nav: Any, result: RunResult) -> None:
        """Keep the page's script hash (what the frontend sends on later reruns) and check that
        the session is still on the gap map (a widget callback could have navigated away)."""
        self.page_hash = nav.page_script_hash
        names = {p.page_script_hash: p.url_pathname for p in nav.app_pages}
        if names.get(nav.page_script_hash) != PAGE:
            result.errors.append(f"the session is on page {names.get(nav.page_script_hash)!r}, not {PAGE!r}")

    def _delta(self, delta: Any, result: RunResult) -> str | None:
        """Record widgets and errors; return the hash of a Plotly figure's spec, if this is one."""
        if delta.WhichOneof("type") != "new_element":
            return None
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "plotly_chart":
            return hashlib.sha256(el.plotly_chart.spec.encode("utf-8")).hexdigest()[:16]
        if kind == "exception":
            result.errors.append(f"exception on the page: {el.exception.type}: {el.exception.message[:160]}")
        elif kind == "alert" and el.alert.format == el.alert.ERROR:
            result.errors.append(f"error on the page: {el.alert.body[:160]}")
        elif kind in ("selectbox", "slider"):
            proto = getattr(el, kind)
            key = _user_key(proto.id)
            if key is None:
                return None
            w = Widget(id=proto.id, kind=kind)
            if kind == "selectbox":
                w.options = list(proto.options)
                if proto.HasField("raw_value"):
                    w.current = proto.raw_value
                elif proto.default and 0 <= proto.default[0] < len(w.options):
                    w.current = w.options[proto.default[0]]
            else:
                w.lo, w.hi = float(proto.min), float(proto.max)
                vals = list(proto.value) or list(proto.default)
                w.current = vals[0] if vals else None
            self.widgets[key] = w
        return None

    def next_change(self, step: int) -> str:
        """Pick a filter and a new value for it (deterministic per session and step)."""
        key = FILTER_KEYS[(self.index + step) % len(FILTER_KEYS)]
        w = self.widgets.get(key)
        if w is None:
            raise ProtocolError(f"the {PAGE} page drew no widget with key {key!r} (seen: {sorted(self.widgets)}); "
                                "the page or the element-id scheme changed")
        if w.kind == "slider":
            choices: list[Any] = [float(y) for y in range(int(w.lo), int(w.hi) + 1) if float(y) != w.current]
        else:
            choices = [o for o in w.options if o != w.current]
        if not choices:
            raise ProtocolError(f"widget {key!r} offers no other value to pick")
        value = self.rng.choice(choices)
        self.states[key] = value
        w.current = value
        return key


# --- the run ----------------------------------------------------------------------------------

@dataclass
class Tally:
    """Everything the sessions measured, shared by them (one event loop: no locks needed)."""

    latencies: list[float] = field(default_factory=list)
    finished: list[float] = field(default_factory=list)
    page_loads: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    runs: int = 0
    first_sent: float | None = None
    last_done: float | None = None
    server_versions: set[str] = field(default_factory=set)


async def _one_session(url: str, index: int, changes: int, seed: int, tally: Tally, start_gate: asyncio.Event,
                       think_s: float) -> None:
    s = Session(url, index, seed)
    try:
        await s.connect()
        await start_gate.wait()
        tally.first_sent = tally.first_sent or time.perf_counter()
        first = await s.run()
        tally.runs += 1
        if s.server_version:
            tally.server_versions.add(s.server_version)
        if first.errors:
            tally.errors.extend(f"session {index}, page load: {e}" for e in first.errors)
        if first.finished_s is not None:
            tally.page_loads.append(first.finished_s)
        previous = first.figure_hash
        for step in range(changes):
            if think_s:
                await asyncio.sleep(think_s)
            key = s.next_change(step)
            r = await s.run()
            tally.runs += 1
            tally.last_done = time.perf_counter()
            if r.errors:
                tally.errors.extend(f"session {index}, change {step + 1} ({key}): {e}" for e in r.errors)
                continue
            if r.figure_hash == previous:
                tally.errors.append(f"session {index}, change {step + 1} ({key}): the figure did not change")
                continue
            previous = r.figure_hash
            tally.latencies.append(r.figure_s or 0.0)
            tally.finished.append(r.finished_s or 0.0)
    except ProtocolError:
        raise
    except (TimeoutError, OSError) as e:
        tally.errors.append(f"session {index}: {type(e).__name__}: {e}")
    except Exception as e:  # websockets' ConnectionClosed and friends: counted, not fatal for the others
        tally.errors.append(f"session {index}: {type(e).__name__}: {e}")
    finally:
        await s.close()


async def _drive(url: str, sessions: int, changes: int, seed: int, think_s: float) -> Tally:
    tally = Tally()
    gate = asyncio.Event()
    tasks = [asyncio.create_task(_one_session(url, i, changes, seed, tally, gate, think_s)) for i in range(sessions)]
    await asyncio.sleep(0)  # every session connects first, then all start together
    gate.set()
    try:
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
    return tally


# --- server memory ----------------------------------------------------------------------------

def pid_on_port(port: int) -> int | None:
    """The process listening on a local TCP port (ours to see: the server runs as this user)."""
    try:
        conns = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return None
    for c in conns:
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
            return int(c.pid)
    return None


def tree_rss_mb(pids: Sequence[int]) -> float | None:
    """Resident memory of processes and all their children, in MB (None when none is visible)."""
    total, seen = 0, set()
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for p in procs:
            if p.pid in seen:
                continue
            seen.add(p.pid)
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
    return round(total / 2**20, 1) if seen else None


class RssSampler:
    """Samples the server tree's RSS in a thread while the sessions run (start, peak, end)."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = list(pids)
        self.start = tree_rss_mb(self.pids)
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_S):
            now = tree_rss_mb(self.pids)
            if now is not None and (self.peak is None or now > self.peak):
                self.peak = now

    def stop(self) -> dict[str, float | None]:
        self._stop.set()
        self._thread.join(timeout=2)
        end = tree_rss_mb(self.pids)
        return {"server_rss_start_mb": self.start, "server_rss_peak_mb": max(filter(None, [self.peak, end]), default=None),
                "server_rss_end_mb": end}


# --- a server of our own ----------------------------------------------------------------------

@contextlib.contextmanager
def serve(work: Path, *, data_dir: Path | None = None, port: int | None = None,
          env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``streamlit run dashboard.py`` on a free port, ``HOME`` in ``work``, over ``data_dir`` (default:
    a copy of the sample in ``work``); yields ``(url, process)`` once it answers, stops it after."""
    if data_dir is None:
        data_dir = work / "sample_data"
        if not data_dir.exists():
            shutil.copytree(ROOT / "sample_data", data_dir, ignore=shutil.ignore_patterns("boundaries"))
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    full_env = {**os.environ, "HOME": str(home), "GAPLENS_DATA_DIR": str(data_dir), "PYTHONNOUSERSITE": "1",
                **(env or {})}
    log_path = work / f"streamlit-{port}.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log_path=log_path)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


# --- report -----------------------------------------------------------------------------------

def _pct(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (nearest rank, so p95 of 20 values is the 19th: never interpolated)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100)
    return round(ordered[int(rank) - 1], 4)


def _run_async(coro: Any) -> Any:
    """``asyncio.run`` on this thread, or on a worker thread when this one already runs an event loop
    (a test process where a browser driver left one running): the client never shares a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def measure(url: str, *, sessions: int, changes: int, pids: Sequence[int] = (), seed: int = 1,
            think_s: float = 0.0) -> dict[str, Any]:
    """Run the sessions against ``url``; the report as a dict (see :func:`main` for the keys)."""
    pinned = check_client_version()
    if not pids:
        port = urllib.parse.urlparse(url).port
        found = pid_on_port(port) if port else None
        pids = [found] if found else []
    load_before = [round(x, 2) for x in os.getloadavg()]
    sampler = RssSampler(pids)
    cpu0 = psutil.cpu_times()
    t0 = time.perf_counter()
    try:
        tally = _run_async(_drive(url, sessions, changes, seed, think_s))
    finally:
        rss = sampler.stop()
    wall = time.perf_counter() - t0
    cpu1 = psutil.cpu_times()
    busy = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    for v in tally.server_versions:
        if v != pinned:
            raise ProtocolError(f"the server runs streamlit {v}, the client speaks {pinned} (requirements.txt)")
    expected = sessions * changes
    errors = list(tally.errors)
    if len(tally.latencies) + len(errors) < expected and not errors:
        errors.append(f"only {len(tally.latencies)} of {expected} filter changes completed")
    span = (tally.last_done - tally.first_sent) if tally.first_sent and tally.last_done else wall
    return {
        "sessions": sessions, "changes": changes, "url": url,
        "errors": len(errors),
        "p50_s": _pct(tally.latencies, 50), "p95_s": _pct(tally.latencies, 95),
        "max_s": round(max(tally.latencies), 4) if tally.latencies else None,
        "mean_s": round(statistics.fmean(tally.latencies), 4) if tally.latencies else None,
        "page_finished_p50_s": _pct(tally.finished, 50), "page_finished_p95_s": _pct(tally.finished, 95),
        "page_load_p95_s": _pct(tally.page_loads, 95),
        "changes_measured": len(tally.latencies), "reruns": tally.runs,
        "reruns_per_s": round(tally.runs / span, 2) if span > 0 else None,
        "wall_s": round(wall, 2),
        **rss, "server_pids": list(pids),
        "machine_cpu_busy_share": round(busy / (wall * (psutil.cpu_count() or 1)), 2) if wall > 0 else None,
        "load_average_before": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cores": psutil.cpu_count(), "streamlit": pinned,
        "error_examples": sorted(set(errors))[:ERROR_EXAMPLES],
        "latencies_s": [round(x, 4) for x in tally.latencies],
    }


def render(r: dict[str, Any]) -> str:
    """A short human summary of a report."""
    def s(x: Any) -> str:
        return "—" if x is None else f"{x:.3f} s" if isinstance(x, float) else str(x)
    lines = [
        f"{r['sessions']} sessions x {r['changes']} filter changes against {r['url']}",
        f"  filter change -> new figure: p50 {s(r['p50_s'])}, p95 {s(r['p95_s'])}, max {s(r['max_s'])} "
        f"({r['changes_measured']} measured)",
        f"  page finished after the change: p50 {s(r['page_finished_p50_s'])}, p95 {s(r['page_finished_p95_s'])}",
        f"  errors: {r['errors']}   reruns: {r['reruns']} ({r['reruns_per_s']} per s)",
        f"  server RSS (MB): start {r['server_rss_start_mb']}, peak {r['server_rss_peak_mb']}, "
        f"end {r['server_rss_end_mb']} (pids {r['server_pids'] or 'not found'})",
        f"  load average before {r['load_average_before']}, after {r['load_average_after']}; "
        f"{r['cores']} cores, {r['machine_cpu_busy_share']} busy",
    ]
    lines += [f"  ! {e}" for e in r["error_examples"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--sessions", type=int, default=10, help="concurrent sessions (default 10)")
    p.add_argument("--changes", type=int, default=5, help="filter changes per session (default 5)")
    p.add_argument("--url", help="a running GapLens (default: start one on the sample, on a free port)")
    p.add_argument("--pid", type=int, action="append", default=[],
                   help="server process whose tree's memory is reported (repeatable; default: the one on the port)")
    p.add_argument("--think", type=float, default=0.0,
                   help="seconds a session waits before each change (default 0: as fast as the server answers)")
    p.add_argument("--seed", type=int, default=1, help="seed of the filter values picked")
    p.add_argument("--json", type=Path, help="write the report as JSON here")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if a.sessions < 1 or a.changes < 1:
        p.error("--sessions and --changes must be at least 1")
    try:
        check_client_version()
        if a.url:
            report = measure(a.url.rstrip("/"), sessions=a.sessions, changes=a.changes, pids=a.pid,
                             seed=a.seed, think_s=a.think)
        else:
            with tempfile.TemporaryDirectory(prefix="gaplens-load-") as tmp, serve(Path(tmp)) as (url, proc):
                report = measure(url, sessions=a.sessions, changes=a.changes, pids=a.pid or [proc.pid],
                                 seed=a.seed, think_s=a.think)
    except ProtocolError as e:
        print(f"load client: protocol mismatch: {e}", file=sys.stderr)
        return 3
    print(render(report))
    if a.json:
        a.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0 if report["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
