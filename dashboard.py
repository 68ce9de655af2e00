"""GapLens dashboard: ``streamlit run dashboard.py`` (or ``make run``).

The entry point sets the page up once, keeps the shared view in sync with the URL, draws the
filter sidebar (hidden in presentation mode) and hands over to the page the user is on. The
pages live in ``pages/`` and are registered here with ``st.Page`` + ``st.navigation``.
"""

from __future__ import annotations

import logging
import uuid

import streamlit as st
from PIL import Image, ImageDraw

ICON_PX = 64  # favicon drawn here: a Material icon would be fetched from Google's font CDN


def _icon() -> Image.Image:
    """A lens (GapLens blue) over a gap (orange): drawn locally, so the tab icon needs no request."""
    img = Image.new("RGBA", (ICON_PX, ICON_PX), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse((6, 6, 44, 44), outline=(0, 87, 135, 255), width=7)
    d.line((39, 39, 58, 58), fill=(0, 87, 135, 255), width=9)
    d.rectangle((19, 19, 31, 31), fill=(230, 159, 0, 255))
    return img


st.set_page_config(page_title="GapLens", page_icon=_icon(), layout="wide", initial_sidebar_state="expanded")

from data_layers import cache, settings, storage  # noqa: E402  (set_page_config must come first)
from data_layers.i18n import t  # noqa: E402
from pages import components as ui  # noqa: E402

log = logging.getLogger("gaplens.dashboard")


def main() -> None:
    ui.entry_started()
    try:
        settings.check_all()
        gs = cache.get_store()
    except (storage.StoreError, settings.SettingError, OSError) as e:
        log.exception("the store could not be opened")
        # the reader gets the reason without the server's folder layout (the log has the full path)
        reason = str(e).replace(str(cache.data_dir()), cache.data_dir().name)
        st.error(t("ui.error.store", "en", error=ui.inert(reason)), icon=":material/error:")
        st.stop()
    view, _notices = ui.sync_view(gs)
    ui.write_url(view)
    ui.inject_css(view)
    current = st.navigation(ui.nav_pages(view.lang), position="hidden" if view.present else "sidebar")
    # the page about to run, before the sidebar draws its share link (else the link named the
    # page this session was on before: issue 15)
    ui.set_current_slug(getattr(current, "url_path", "") or ui.DEFAULT_PAGE)
    if not view.present:
        try:
            ui.sidebar(gs, view)
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("sidebar failed (reference %s)", ref)
            st.sidebar.error(t("ui.error.unexpected", view.lang, ref=ref))
    current.run()


main()
