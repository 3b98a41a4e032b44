"""Burn-rate alerts sent to webhooks (`scorecard alerts --notify alerts.yaml`): a generic JSON
POST or Slack's incoming-webhook payload. A state file remembers, per webhook, which alerts it
has been told about, so an alert that keeps firing is sent once and a "resolved" message
follows when it stops. A webhook that cannot be reached is told again on the next run."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .errors import BadInput
from .metrics.budgets import Alert, BudgetReport
from .settings import read_yaml, write_private
from .web_trouble import trouble

ICONS = {"page": "🔴", "ticket": "🟠", "resolved": "✅"}


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    url: str
    format: Literal["json", "slack"] = "json"
    timeout_seconds: float = 5.0

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("a webhook url holds no spaces, tabs or line breaks (write a space "
                             "in it as %20)")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("a webhook url starts with http:// or https://")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError("a webhook url's port is a number") from None
        return value

    @property
    def where(self) -> str:
        """The webhook's host and port, for messages: never its path (which may hold a secret,
        as Slack's does) nor a user and password written in the address."""
        parts = urlsplit(self.url)
        return f"{self.name} ({parts.hostname}{f':{parts.port}' if parts.port else ''})"


class AlertsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: str = "alerts-state.json"  # relative to the config file
    webhooks: list[Webhook] = []


def load_config(path: Path) -> AlertsConfig:
    if not path.exists():
        raise BadInput(f"There is no alerts configuration at {path}.")
    try:
        return AlertsConfig.model_validate(read_yaml(path, "alerts configuration"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadInput(f"The alerts configuration {path} is invalid at {where}: "
                       f"{first['msg'].removeprefix('Value error, ')}.") from None


def key(system: str, indicator: str, alert: Alert) -> str:
    return f"{system}|{indicator}|{alert.severity}|{alert.long}|{alert.short}"


def summary(status: str, record: dict) -> str:
    """One line a person reads in a chat channel."""
    rule = f"{record['long']}/{record['short']} {record['severity']} rule"
    who = f"{record['system']} · {record['indicator']}"
    if status == "resolved":
        return f"{ICONS['resolved']} RESOLVED · {who}: the {rule} no longer fires."
    left = record.get("budget_remaining")
    left_text = "" if left is None else f"; {max(left, 0):.0%} of the 30-day budget left"
    return (f"{ICONS[record['severity']]} {record['severity'].upper()} · {who}: the error "
            f"budget burns {record['long_burn']:.1f}x over {record['long']} and "
            f"{record['short_burn']:.1f}x over {record['short']} (the {rule} fires at "
            f"{record['factor']:g}x){left_text}.")


def payload(webhook: Webhook, status: str, record: dict, now: str) -> dict:
    text = summary(status, record)
    if webhook.format == "slack":
        return {"text": text}
    return {"status": status, "now": now, "summary": text, **record}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook answers where it is: a redirect is reported, never followed (following one
    could carry the message to an address inside the network)."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _without_login(url: str) -> tuple[str, dict[str, str]]:
    """The address without a user and password written in it, and those as a Basic
    Authorization header (urllib would take them for part of the host)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, {}
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    bare = urlunsplit(parts._replace(netloc=f"{host}{f':{parts.port}' if parts.port else ''}"))
    login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return bare, {"Authorization": "Basic " + base64.b64encode(login.encode()).decode()}


def post(webhook: Webhook, body: dict, headers: dict[str, str] | None = None) -> str | None:
    """POST one JSON message; None when the webhook took it, else why not, as a clause
    ("refused the connection", "answered 404 Not Found")."""
    url, login = _without_login(webhook.url)
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **login,
                                              **(headers or {})})
    try:
        with _OPENER.open(request, timeout=webhook.timeout_seconds):
            return None
    except urllib.error.HTTPError as exc:
        moved = " (redirects are not followed)" if 300 <= exc.code < 400 else ""
        return trouble(exc) + moved
    except ValueError:  # an address http.client refuses
        return "has an address that cannot be sent to"
    except OSError as exc:  # URLError included
        return trouble(exc)


def notify(report: BudgetReport, config_path: Path) -> list[str]:
    """Tell each webhook what started and stopped firing since it was last told; returns one
    sentence per webhook that could not be reached (those messages go again next run)."""
    config = load_config(config_path)
    state_path = (config_path.parent / config.state).resolve()
    try:
        state: dict = json.loads(state_path.read_text(encoding="utf-8")) \
            if state_path.exists() else {}
    except (OSError, ValueError):
        raise BadInput(f"The alerts state file {state_path} cannot be read; delete it to start "
                       "afresh (alerts firing now will then be sent again).") from None
    now = report.now.isoformat() if report.now else ""
    firing = {}
    for system, indicator, alert in report.firing():
        left = report.systems[system][indicator].budget_remaining
        firing[key(system, indicator, alert)] = {
            "system": system, "indicator": indicator, **asdict(alert),
            "budget_remaining": left, "since": now}
    problems = []
    for webhook in config.webhooks:
        told: dict = state.get(webhook.name, {})
        messages = [("firing", k, r) for k, r in firing.items() if k not in told]
        messages += [("resolved", k, r) for k, r in told.items() if k not in firing]
        for status, k, record in messages:
            trouble = post(webhook, payload(webhook, status, record, now))
            if trouble:
                problems.append(f"Could not send an alert to the webhook {webhook.where}: it "
                                f"{trouble}; it will be sent again on the next run.")
                break
            if status == "firing":
                told[k] = record
            else:
                told.pop(k)
        state[webhook.name] = told
    write_private(state_path, json.dumps(state, indent=1, default=str))
    return problems
