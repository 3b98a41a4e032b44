"""Upload: a log extract from any tool, previewed, mapped onto the contract, loaded with
progress, and answered with counts and the rejected rows."""

import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import streamlit as st

import ui
from scorecard.exports import safe_csv
from scorecard import actions
from scorecard.errors import ScorecardError
from scorecard.metrics.audit_view import upload_history_view
from scorecard.settings import config_dir
from scorecard.store import audit, formats, preview
from scorecard.store.formats import ImportOptions
from scorecard.store.mapping import ColumnMap, load_map, same_name
from scorecard.store.schema import KINDS
from scorecard.upload_worker import read_upload

NOT_MAPPED, CONSTANT = "— not in this file —", "a constant value…"
AS_IS = "— not translated —"

st.title("Upload a log extract")
ui.require("upload")
if ui.read_only_notice():
    st.stop()
st.caption("CSV, Parquet or JSON Lines, gzipped or not, or an export of OpenTelemetry "
           "(OTLP/JSON), Langfuse or Phoenix as it comes. Rows that break the contract are kept "
           "with their reason; a file that cannot be used changes nothing.")

if ui.directory().is_demo(ui.username()):
    st.info("You are signed in with a demo sign-in. Loading a file ends the demo sign-ins, "
            "as their password is public: sign in again with a sign-in of your own.",
            icon=":material/info:")

kind = st.radio("What the file holds", list(KINDS), horizontal=True, key="up_kind",
                format_func={"events": "Inference events", "incidents": "Incidents"}.get)
upload = st.file_uploader("Extract", key="up_file",
                          type=["csv", "parquet", "pq", "jsonl", "ndjson", "json", "gz"])


def _saved_copy(file) -> Path:
    """The upload on disk under its own name (the extension says the format), kept while it is
    the file on the page; copies of earlier uploads are removed."""
    copies = st.session_state.setdefault("_upload_copies", {})
    for file_id in [f for f in copies if f != file.file_id]:
        shutil.rmtree(Path(copies.pop(file_id)).parent, ignore_errors=True)
    path = Path(copies.get(file.file_id, ""))
    if not path.is_file():
        _sweep_stale_copies()
        path = Path(tempfile.mkdtemp(prefix=COPY_PREFIX)) / _short_name(file.name)
        path.write_bytes(file.getbuffer())
        copies[file.file_id] = str(path)
    return path


COPY_PREFIX = "scorecard-upload-"
STALE_AFTER_SECONDS = 24 * 3600  # a copy left by a tab that closed mid-upload


def _short_name(name: str) -> str:
    """The file's own name, shortened where a file system would refuse it (255 bytes), its
    extensions (which say the format) kept."""
    name = Path(name).name or "upload"
    if len(name.encode()) <= 200:
        return name
    suffix = "".join(Path(name).suffixes[-2:])[-20:]
    return name.encode()[:120].decode(errors="ignore") + "…" + suffix


def _sweep_stale_copies() -> None:
    """Remove upload copies older than a day, left by tabs that closed before they finished."""
    for folder in Path(tempfile.gettempdir()).glob(COPY_PREFIX + "*"):
        try:
            if time.time() - folder.stat().st_mtime > STALE_AFTER_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass  # gone already, or another user's


def _remove_copy(file_id: str) -> None:
    copies = st.session_state.setdefault("_upload_copies", {})
    if file_id in copies:
        shutil.rmtree(Path(copies.pop(file_id)).parent, ignore_errors=True)


@st.cache_data(max_entries=64, show_spinner=False)
def _unknown_values(path: str, name: str, kind: str, sources: dict) -> dict[str, list[str]]:
    """For each choice or yes/no column, its source column's values a map has to translate."""
    return read_upload(config_dir(), name, "unknown_values", path=path, kind=kind,
                       sources=sources)


