"""About and methods: "How does GapLens decide, and where does the data come from?"

The coverage rule in plain words, the classes and their symbols, the current settings (rendered
from ``data_layers.settings.SETTINGS``), every source with its credit (Natural Earth included),
and the sample data's "synthetic, illustrative" notice.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_layers import cache, settings, storage
from data_layers import palette as pal
from data_layers.i18n import t
from data_layers.interface import StoreAPI
from data_layers.views import View
from pages import components as ui

# word in a dataset's notes or title that marks the shipped sample as illustrative
SAMPLE_MARK = "synthetic"


def body(gs: StoreAPI, v: View) -> None:
    lng = v.lang
    ui.header("ui.about.title", "ui.about.lead", v, describe=False)
    if is_sample(gs):
        st.warning(t("ui.about.synthetic", lng), icon=":material/science:")

    st.subheader(t("ui.about.rule_heading", lng))
    st.markdown(t("ui.about.rule", lng, as_of=v.as_of, window=v.window, start=v.as_of - v.window))
    st.markdown(t("ui.about.headline", lng))
    ui.legend([*pal.STATUS_ORDER, "blind_spot"], v)
    st.markdown(t("ui.about.scores", lng))
    st.markdown(t("ui.about.suppressed", lng, k=gs.k_min))
    st.markdown(t("ui.about.quality", lng))

    st.subheader(t("ui.about.settings_heading", lng))
    st.caption(t("ui.about.settings_help", lng))
    rows = [{"name": s.name, "value": _setting_value(s), "default": str(s.default), "env": s.env, "help": s.help}
            for s in settings.SETTINGS]
    table = pd.DataFrame(rows)
    table.columns = [t("ui.about.col_setting", lng), t("ui.about.col_value", lng), t("ui.about.col_default", lng),
                     t("ui.about.col_env", lng), t("ui.about.col_help", lng)]
    ui.table(table, v, key="tbl-settings", name="settings", raw=True)

    st.subheader(t("ui.about.sources_heading", lng))
    ds = cache.datasets()
    if ds.empty:
        ui.empty("ui.overview.no_data", v)
    else:
        lines = []
        for r in ds.to_dict("records"):
            kind = t(f"ui.kind.{r['source_kind']}", lng)
            url = str(r.get("url") or "").strip()
            item = t("ui.about.source_item", lng, title=ui.inert(r["title"]), producer=ui.inert(r["producer"]),
                     kind=kind, licence=ui.inert(r.get("licence")) or ui.MISSING)
            if url.startswith(("http://", "https://")):
                item += f" — {ui.inert(url)}"
            lines.append(f"- {item}")
        st.markdown("\n".join(lines))
    broken_datasets(gs, v)
    st.markdown(t("ui.about.boundaries", lng))
    st.markdown(t("ui.about.framework", lng))
    st.markdown(t("ui.about.software", lng))


def broken_datasets(gs: StoreAPI, v: View) -> None:
    """Datasets the store skips because a file cannot be read: named, so an operator can act."""
    broken = getattr(gs, "broken", None) or []
    if not broken:
        return
    lng = v.lang
    st.subheader(t("ui.about.broken_heading", lng))
    st.warning(t("ui.about.broken_help", lng), icon=":material/report:")
    st.markdown("\n".join("- " + t("ui.about.broken_item", lng, dataset=ui.inert(b.dataset_id), file=ui.inert(b.file),
                                      reason=ui.inert(b.reason)) for b in broken))


def is_sample(gs: StoreAPI) -> bool:
    """True when the data is the shipped synthetic sample (or anything labelled synthetic)."""
    try:
        if gs.data_dir.resolve() == settings.DEFAULT_DATA_DIR.resolve():
            return True
    except OSError:
        pass
    meta = storage.read_dataset_meta(gs.data_dir)
    return any(SAMPLE_MARK in (str(m.get("notes", "")) + str(m.get("title", ""))).lower() for m in meta)


def _setting_value(s: settings.Setting) -> str:
    try:
        return str(s.value())
    except ValueError:
        return str(s.default)


ui.run_page("about", body)
