"""The governance evidence pack: for each clause of the NIST AI RMF and the EU AI Act in
`clauses.yaml`, what the scorecard measures, its current value and status, its recent history
and the records behind it, as an index page (HTML) and CSV files a spreadsheet opens safely.
It is evidence for a review, not a certification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from html import escape
from pathlib import Path

import pandas as pd

from ..errors import BadInput
from ..exports import safe_csv
from ..metrics.compute import compute_scorecard
from ..metrics.formatting import format_value, status_label, threshold_words
from ..metrics.registry import registry
from ..metrics.thresholds import Thresholds
from ..metrics.trends import series_from_table, trend_table
from ..settings import parse_yaml, write_private
from ..store import records
from ..store.audit import upload_history
from ..store.db import Store
from ..store.retention import last_run

CLAUSES = Path(__file__).with_name("clauses.yaml")
HISTORY_WEEKS = 8
RETENTION = timedelta(days=183)  # EU AI Act Art. 26(6): logs kept at least six months
REPORT_WITHIN = timedelta(days=15)  # EU AI Act Art. 73(2)
NOT_A_CERTIFICATE = ("This pack is evidence for a review of how the AI systems are monitored; "
                     "it is not a certification of compliance with any framework or law.")


@dataclass
class Row:
    clause: str
    asks: str
    measures: str
    now: str
    history: str
    records: str


def clauses() -> list[dict]:
    return parse_yaml(CLAUSES.read_text(encoding="utf-8"), str(CLAUSES))["clauses"]


def _frames(store: Store, card, thresholds: Thresholds) -> dict[str, pd.DataFrame]:
    """The records behind the clauses, one table each."""
    changes = pd.DataFrame(records.threshold_changes(store, limit=100_000),
                           columns=["recorded_at", "actor", "system", "metric", "old", "new",
                                    "reason"])
    for side in ("old", "new"):  # "90.0% / 80.0%" (target / limit), not a dict's text
        changes[side] = [threshold_words(registry().get(m), e)
                         for m, e in zip(changes["metric"], changes[side])]
    changes = changes.rename(columns={"old": "before (target / limit)", "new": "after"})
    signoffs = pd.DataFrame(records.signoffs(store), columns=records.SIGNOFF_COLUMNS)
    incidents = pd.DataFrame(records.incidents(store), columns=records.INCIDENT_COLUMNS)
    if not incidents.empty:  # Art. 73: reported within 15 days of becoming aware
        incidents["report_by"] = incidents["detected_at"] + REPORT_WITHIN
    span = store.query_dicts("SELECT system, min(timestamp) AS oldest, max(timestamp) AS "
                             "newest, count(*) AS events FROM inference_events GROUP BY system "
                             "ORDER BY system")
    retention = pd.DataFrame(span)
    if not retention.empty:
        held = retention["newest"] - retention["oldest"]
        retention["days_held"] = held.dt.days
        retention["holds_six_months"] = held >= RETENTION
    coverage = pd.DataFrame([
        {"system": s or "all systems", "audit_completeness": v["audit_completeness"].value,
         "status": v["audit_completeness"].status, "events": v["events"].value}
        for s, v in ((s, card.scope(s)) for s in [None, *card.systems])])
    metrics = pd.DataFrame([
        {"system": s or "all systems", "metric": m.id, "title": m.title,
         "value": v.value, "status": v.status, "n": v.n, "target": v.target, "limit": v.limit}
        for s in [None, *card.systems] for m in registry().metrics
        for v in [card.scope(s)[m.id]]])
    return {"threshold_changes": changes, "signoffs": signoffs, "uploads":
            upload_history(store, limit=100_000), "incidents": incidents,
            "retention": retention, "audit_coverage": coverage, "metrics": metrics}


def evidence_rows(store: Store, thresholds: Thresholds) -> tuple[list[Row], dict]:
    """The clause table and the records behind it; BadInput for an empty store."""
    if not records.event_count(store):
        raise BadInput("The store holds no inference events yet, so there is no evidence to "
                       "pack; load an extract first (scorecard ingest).")
    card = compute_scorecard(store, thresholds)
    week = trend_table(store, thresholds, "week", {m.family for m in registry().metrics})
    rows = []
    for clause in clauses():
        now, history = [], []
        for metric_id in clause["metrics"]:
            m, v = registry().get(metric_id), card.scope(None)[metric_id]
            now.append(f"{m.title}: {format_value(m, v.value)} "
                       f"({status_label(v.status, v.insufficient)})")
            points = [p for p in series_from_table(week, thresholds, metric_id, "week", None)
                      if p.end <= card.window.end][-HISTORY_WEEKS:]
            history.append(f"{m.title}: " + ", ".join(format_value(m, p.value) for p in points))
        rows.append(Row(clause["id"], clause["asks"],
                        ", ".join(registry().get(i).title for i in clause["metrics"]),
                        "; ".join(now), "; ".join(history),
                        ", ".join(f"{r}.csv" for r in clause["records"])))
    return rows, {"card": card, "frames": _frames(store, card, thresholds)}


def retention_sentence(frame: pd.DataFrame, keep_days: int | None, last: dict | None) -> str:
    """The retention in force, when it was last applied, and the span of events kept."""
    policy = (f"Retention in force: {keep_days} days (store.yaml, scorecard retention)"
              if keep_days else "No retention is configured")
    policy += (f"; last applied on {last['recorded_at']:%d %b %Y} by {last['actor']}, removing "
               f"what was older than {last['cutoff']:%d %b %Y}. " if last else
               "; it has not been applied yet. ")
    if frame.empty:
        return policy + "The store holds no events."
    oldest, newest = frame["oldest"].min(), frame["newest"].max()
    days = (newest - oldest).days
    verdict = "at least" if days >= RETENTION.days else "less than"
    return (policy + f"The oldest event kept is from {oldest:%d %b %Y}; the store holds events "
            f"from {oldest:%d %b %Y} to {newest:%d %b %Y}: {days} days, {verdict} the six "
            "months Art. 26(6) asks a deployer to keep.")


def write_pack(store: Store, thresholds: Thresholds, out: Path,
              keep_days: int | None = None) -> Path:
    """Write index.html and the CSV files into `out`; returns the index page. `keep_days` is
    the retention in force (store.yaml)."""
    rows, behind = evidence_rows(store, thresholds)
    card, frames = behind["card"], behind["frames"]
    out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame([vars(r) for r in rows])
    write_private(out / "clauses.csv", safe_csv(table))
    if not frames["retention"].empty:
        frames["retention"]["retention_days_in_force"] = keep_days
    for name, frame in frames.items():
        write_private(out / f"{name}.csv", safe_csv(frame))
    retention = retention_sentence(frames["retention"], keep_days, last_run(store))
    body = "".join(
        f"<tr><td>{escape(r.clause)}</td><td>{escape(r.asks)}</td><td>{escape(r.measures)}</td>"
        f"<td>{escape(r.now)}</td><td>{escape(r.history)}</td><td>"
        + ", ".join(f'<a href="{escape(f)}">{escape(f)}</a>' for f in r.records.split(", ") if f)
        + "</td></tr>" for r in rows)
    incidents = frames["incidents"]
    late = "" if incidents.empty else "".join(
        f"<li>{escape(str(i.incident_id))} ({escape(str(i.system))}, {escape(str(i.severity))}):"
        f" detected {i.detected_at:%d %b %Y %H:%M}, report by {i.report_by:%d %b %Y}</li>"
        for i in incidents.itertuples())
    index = out / "index.html"
    write_private(index, f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Governance evidence pack</title>
<style>body{{font-family:Arial,sans-serif;font-size:10pt;margin:2em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px;vertical-align:top}}
th{{background:#eef3f8;text-align:left}}</style></head><body>
<h1>Governance evidence pack</h1>
<p><b>{escape(NOT_A_CERTIFICATE)}</b></p>
<p>Scorecard for the week to {card.window.as_of:%d %b %Y} (values for all systems together;
per system in <a href="metrics.csv">metrics.csv</a>). {escape(retention)}</p>
<table><tr><th>Clause</th><th>What it asks</th><th>What the scorecard measures</th>
<th>Now</th><th>Last {HISTORY_WEEKS} weeks</th><th>Records</th></tr>{body}</table>
<h2>Incidents and the 15-day reporting window (EU AI Act Art. 73)</h2>
<ul>{late or "<li>No incidents recorded.</li>"}</ul>
<p>Files: clauses.csv, {', '.join(f'{n}.csv' for n in frames)}. Text cells that a spreadsheet
would run as formulas start with an apostrophe.</p>
</body></html>
""")
    return index