def _translations(path: Path, name: str, columns: list[str], mapped: dict, constants: dict,
                  start: ColumnMap, key: str) -> dict[str, dict[str, str]]:
    """For each choice or yes/no column, what the file's unfamiliar values mean (1/0 for an
    outcome, Y/N for reviewed): one picker per value. The start map's other translations stay."""
    values = {column: dict(table) for column, table in start.values.items()}
    sources = {col.name: mapped.get(col.name, col.name) for col in KINDS[kind].columns
               if col.kind in ("choice", "bool") and col.name not in constants
               and mapped.get(col.name, col.name) in columns}
    try:
        found = _unknown_values(str(path), name, kind, sources) if sources else {}
    except ScorecardError as exc:
        st.error(ui.plain(str(exc)))
        st.stop()
    for col in KINDS[kind].columns:
        source, unknown = sources.get(col.name), found.get(col.name)
        if not unknown:
            continue
        st.markdown(f"**{col.name}** — the file's column {ui.as_text(source)} holds values the "
                    "contract does not take as they are. Say what each means; a row with a value "
                    "left untranslated is set aside with its reason.")
        targets = [AS_IS, *(col.choices if col.kind == "choice" else ("true", "false"))]
        table, grid = values.setdefault(col.name, {}), st.columns(4)
        for i, value in enumerate(unknown):
            preset = start.values.get(col.name, {}).get(value, AS_IS)
            with grid[i % 4]:
                meaning = st.selectbox(f"“{ui.as_text(value)}” means", targets,
                                       index=targets.index(preset) if preset in targets else 0,
                                       key=f"val_{key}_{col.name}_{i}")
            if meaning == AS_IS:
                table.pop(value, None)
            else:
                table[value] = meaning
    return {column: table for column, table in values.items() if table}


def _mapping(path: Path, name: str, columns: list[str], start: ColumnMap,
             key: str) -> ColumnMap:
    """One picker per contract column (a source column, a constant, or nothing), then what
    unfamiliar values in the choice columns mean."""
    mapped, constants = {}, {}
    grid = st.columns(3)
    for i, col in enumerate(KINDS[kind].columns):
        source = start.columns.get(col.name) or (
            col.name if col.name in columns else same_name(col.name, columns) or col.name)
        default = (CONSTANT if col.name in start.constants else
                   source if source in columns else NOT_MAPPED)
        options = [NOT_MAPPED, *columns, CONSTANT]
        with grid[i % 3]:
            label = col.name + (" (required)" if col.required else "")
            choice = st.selectbox(label, options, index=options.index(default),
                                  key=f"map_{key}_{col.name}")
            if choice == CONSTANT:
                constants[col.name] = st.text_input(
                    f"{col.name} for every row", value=start.constants.get(col.name, ""),
                    key=f"const_{key}_{col.name}")
            elif choice != NOT_MAPPED and choice != col.name:
                mapped[col.name] = choice
    values = _translations(path, name, columns, mapped, constants, start, key)
    return ColumnMap(columns=mapped, constants=constants, values=values)


@st.cache_data(max_entries=32, show_spinner=False)
def _first_look(path: str, name: str, kind: str) -> dict:
    """Whose export the file is, else its columns and first rows: read in the bounded child."""
    return read_upload(config_dir(), name, "first_look", path=path, kind=kind)


@st.cache_data(max_entries=32, show_spinner=False)
def _summary(path: str, name: str, fmt: str, options: dict) -> formats.Summary:
    found = read_upload(config_dir(), name, "summary", path=path, fmt=fmt, options=options)
    return formats.Summary(**{**found, "evaluations": [tuple(e) for e in found["evaluations"]]})


def _beside(path: Path, file) -> Path:
    """A second file (evaluations, scores) saved beside the upload's copy, removed with it."""
    target = path.parent / f"beside-{file.file_id}-{Path(file.name).name}"
    if not target.is_file():
        target.write_bytes(file.getbuffer())
    return target


