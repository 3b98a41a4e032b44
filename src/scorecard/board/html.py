"""The board report as one self-contained HTML page (A4 landscape): inline styles and inline SVG
charts, nothing fetched from a network. Every value from the data is escaped."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from ..metrics.formatting import STATUS, format_value, status_label
from ..metrics.registry import registry
from .content import BoardReport, Chart
from .headline import titles as headline_titles

STYLE = """
@page { size: A4 landscape; margin: 9mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 7.4pt; color: #1b1b1b;
       margin: 0; line-height: 1.28; }
h1 { font-size: 13pt; margin: 0 0 1mm 0; }
h2 { font-size: 8.6pt; margin: 2mm 0 1mm 0; border-bottom: 0.3mm solid #1f4e79; color: #1f4e79; }
.sub { color: #555; margin-bottom: 1.5mm; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 5mm; }
ul { margin: 0; padding-left: 4mm; }
li { margin-bottom: 0.8mm; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 0.2mm solid #ddd; padding: 0.6mm 1mm; text-align: left;
         vertical-align: top; }
.charts { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 4mm; margin-top: 1mm; }
.chart svg { width: 100%; height: auto; }
.headline td, .headline th { white-space: nowrap; }
.headline .change { color: #555; font-size: 6.6pt; }
footer { margin-top: 2mm; color: #555; border-top: 0.2mm solid #bbb; padding-top: 1mm; }
"""


def days(start, end) -> str:
    """A window [start, end) as the days it covers, as the app shows it: "16 – 22 Nov"."""
    last = end - timedelta(days=1)
    if (start.year, start.month) == (last.year, last.month):
        return f"{start:%d} – {last:%d %b}"
    return f"{start:%d %b} – {last:%d %b}"


def _status(status: str) -> str:
    return escape(status_label(status))


def chart_svg(chart: Chart) -> str:
    """A small line chart of the weekly values with the target (dashed) and limit (dotted)."""
    metric = registry().get(chart.metric_id)
    width, height, left, right, top, bottom = 300, 84, 40, 8, 6, 16
    if not chart.points:
        return (f'<svg viewBox="0 0 {width} {height}" role="img">'
                '<text x="10" y="50">no data</text></svg>')
    values = [v for _, v in chart.points]
    low = min(values + [chart.target, chart.limit])
    high = max(values + [chart.target, chart.limit])
    span = (high - low) or abs(high) or 1.0
    low, high = low - span * 0.08, high + span * 0.08

    def x(i: int) -> float:
        n = max(len(chart.points) - 1, 1)
        return left + (width - left - right) * i / n

    def y(v: float) -> float:
        return top + (height - top - bottom) * (high - v) / (high - low)

    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(chart.title)}">']
    for value, colour, dash, word in ((chart.target, "#2e7d32", "4,3", "target"),
                                      (chart.limit, "#c62828", "1,2", "limit")):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" '
                     f'y2="{y(value):.1f}" stroke="{colour}" stroke-dasharray="{dash}"/>')
        parts.append(f'<text x="2" y="{y(value) + 3:.1f}" font-size="8" fill="{colour}">'
                     f'{escape(format_value(metric, value))}</text>')
    parts.append(f'<polyline points="{line}" fill="none" stroke="#1f4e79" stroke-width="1.6"/>')
    for i, v in enumerate(values):
        parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="1.6" fill="#1f4e79"/>')
    first, last = chart.points[0][0], chart.points[-1][0]
    parts.append(f'<text x="{left}" y="{height - 4}" font-size="8" fill="#555">'
                 f'week of {first:%d %b}</text>')
    parts.append(f'<text x="{width - right}" y="{height - 4}" font-size="8" fill="#555" '
                 f'text-anchor="end">week of {last:%d %b}: '
                 f'{escape(format_value(metric, values[-1]))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def headline_table(report: BoardReport) -> str:
    """One row per system: each number with its status and its change against the period
    before."""
    if not report.headline:
        return ""
    heads = "".join(f"<th>{escape(t)}</th>" for t in headline_titles())
    rows = "".join(
        f"<tr><td><b>{escape(row.system)}</b></td>" + "".join(
            f"<td>{escape(f.status.split(' ')[0])} {escape(f.value)} "
            f"<span class=\"change\">{escape(f.change or 'no earlier figure')}</span></td>"
            for f in row.figures) + "</tr>"
        for row in report.headline)
    before = ""
    if report.previous:
        start, end = report.previous
        before = f" Changes are against the week before ({days(start, end)})."

    return (f'<h2>The numbers behind each verdict</h2><table class="headline"><tr>'
            f"<th>System</th>{heads}</tr>{rows}</table>"
            f'<div class="sub">Icons: status against the thresholds.{escape(before)}</div>')


def render(report: BoardReport, scale: float = 1.0) -> str:
    """The page; `scale` below 1 shrinks it to fit one sheet (many systems)."""
    scope = escape(report.scope) if report.scope else "all AI systems"
    start, end = report.window
    verdicts = "".join(f"<li>{escape(v.sentence)}</li>" for v in report.verdicts)
    concerns = "".join(f"<li>{_status(c.status)} {escape(c.sentence)}</li>"
                       for c in report.concerns) or "<li>Nothing is red or amber.</li>"
    if report.more_concerns:
        concerns += (f"<li>… and {report.more_concerns} more amber or red metric"
                     f"{'s' if report.more_concerns > 1 else ''} on the scorecard.</li>")
    titles = list(next(iter(report.budgets.values()), {}).keys())
    budget_rows = "".join(
        f"<tr><td>{escape(system)}</td>"
        + "".join(f"<td>{escape(cells[t])}</td>" for t in titles) + "</tr>"
        for system, cells in report.budgets.items())
    heads = "".join(f"<th>{escape(t)}</th>" for t in titles)
    budget_table = (f"<table><tr><th>System</th>{heads}</tr>{budget_rows}</table>"
                    if titles else "<p>No events in 30 days.</p>")
    answers = "".join(
        f"<li><b>{escape(a.question)}</b> {_status(a.status)}<br>{escape(a.answer)} "
        f"<i>({escape(a.signed)})</i></li>" for a in report.answers)
    charts = "".join(f'<div class="chart"><b>{escape(c.title)}</b>, weekly{chart_svg(c)}</div>'
                     for c in report.charts)
    c = report.coverage
    legend = " · ".join(f"{icon} {word.lower()}" for icon, word in STATUS.values())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>AI systems board report, week to {report.as_of:%d %b %Y}</title>
<style>{STYLE} html {{ zoom: {scale:g}; }}</style></head>
<body>
<h1>AI systems: board report for {scope}</h1>
<div class="sub">The week to {report.as_of:%A %d %B %Y} ({days(start, end)}, UTC),
against the thresholds product management set. Status: {escape(legend)}.</div>
{headline_table(report)}
<div class="cols">
<div>
<h2>Verdict</h2><ul>{verdicts}</ul>
<h2>What needs attention, and why</h2><ul>{concerns}</ul>
</div>
<div>
<h2>Questions for leaders</h2><ul>{answers}</ul>
<h2>Error budgets, last 30 days</h2>{budget_table}
</div>
</div>
<div class="charts">{charts}</div>
<footer>Data coverage: window {escape(c['window'])}; {escape(c['events'])} decisions;
outcomes known for {escape(c['labelled'])}; {escape(c['estimated'])} estimated from confidence
(outcome not known yet). Numbers are those of the scorecard app for the same window.</footer>
</body></html>
"""
