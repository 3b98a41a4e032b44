"""What a digest says: the red and amber sentences, the headline table and a link back to the
app, as plain text (webhooks, the e-mail's text part) and as a short HTML e-mail, from the
board report's content. The role a subscription names decides the extra line and the page the
link opens: what that role would look at first."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from ..board.content import BoardReport
from ..board.headline import titles
from ..board.html import days
from ..metrics.formatting import status_label

# role -> (the page its link opens, what that page is called)
LANDING = {"executive": ("", "Scorecard"),  # the app's first page
           "product_manager": ("thresholds", "Thresholds"),
           "analyst": ("upload", "Upload"),
           "admin": ("audit", "Audit")}


@dataclass
class Digest:
    subject: str
    text: str
    html: str
    report: BoardReport
    link: str


def _subject(report: BoardReport) -> str:
    act = [v.system for v in report.verdicts if "red" in v.statuses.values()]
    watch = [v.system for v in report.verdicts
             if "amber" in v.statuses.values() and v.system not in act]
    if act:
        news = f"{len(act)} system{'s' if len(act) > 1 else ''} to act on"
    elif watch:
        news = f"{len(watch)} system{'s' if len(watch) > 1 else ''} to watch"
    else:
        news = "every system on target"
    return f"AI scorecard, week to {report.as_of:%d %b %Y}: {news}"


def _role_line(report: BoardReport, role: str) -> str:
    """The one line each role looks for beyond the verdicts."""
    if role == "product_manager":
        unsigned = sum(a.signed == "not signed off" for a in report.answers)
        return (f"{unsigned} of {len(report.answers)} questions for leaders are not signed off."
                if unsigned else "Every question for leaders is signed off.")
    c = report.coverage
    if role in ("analyst", "admin"):
        return (f"Data: {c['events']} decisions in {c['window']}; outcomes known for "
                f"{c['labelled']}, {c['estimated']} estimated from confidence.")
    return ""


def _concern_lines(report: BoardReport) -> list[str]:
    lines = [f"{status_label(c.status)}: {c.sentence}" for c in report.concerns]
    if report.more_concerns:
        lines.append(f"… and {report.more_concerns} more on the scorecard.")
    return lines or ["Nothing is red or amber."]


def compose(report: BoardReport, role: str, app_url: str) -> Digest:
    page, page_title = LANDING[role]
    link = f"{app_url}/{page}" if page else f"{app_url}/"
    start, end = report.window
    period = f"the week {days(start, end)} {end:%Y} (UTC)"
    role_line = _role_line(report, role)
    heads = ["System", *titles()]
    table_lines = [" | ".join(heads)] + [
        " | ".join([row.system, *(f"{f.status.split(' ')[0]} {f.value} ({f.change or 'new'})"
                                  for f in row.figures)]) for row in report.headline]
    text = "\n".join([_subject(report), f"For {period}.", "", "What needs attention:",
                      *(f"- {line}" for line in _concern_lines(report)), "",
                      "The numbers:", *table_lines, "",
                      *([role_line, ""] if role_line else []),
                      f"Open the {page_title} page: {link}"])
    return Digest(_subject(report), text, _html(report, period, role_line, link, page_title),
                  report, link)


CELL = "padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top"


def _html(report: BoardReport, period: str, role_line: str, link: str, page_title: str) -> str:
    concerns = "".join(f"<li style=\"margin-bottom:4px\">{escape(line)}</li>"
                       for line in _concern_lines(report))
    heads = "".join(f"<th style=\"{CELL}\">{escape(t)}</th>" for t in ["System", *titles()])
    rows = "".join(
        f"<tr><td style=\"{CELL}\"><b>{escape(row.system)}</b></td>" + "".join(
            f"<td style=\"{CELL}\">{escape(f.status.split(' ')[0])} {escape(f.value)}<br>"
            f"<span style=\"color:#555;font-size:12px\">{escape(f.change or 'no earlier figure')}"
            "</span></td>" for f in row.figures) + "</tr>"
        for row in report.headline)
    extra = f"<p>{escape(role_line)}</p>" if role_line else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(_subject(report))}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1b1b1b;margin:16px">
<h1 style="font-size:20px;margin:0 0 4px 0">{escape(_subject(report))}</h1>
<p style="color:#555;margin:0 0 12px 0">For {escape(period)}, against the thresholds product
management set. The one-page board report is attached.</p>
<h2 style="font-size:16px;color:#1f4e79">What needs attention</h2>
<ul style="padding-left:20px">{concerns}</ul>
<h2 style="font-size:16px;color:#1f4e79">The numbers</h2>
<table style="border-collapse:collapse">
<tr>{heads}</tr>{rows}</table>
<p style="color:#555;font-size:12px">Each change is against the week before.</p>
{extra}
<p><a href="{escape(link)}" style="color:#1f4e79">Open the {escape(page_title)} page</a>
({escape(link)})</p>
</body></html>
"""