def _load_export(path: Path, fmt: str) -> None:
    """An observability tool's export: what it holds, what counts as a decision and where
    outcomes come from, then the load."""
    label = formats.NAMES[fmt]
    st.subheader(f"An export of {label}")
    scores_file = st.file_uploader(
        "Its evaluations or scores, if they are in a file of their own (optional)",
        key=f"up_scores_{upload.file_id}",
        type=["jsonl", "ndjson", "json", "csv", "parquet", "pq"],
        help="An OTLP/JSON logs file of gen_ai.evaluation.result events, Langfuse's scores "
             "export, or Phoenix's span annotations.")
    scores = _beside(path, scores_file) if scores_file is not None else None
    unit = st.radio("Count as one decision", ["call", "trace"], horizontal=True,
                    key=f"up_unit_{upload.file_id}",
                    format_func={"call": "each model call",
                                 "trace": "each trace (agents: the whole run)"}.get)
    base = ImportOptions(unit=unit, scores=scores)
    with st.spinner("Reading the export…"):
        try:
            summary = _summary(str(path), upload.name, fmt, base.model_dump(mode="json"))
        except ScorecardError as exc:
            st.error(ui.plain(str(exc)))
            st.stop()
    st.info(f"{summary.sentence()}.")
    held = [f"{summary.traces:,} traces hold a model call; each is one decision."
            if unit == "trace" else ""]
    if summary.systems:
        held.insert(0, "Systems: " + ", ".join(ui.as_text(s) for s in summary.systems) + ".")
    if any(held):
        st.caption(" ".join(h for h in held if h))
    names = [n for n, _ in summary.evaluations]
    each = "each system's only evaluation"
    outcome = st.selectbox(
        "Outcome from", [each, *names], key=f"up_outcome_{upload.file_id}",
        format_func=lambda n: n if n == each else
        f"{n} ({dict(summary.evaluations)[n]:,} evaluations)",
        help="Labels such as pass/fail, correct/incorrect or true/false decide; a score "
             "decides against the pass mark below when no label does.")
    pass_at = st.number_input("Pass mark for a score without a label (optional)", value=None,
                              step=0.05, key=f"up_pass_{upload.file_id}",
                              placeholder="no pass mark")
    system = ""
    if not summary.systems:
        system = st.text_input("System name (the export does not name one)",
                               key=f"up_system_{upload.file_id}",
                               placeholder="e.g. support-assistant").strip()
    options = base.model_copy(update={"outcome_from": None if outcome == each else outcome,
                                      "pass_at": pass_at})
    cmap = ColumnMap(constants={"system": system}) if system else ColumnMap()
    if st.button("Load into the store", type="primary", key="up_load",
                 disabled=not summary.systems and not system):
        _run_load(path, cmap, None, source_format=fmt, import_options=options)


def _run_load(path: Path, cmap: ColumnMap, map_name: str | None, **export) -> None:
    """Load the upload with a progress bar; the result, or one sentence, shows below."""
    bar = st.progress(0.0, text="Starting")
    try:
        result = actions.upload(ui.store(), ui.directory(), ui.username(), path,
                                display_name=upload.name, kind=kind, cmap=cmap,
                                cfg_dir=config_dir(),
                                progress=lambda fraction, text: bar.progress(fraction, text),
                                save_map_as=map_name, release=ui.store_released, **export)
        st.session_state["last_upload"] = result
    except ScorecardError as exc:
        bar.empty()
        st.error(ui.plain(str(exc)) + " Nothing from this file was stored.")
    finally:
        _remove_copy(upload.file_id)  # the store has the rows; the copy is not kept


look = {}
if upload is not None:
    with st.spinner("Reading the file…"):
        try:
            look = _first_look(str(_saved_copy(upload)), upload.name, kind)
        except ScorecardError as exc:
            st.error(ui.plain(str(exc)))
            st.stop()
if look.get("export"):
    _load_export(_saved_copy(upload), look["export"])
