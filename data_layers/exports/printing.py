"""HTML to PDF with headless Chromium (Playwright), with no request leaving the machine.

Why not kaleido's own PDF: kaleido prints the chart as an ``<img>`` of its SVG, and Chromium
then writes ligature glyphs (``ﬁ``, ``ﬃ``) into the PDF's text layer, so "official" cannot be
found in a chart PDF. Printing the SVG inline with ligatures switched off keeps every word
searchable and every map a vector. The same printer makes the evidence briefs.

Every printing page may load only ``data:``, ``file:``, ``about:`` and ``blob:`` URLs; every
other request is blocked and recorded in :attr:`PdfPrinter.outside_requests`.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import html
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (  # STACK_NOTES.md "Real browser": headless, no background calls home
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
LOCAL_SCHEMES = ("data:", "file:", "about:", "blob:")
"""URL schemes a printed document may load: everything it shows is inside the document."""

OFFLINE_PROXY = "http://127.0.0.1:9"
"""A proxy nobody listens on: Chromium's own background calls (update checks, time, search
suggestions) fail at once instead of leaving the machine; the page's requests are routed below."""

PAPERS = {"a4": "A4", "letter": "Letter"}
PRINT_TIMEOUT_MS = 60_000
CLOSE_TIMEOUT_S = 20  # closing Chromium takes well under a second; past this, give up and exit

NO_LIGATURES_CSS = '* { font-variant-ligatures: none; font-feature-settings: "liga" 0, "clig" 0; }'
"""Ligature glyphs would reach the PDF text layer as single characters (``ﬁ``): searching
"official" would then fail."""


class PdfPrinter:
    """One headless Chromium, driven from its own thread, printing HTML to PDF.

    Playwright's sync API refuses to run inside an asyncio loop and binds its objects to the
    thread that made them; a private worker thread avoids both problems, whichever thread (a
    Streamlit script, the CLI, a test) asks for a PDF, and serialises the jobs. The worker is a
    daemon thread fed by a queue (not a ThreadPoolExecutor, which refuses work once the
    interpreter starts exiting), so that the browser can still be closed cleanly at exit.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], concurrent.futures.Future[Any]] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="gaplens-pdf", daemon=True)
        self._worker.start()
        self._pw: Any = None
        self._browser: Any = None
        self._closed = False
        self.requests: list[str] = []
        """Every URL the printing pages asked for (local ones and any blocked one)."""
        self.outside_requests: list[str] = []
        """Requests that would have left the machine; blocked. Empty unless something is wrong."""

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as e:  # handed to the caller's thread, which re-raises it
                future.set_exception(e)

    def _call(self, fn: Callable[[], Any], timeout: float | None = None) -> Any:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._jobs.put((fn, future))
        return future.result(timeout=timeout)

    def __enter__(self) -> PdfPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        if self._browser is None or not self._browser.is_connected():
            from playwright.sync_api import sync_playwright

            if self._pw is None:
                self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS),
                                                     proxy={"server": OFFLINE_PROXY})

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            self.outside_requests.append(url)
            log.warning("blocked an outside request while printing: %s", url[:200])
            route.abort()

    def _print(self, document: str, pdf_options: dict[str, Any]) -> bytes:
        self._start()
        page = self._browser.new_page()
        try:
            page.on("request", lambda r: self.requests.append(r.url))
            page.route("**/*", self._route)
            page.set_content(document, wait_until="load", timeout=PRINT_TIMEOUT_MS)
            return page.pdf(**pdf_options)
        finally:
            page.close()

    def _submit(self, document: str, pdf_options: dict[str, Any]) -> bytes:
        if self._closed:
            raise RuntimeError("this PDF printer is closed")
        return self._call(lambda: self._print(document, pdf_options))

    def print_html(self, document: str, *, paper: str = "a4", header: str = "", footer: str = "",
                   margins: dict[str, str] | None = None) -> bytes:
        """PDF bytes of an HTML document on A4 or Letter, with a running header and footer."""
        if paper not in PAPERS:
            raise ValueError(f"paper {paper!r}: expected one of {', '.join(PAPERS)}")
        return self._submit(document, {
            "format": PAPERS[paper], "print_background": True, "display_header_footer": bool(header or footer),
            "header_template": header or "<span></span>", "footer_template": footer or "<span></span>",
            "margin": margins or {}, "prefer_css_page_size": False})

    def print_svg(self, svg: str, *, width: int, height: int, title: str = "") -> bytes:
        """A one-page PDF exactly the size of an SVG figure (layout pixels), text kept as text.

        ``title`` becomes the PDF's document title (without one, Chromium writes "about:blank").
        """
        safe = html.escape(title or "GapLens", quote=False)
        document = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{safe}</title><style>"
                    f"@page {{ size: {int(width)}px {int(height)}px; margin: 0; }} html, body {{ margin: 0; }} "
                    f"svg {{ display: block; }} {NO_LIGATURES_CSS}</style></head><body>{svg}</body></html>")
        return self._submit(document, {"width": f"{int(width)}px", "height": f"{int(height)}px",
                                       "print_background": True, "prefer_css_page_size": True,
                                       "page_ranges": "1", "margin": {"top": "0", "bottom": "0",
                                                                      "left": "0", "right": "0"}})

    def close(self) -> None:
        """Close the browser and the worker thread (idempotent)."""
        if self._closed:
            return
        self._closed = True

        def _stop() -> None:
            if self._browser is not None:
                self._browser.close()
                self._browser = None
            if self._pw is not None:
                self._pw.stop()
                self._pw = None
        try:
            self._call(_stop, timeout=CLOSE_TIMEOUT_S)
        except (concurrent.futures.TimeoutError, RuntimeError) as e:  # a hung browser must not hang the exit
            log.warning("PDF browser did not close cleanly: %s", e)
        self._jobs.put(None)


_shared: dict[str, PdfPrinter] = {}
_shared_lock = threading.Lock()


def shared_printer() -> PdfPrinter:
    """The process's persistent printer (started on first use, closed at exit), like the export
    browser: a download click then costs a page, not a browser start."""
    with _shared_lock:
        printer = _shared.get("printer")
        if printer is None or printer._closed:
            printer = PdfPrinter()
            _shared["printer"] = printer
            atexit.register(printer.close)
        return printer
