"""Import data: "Can I load my own file and see my own gaps?"

Upload a file, see what GapLens detected, map the columns of a citizen file, read the validation
report row by row, then confirm. The page renders; the work is done by
:mod:`data_layers.importers` (validation first, then one atomic write). After an import the shared
store is refreshed, so every page shows the new data without a restart. In read-only mode
(``GAPLENS_READ_ONLY=1``, public deployments) the page only explains that imports are disabled.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from data_layers import cache, settings, uploads
from data_layers.i18n import t
from data_layers.importers import KINDS, import_file, slug, validate
from data_layers.importers.mapping import mapping_text
from data_layers.importers.meta import POINT_KINDS
from data_layers.importers.official import FORMATS as OFFICIAL_FORMATS
from data_layers.importers.preview import Preview, preview
from data_layers.importers.report import ACCEPTED, NO_DATA, PARTIAL, UNCHANGED, Report, page_words
from data_layers.interface import StoreAPI
from data_layers.views import View
from pages import components as ui

TYPES = {"official": ["csv", "txt", "tsv", "xlsx", "parquet"],
         "citizen": ["csv", "txt", "tsv", "xlsx", "geojson", "json"],
         "boundaries": ["geojson", "json", "gpkg", "zip", "parquet"]}
MAPPING_TYPES = ["toml", "yaml", "yml", "json"]
MB = 1 << 20
NONE = ""  # selectbox option meaning "no column"
FORM_DIMENSIONS = ("SEX", "AGE", "URBANISATION", "DISABILITY_STATUS")  # the breakdowns a citizen form offers
_PREFIX = "imp."


def _ss() -> Any:
    return st.session_state


def _request(action: str) -> None:
    """Button callback: remember the request in the session, so that a rerun between the click and
    the page reaching its handler cannot lose it (a button is True for one run only)."""
    _ss()[_PREFIX + f"want.{action}"] = True


def _save_upload(uploaded: Any, kind: str) -> Path:
    """Keep the upload in a private temporary folder under its own (sanitised) name: Open SDG
    files carry their indicator in the name."""
    old = _ss().get(_PREFIX + "dir")
    if old:
        shutil.rmtree(old, ignore_errors=True)
    folder = uploads.new_dir("upload")
    name = re.sub(r"[^\w.\-]+", "_", Path(uploaded.name).name) or f"upload.{TYPES[kind][0]}"
    path = folder / name
    path.write_bytes(uploaded.getvalue())
    _ss()[_PREFIX + "dir"] = str(folder)
    return path


def _file_id(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


NEW_STORE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")  # one plain folder name beside the current store


def _new_store_form(lng: str) -> None:
    """Start an empty store (the whole indicator framework, optionally the world's countries) in a new
    folder beside the current one; the page says how to open it. Only a plain name is accepted, so no
    path from the browser ever reaches the file system."""
    from data_layers.catalogue import InitError, init_store

    with st.expander(t("ui.import.new_store", lng), icon=":material/create_new_folder:"):
        st.caption(t("ui.import.new_store_help", lng))
        name = st.text_input(t("ui.import.new_store_name", lng), key=_PREFIX + "new_store_name").strip()
        world = st.checkbox(t("ui.import.new_store_world", lng), value=True, key=_PREFIX + "new_store_world")
        st.button(t("ui.import.new_store_button", lng), key=_PREFIX + "new_store_go", disabled=not name,
                  on_click=_request, args=("new_store",))
        if not _ss().pop(_PREFIX + "want.new_store", False):
            return
        if not NEW_STORE_NAME.match(name):
            st.error(t("ui.import.new_store_bad_name", lng), icon=":material/error:")
            return
        target = cache.data_dir().resolve().parent / name
        try:
            counts = init_store(target, world=world)
        except InitError:
            st.error(t("ui.import.new_store_exists", lng, name=name), icon=":material/error:")
            return
        st.success(t("ui.import.new_store_done", lng, indicators=counts["indicators"], areas=counts["areas"]),
                   icon=":material/check_circle:")
        st.code(f"GAPLENS_DATA_DIR={target} make run", language="bash")


def body(gs: StoreAPI, v: View) -> None:  # noqa: PLR0911 - one early return per missing input
    lng = v.lang
    ui.header("ui.import.title", "ui.import.lead", v, describe=False)
    if settings.get("read_only"):
        st.info(t("ui.import.read_only", lng), icon=":material/lock:")
        return
    _new_store_form(lng)
    cap_mb = int(settings.get("max_upload_mb"))
    kind = st.radio(t("ui.import.kind", lng), KINDS, format_func=lambda k: t(f"ui.import.kind_{k}", lng),
                    horizontal=True, key=_PREFIX + "kind")
    st.caption(t(f"ui.import.help_{kind}", lng))
    uploaded = st.file_uploader(t("ui.import.upload", lng, mb=cap_mb), type=TYPES[kind], key=_PREFIX + f"file_{kind}",
                                max_upload_size=cap_mb)
    mapping_upload = st.file_uploader(t("ui.import.mapping_upload", lng), type=MAPPING_TYPES,
                                      key=_PREFIX + f"mapfile_{kind}")
    if uploaded is None:
        st.caption(t("ui.import.waiting", lng))
        return
    if uploaded.size > cap_mb * MB:
        st.error(t("ui.import.too_big", lng, mb=cap_mb), icon=":material/error:")
        return
    key = f"{kind}:{uploaded.name}:{uploaded.size}:{getattr(uploaded, 'file_id', '')}"
    if _ss().get(_PREFIX + "upload_key") != key:
        _ss()[_PREFIX + "path"] = str(_save_upload(uploaded, kind))
        _ss()[_PREFIX + "upload_key"] = key
        _ss().pop(_PREFIX + "report", None)
        _ss().pop(_PREFIX + "done", None)
    path = Path(_ss()[_PREFIX + "path"])
    user_mapping = _read_mapping(mapping_upload, lng)
    if user_mapping is None:
        return

    pv = preview(path, kind, source_name=uploaded.name)
    _detected(pv, lng)
    if not pv.ok:
        _show_report(pv.report, lng)
        return

    options: dict[str, Any] = {"mapping": user_mapping or None, "source_name": uploaded.name}
    mapping_out: dict[str, Any] = dict(user_mapping)
    with st.form(_PREFIX + f"form_{kind}", border=True):
        options["dataset_id"] = st.text_input(t("ui.import.dataset_id", lng), value=slug(Path(uploaded.name).stem),
                                              help=t("ui.import.dataset_id_help", lng)) if kind != "boundaries" else None
        if kind == "official":
            _official_form(pv, options, lng)
        elif kind == "citizen":
            roles, meta = _citizen_form(pv, user_mapping, lng)
            options["columns"], options["metadata"] = roles, meta
            mapping_out["citizen"] = {**(user_mapping.get("citizen") or {}), **roles}
        else:
            _boundaries_form(pv, options, lng)
        options["accept_partial"] = st.checkbox(t("ui.import.accept_partial", lng),
                                                help=t("ui.import.accept_partial_help", lng))
        st.form_submit_button(t("ui.import.check", lng), icon=":material/fact_check:", type="secondary",
                              on_click=_request, args=("check",))
    check = _ss().pop(_PREFIX + "want.check", False)
    signature = json.dumps({"file": _file_id(path), "kind": kind, **{k: v for k, v in options.items()}},
                           sort_keys=True, default=str)
    if check:
        with st.spinner(t("ui.import.checking", lng)):
            _ss()[_PREFIX + "report"] = (signature, validate(path, kind, gs.data_dir, **options))
        _ss().pop(_PREFIX + "done", None)
    if kind == "citizen" and mapping_out.get("citizen"):
        _mapping_download(mapping_out, lng)

    done = _ss().get(_PREFIX + "done")
    if done is not None:
        _show_report(done, lng)
        _after_import(done, lng)
        return
    checked = _ss().get(_PREFIX + "report")
    if checked is None:
        st.caption(t("ui.import.check_first", lng))
        return
    checked_sig, report = checked
    _show_report(report, lng)
    stale = checked_sig != signature
    if stale:
        st.warning(t("ui.import.stale", lng), icon=":material/update:")
    importable = report.status in (ACCEPTED, PARTIAL)
    st.button(t("ui.import.confirm", lng), type="primary", icon=":material/upload:", disabled=stale or not importable,
              key=_PREFIX + "confirm", on_click=_request, args=("confirm",))
    if _ss().pop(_PREFIX + "want.confirm", False) and importable and not stale:
        bar = st.progress(0.0, text=t("ui.import.stage.reading", lng))

        def tick(stage: str, fraction: float) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=t(f"ui.import.stage.{stage}", lng))

        result = import_file(path, kind, gs.data_dir, progress=tick, **options)
        if result.status in (ACCEPTED, PARTIAL) and not result.dry_run:
            cache.refresh_store()
        _ss()[_PREFIX + "done"] = result
        _ss().pop(_PREFIX + "report", None)
        st.rerun()


def _read_mapping(upload: Any, lng: str) -> dict[str, Any] | None:
    """A mapping file the person uploaded (labels, areas, column roles), or {}; None when broken."""
    if upload is None:
        return {}
    from data_layers.importers.mapping import MappingError, load_mapping_file

    folder = uploads.new_dir("mapping")
    try:
        f = folder / re.sub(r"[^\w.\-]+", "_", Path(upload.name).name)
        f.write_bytes(upload.getvalue())
        return load_mapping_file(f)
    except MappingError as e:
        st.error(t("ui.import.mapping_bad", lng, error=ui.inert(e)), icon=":material/error:")
        return None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _detected(pv: Preview, lng: str) -> None:
    parts = []
    if pv.format:
        parts.append(t("ui.import.detected_format", lng, format=pv.format))  # our code word, not imported text
    if pv.encoding:
        parts.append(t("ui.import.detected_encoding", lng, encoding=pv.encoding))
    if pv.rows:
        parts.append(t("ui.import.detected_rows", lng, rows=pv.rows, columns=len(pv.columns)))
    elif pv.columns:
        parts.append(t("ui.import.detected_fields", lng, fields=ui.inert(", ".join(map(str, pv.columns[:12])))))
    if parts:
        st.markdown(" · ".join(parts))
    if pv.personal:
        st.info(t("ui.import.personal", lng, columns=ui.inert(", ".join(map(str, pv.personal)))),
                icon=":material/shield_person:")


def _official_form(pv: Preview, options: dict[str, Any], lng: str) -> None:
    formats = [NONE, *OFFICIAL_FORMATS]
    chosen = st.selectbox(t("ui.import.format", lng), formats, index=0,
                          format_func=lambda f: t("ui.import.format_auto", lng, format=pv.format or "?") if f == NONE
                          else f"{f}: {OFFICIAL_FORMATS[f]}")
    options["fmt"] = chosen or None
    c1, c2, c3 = st.columns(3)
    options["indicator"] = c1.text_input(t("ui.import.indicator", lng), help=t("ui.import.indicator_help", lng)) or None
    options["area"] = c2.text_input(t("ui.import.area", lng), help=t("ui.import.area_help", lng)) or None
    levels = sorted({int(v) for v in cache.areas()["level"]})
    level = c3.selectbox(t("ui.import.geo_level", lng), [NONE, *levels], index=0,
                         format_func=lambda v: t("ui.import.geo_level_auto", lng) if v == NONE else str(v),
                         help=t("ui.import.geo_level_help", lng), key=_PREFIX + "geo_level")
    options["geo_level"] = None if level == NONE else int(level)


def _column_choice(label: str, pv: Preview, suggested: str | None, lng: str, *, key: str,
                   numeric_only: bool = False, where: Any = None) -> str | None:
    cols = [c for c in pv.columns if c not in pv.personal and (not numeric_only or pv.numeric.get(c))]
    opts = [NONE, *cols]
    index = opts.index(suggested) if suggested in opts else 0

    def fmt(c: str) -> str:
        if c == NONE:
            return t("ui.import.no_column", lng)
        ex = ", ".join(pv.examples.get(c, []))
        return f"{c} ({ex})" if ex else c
    return (where or st).selectbox(label, opts, index=index, format_func=fmt, key=key) or None


def _citizen_form(pv: Preview, user: dict[str, Any], lng: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The column-mapping form of a citizen file: figure, period, place, breakdowns, metadata."""
    given = dict(user.get("citizen") or {})
    st.markdown(f"**{t('ui.import.map_heading', lng)}**")
    codes = list(cache.indicators()["code"])
    c1, c2 = st.columns(2)
    ind_default = given.get("indicator")
    indicator = c1.selectbox(t("ui.import.indicator", lng), codes, index=codes.index(ind_default) if ind_default in codes else 0,
                             key=_PREFIX + "c.indicator")
    value = _column_choice(t("ui.import.map_value", lng), pv, given.get("value") or pv.suggested.get("value"), lng,
                           key=_PREFIX + "c.value")
    unit = c2.text_input(t("ui.import.unit", lng), value=str(given.get("unit", "percent")), key=_PREFIX + "c.unit")
    period = _column_choice(t("ui.import.map_period", lng), pv, given.get("period") or pv.suggested.get("period"), lng,
                            key=_PREFIX + "c.period")
    year = st.number_input(t("ui.import.year", lng), min_value=1900, max_value=2100, value=int(given.get("year", 2024)),
                           key=_PREFIX + "c.year", help=t("ui.import.year_help", lng))
    st.caption(t("ui.import.place_help", lng))
    p1, p2, p3 = st.columns(3)
    lat = _column_choice(t("ui.import.map_lat", lng), pv, given.get("lat") or pv.suggested.get("lat"), lng,
                         key=_PREFIX + "c.lat", where=p1)
    lon = _column_choice(t("ui.import.map_lon", lng), pv, given.get("lon") or pv.suggested.get("lon"), lng,
                         key=_PREFIX + "c.lon", where=p2)
    area = _column_choice(t("ui.import.map_area", lng), pv, given.get("area") or pv.suggested.get("area"), lng,
                          key=_PREFIX + "c.area", where=p3)
    n = _column_choice(t("ui.import.map_n", lng), pv, given.get("n") or pv.suggested.get("n"), lng,
                       key=_PREFIX + "c.n", numeric_only=True)
    dims: dict[str, str] = {}
    with st.expander(t("ui.import.dims_heading", lng)):
        for d in FORM_DIMENSIONS:
            c = _column_choice(t(f"ui.import.dim_{d.lower()}", lng), pv, (given.get("dims") or {}).get(d), lng,
                               key=_PREFIX + f"c.dim.{d}")
            if c:
                dims[d] = c
    roles: dict[str, Any] = {"indicator": indicator, "unit": unit}
    for role, col in (("value", value), ("period", period), ("lat", lat), ("lon", lon), ("area", area), ("n", n)):
        if col:
            roles[role] = col
    if not period:
        roles["year"] = int(year)
    if dims:
        roles["dims"] = dims
    if value and not pv.numeric.get(value) and pv.labels.get(value):
        st.markdown(t("ui.import.values_help", lng))
        known = {str(k): v for k, v in (given.get("values") or {}).items()}
        table = pd.DataFrame({"label": pv.labels[value],
                              "figure": [None if known.get(x) in (None, "") else float(known[x]) for x in pv.labels[value]]})
        edited = st.data_editor(table, hide_index=True, disabled=["label"], key=_PREFIX + f"c.values.{value}",
                                column_config={"label": st.column_config.TextColumn(t("ui.import.values_label", lng)),
                                               "figure": st.column_config.NumberColumn(t("ui.import.values_figure", lng))})
        roles["values"] = {str(r.label): ("" if pd.isna(r.figure) else float(r.figure)) for r in edited.itertuples()}
    with st.expander(t("ui.import.meta_heading", lng), expanded=True):
        m1, m2 = st.columns(2)
        meta: dict[str, Any] = {
            "title": m1.text_input(t("ui.import.meta_title", lng), key=_PREFIX + "m.title"),
            "producer": m2.text_input(t("ui.import.meta_producer", lng), key=_PREFIX + "m.producer"),
            "licence": m1.text_input(t("ui.import.meta_licence", lng), key=_PREFIX + "m.licence"),
            "method": m2.text_input(t("ui.import.meta_method", lng), key=_PREFIX + "m.method"),
            "consent": m1.text_input(t("ui.import.meta_consent", lng), key=_PREFIX + "m.consent"),
        }
        meta["point_kind"] = m2.radio(t("ui.import.meta_points", lng), POINT_KINDS, index=POINT_KINDS.index("people"),
                                      format_func=lambda k: t(f"ui.import.points_{k}", lng), key=_PREFIX + "m.points")
        meta.update(_participation_form(lng))
    meta = {k: v for k, v in meta.items() if v not in ("", None, [])}
    return roles, meta


def _participation_form(lng: str) -> dict[str, Any]:
    """The participation record (Copenhagen Framework on Citizen Data): who initiated the data, the
    stages citizens took part in, how group membership was established, whom to contact."""
    from data_layers import schema

    st.caption(t("ui.import.part_heading", lng))
    p1, p2 = st.columns(2)
    out: dict[str, Any] = {
        "initiator": p1.text_input(t("ui.import.part_initiator", lng), key=_PREFIX + "p.initiator"),
        "initiator_kind": p2.selectbox(t("ui.import.part_kind", lng), ["", *schema.INITIATOR_KINDS],
                                       format_func=lambda k: t(f"participation.kind.{k}", lng) if k else "—",
                                       key=_PREFIX + "p.kind"),
        "citizen_stages": p1.multiselect(t("ui.import.part_stages", lng), list(schema.CITIZEN_STAGES),
                                         format_func=lambda k: t(f"participation.stage.{k}", lng), key=_PREFIX + "p.stages"),
        "group_membership": p2.selectbox(t("ui.import.part_membership", lng), ["", *schema.GROUP_MEMBERSHIP],
                                         format_func=lambda k: t(f"participation.membership.{k}", lng) if k else "—",
                                         key=_PREFIX + "p.membership"),
        "contact": p1.text_input(t("ui.import.part_contact", lng), key=_PREFIX + "p.contact"),
    }
    return out


def _boundaries_form(pv: Preview, options: dict[str, Any], lng: str) -> None:
    c1, c2 = st.columns(2)
    options["level"] = int(c1.number_input(t("ui.import.level", lng), min_value=0, max_value=6, value=1,
                                           key=_PREFIX + "b.level"))
    guess_code = next((c for c in pv.columns if c.lower() in ("code", "iso3", "shapeiso", "pcode")), None)
    guess_name = next((c for c in pv.columns if c.lower() in ("name", "shapename", "name_en")), None)
    options["code_field"] = _column_choice(t("ui.import.code_field", lng), pv, guess_code, lng, key=_PREFIX + "b.code")
    options["name_field"] = _column_choice(t("ui.import.name_field", lng), pv, guess_name, lng, key=_PREFIX + "b.name")
    options["parent_field"] = _column_choice(t("ui.import.parent_field", lng), pv, None, lng, key=_PREFIX + "b.parent")
    options["replace_level"] = c2.checkbox(t("ui.import.replace_level", lng), key=_PREFIX + "b.replace")


def _mapping_download(mapping: dict[str, Any], lng: str) -> None:
    try:
        text = mapping_text(mapping)
    except Exception:  # a half-filled form may not be a valid mapping yet: nothing to save
        return
    st.download_button(t("ui.import.save_mapping", lng), data=text.encode("utf-8"), file_name="gaplens-mapping.toml",
                       mime="application/toml", icon=":material/save:", key=_PREFIX + "save_mapping", on_click="ignore")


STATUS_ICON = {ACCEPTED: ":material/check_circle:", PARTIAL: ":material/rule:", UNCHANGED: ":material/sync:",
               NO_DATA: ":material/info:"}


def _show_report(report: Report | None, lng: str) -> None:
    """The validation report: what happened, counts, dropped columns, and every problem by row."""
    if report is None:
        return
    text = t(f"ui.import.status.{report.status or 'refused'}", lng, dataset=ui.inert(report.dataset_id) or "—")
    if report.status in (ACCEPTED, PARTIAL):
        (st.success if report.status == ACCEPTED else st.warning)(text, icon=STATUS_ICON[report.status])
    elif report.status in (UNCHANGED, NO_DATA):
        st.info(text, icon=STATUS_ICON[report.status])
    else:
        st.error(text, icon=":material/block:")
    c = st.columns(4)
    c[0].metric(t("ui.import.rows_read", lng), report.rows_read)
    c[1].metric(t("ui.import.rows_valid", lng), report.rows_valid)
    c[2].metric(t("ui.import.rows_rejected", lng), report.rows_rejected)
    c[3].metric(t("ui.import.rows_stored", lng), report.rows_stored)
    if report.changes:
        st.markdown(t("ui.import.changes", lng, **{k: report.changes.get(k, 0) for k in
                                                   ("added", "removed", "changed", "unchanged")}))
    if report.dropped_columns:
        with st.expander(t("ui.import.dropped", lng, n=len(report.dropped_columns))):
            st.dataframe(pd.DataFrame({t("ui.import.col_column", lng): list(report.dropped_columns),
                                       t("ui.import.col_reason", lng): list(report.dropped_columns.values())}),
                         hide_index=True, width="stretch")

    def words(text: str) -> str:  # the page names its own controls where the CLI names its flags
        return page_words(text, lambda key: t(key, lng))

    for note in report.notes:
        st.caption(ui.inert(words(note)))
    problems = report.problems_frame()
    if not problems.empty:
        shown = problems[["severity", "row", "column", "value", "message"]].copy()
        shown["message"] = shown["message"].map(words)
        shown["severity"] = shown["severity"].map(lambda s: t(f"ui.import.severity_{s}", lng))
        shown.columns = [t(f"ui.import.col_{c}", lng) for c in ("severity", "row", "column", "value", "message")]
        st.markdown(t("ui.import.problems", lng, errors=report.n_errors, warnings=report.n_warnings))
        st.dataframe(shown, hide_index=True, width="stretch", key=_PREFIX + "problems")
        hidden = report.n_errors + report.n_warnings - len(problems)
        if hidden > 0:
            st.caption(t("ui.import.more_problems", lng, n=hidden))
    st.download_button(t("ui.import.download_report", lng), data=report.to_json().encode("utf-8"),
                       file_name="gaplens-import-report.json", mime="application/json", icon=":material/download:",
                       key=_PREFIX + "report_json", on_click="ignore")


def _after_import(report: Report, lng: str) -> None:
    if report.status in (ACCEPTED, PARTIAL):
        st.success(t("ui.import.visible_now", lng), icon=":material/visibility:")
        ui.link("overview", t("ui.nav.overview", lng), icon=":material/dashboard:")
    st.button(t("ui.import.another", lng), key=_PREFIX + "another", on_click=_reset)


def _reset() -> None:
    for k in [k for k in _ss() if str(k).startswith(_PREFIX)]:
        del _ss()[k]


ui.run_page("import_data", body)