elif upload is not None:
    path, columns = _saved_copy(upload), look["columns"]
    first_rows = pd.DataFrame(look["rows"], columns=columns, dtype="string")
    st.subheader("Preview")
    st.caption(f"{ui.as_text(upload.name)} · {ui.file_size(upload.size)} · "
               f"first {ui.count_of(len(first_rows), 'row')}; a cell longer than "
               f"{preview.CELL_CHARS} characters is shown cut, ending in …")
    st.dataframe(first_rows, hide_index=True, height=240)

    saved = preview.saved_maps(config_dir())
    suggestion = preview.best_map(config_dir(), columns, kind)
    names = ["(none)", *saved]
    start_name = st.selectbox("Start from a saved map", names, key=f"map_pick_{upload.file_id}",
                              index=names.index(suggestion) if suggestion else 0)
    start = load_map(saved[start_name]) if start_name in saved else ColumnMap()
    with st.expander("Map columns onto the contract",
                     expanded=bool(start.missing_required(kind, columns))):
        cmap = _mapping(path, upload.name, columns, start, f"{upload.file_id}_{start_name}")
        map_name = st.text_input("Save this map for next time as (optional)",
                                 key=f"map_name_{upload.file_id}",
                                 placeholder="e.g. credit-precheck")
    missing = cmap.missing_required(kind, columns)
    if missing:
        st.warning(f"This file needs mapping before it can be loaded: nothing in it supplies "
                   f"{', '.join(missing)}. Under “Map columns onto the contract”, pick the "
                   "column that holds each, or give a constant value.")

    if st.button("Load into the store", type="primary", key="up_load", disabled=bool(missing)):
        _run_load(path, cmap, map_name.strip() or None)

result = st.session_state.get("last_upload")
if result is not None:
    st.subheader(f"Result for {ui.as_text(result.file)}")
    counts = [("Rows read", result.rows_read), ("Inserted", result.inserted),
              ("Duplicates skipped", result.duplicates), ("Conflicts kept aside", result.conflicts),
              ("Rejected", result.rejected)]
    for col, (label, count) in zip(st.columns(len(counts)), counts):
        col.metric(label, f"{count:,}")
    if result.said:  # an export's import: what it read and what was used
        st.caption(ui.as_text(result.said))
    if result.masked:
        st.caption(f"🔒 {result.masked:,} personal value{'s' if result.masked != 1 else ''} "
                   "(e-mail addresses, phone and card numbers, IBANs, or the patterns in "
                   "privacy.yaml) masked or hashed before anything was stored.")
    if result.conflicts:
        st.caption("A conflict is a row whose system and event_id are already stored (or appear "
                   "earlier in the file) with other values; nothing stored was overwritten.")
    if result.rejected or result.conflicts:
        rejected = audit.rejected_rows(ui.store(), result.ingest_id)
        st.dataframe(rejected.head(200), hide_index=True, width="stretch")
        stem = Path(result.file).name.split(".")[0]  # x.csv.gz -> rejected-x.csv
        st.download_button("Download the rejected rows (CSV)", safe_csv(rejected),
                           file_name=f"rejected-{stem}.csv", mime="text/csv")

if st.session_state.get("upload_removed"):
    st.success(ui.as_text(st.session_state.pop("upload_removed")))

st.subheader("Upload history")
history = audit.upload_history(ui.store(), limit=20)
if history.empty:
    st.caption("Nothing has been loaded yet.")
else:
    st.dataframe(upload_history_view(history), hide_index=True, width="stretch")
    removable = history[(history.status == "ok") & history.removed_at.isna()]
    if not removable.empty:
        with st.expander("Remove an upload"):
            st.caption("Removes exactly the rows that upload stored, and records who removed it "
                       "and why. Its rejected rows and its line in the history stay.")
            labels = {row.ingest_id: f"{row.file} · {row.recorded_at:%d %b %Y %H:%M} UTC · "
                                     f"{ui.count_of(row.inserted, 'row')} · by {row.actor}"
                      for row in removable.itertuples()}
            pick = st.selectbox("Upload", list(labels), format_func=labels.get, key="undo_pick")
            why = st.text_input("Why it is removed", key="undo_reason",
                                placeholder="e.g. loaded for the wrong system")
            if st.button("Remove this upload", key="undo_go"):
                try:
                    undone = actions.remove_upload(ui.store(), ui.directory(), ui.username(),
                                                   pick, why, config_dir())
                except ScorecardError as exc:
                    st.error(ui.plain(str(exc)))
                else:
                    st.session_state["upload_removed"] = (
                        f"Removed {undone.file}: {undone.events_removed:,} events and "
                        f"{undone.incidents_removed:,} incidents taken out of the store.")
                    st.session_state.pop("last_upload", None)
                    st.rerun()
