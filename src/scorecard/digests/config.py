"""`config/digests.yaml`: who gets the scorecard by itself, how and when. Every value is
checked here, before anything is sent; an address is one address (no CR/LF, commas or angle
brackets, so nothing can be slipped into a mail header) and a webhook is an http(s) URL. The
SMTP password is never in the file: the file names the environment variable that holds it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from ..errors import BadInput
from ..notify import Webhook
from ..settings import read_yaml, write_private
from ..users import ROLES

FILE = "digests.yaml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
HEADER = ("# Scheduled digests (scorecard digest): each subscription is sent once per period,\n"
          "# when due. Admins edit this on the Digests page; the SMTP password is read from\n"
          "# the environment variable `password_env` names, never from this file.\n")


class _NoAliases(yaml.SafeDumper):
    """Every value written out (the reader refuses YAML aliases)."""

    def ignore_aliases(self, data) -> bool:
        return True


def _address(value: str) -> str:
    if not ADDRESS.fullmatch(value):
        shown = value.encode("unicode_escape").decode()[:80]
        raise ValueError(f"'{shown}' is not one e-mail address (name@example.com)")
    return value


class Smtp(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str | None = None
    password_env: str = "SCORECARD_SMTP_PASSWORD"
    sender: str = "scorecard@localhost"
    ca_file: str | None = None  # a private CA's certificate, when the server's is not public
    timeout_seconds: float = 20.0

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", value):
            raise ValueError("the SMTP host is a name or an address, such as smtp.example.com")
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _address(value)

    @field_validator("password_env")
    @classmethod
    def _env(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("password_env names an environment variable, such as "
                             "SCORECARD_SMTP_PASSWORD")
        return value


class Schedule(BaseModel):
    """Weekly on a weekday at an hour, or daily at an hour, in a time zone."""

    model_config = ConfigDict(extra="forbid")

    every: Literal["week", "day"] = "week"
    day: Literal[WEEKDAYS] = "monday"  # type: ignore[valid-type]
    hour: int = 8
    time_zone: str = "UTC"

    @field_validator("hour")
    @classmethod
    def _hour(cls, value: int) -> int:
        if not 0 <= value <= 23:
            raise ValueError("the hour is 0 to 23")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value[:60]}' is not a time zone (such as Europe/Berlin)") \
                from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def words(self) -> str:
        when = f"{self.hour:02d}:00 {self.time_zone}"
        return f"every {self.day.capitalize()} at {when}" if self.every == "week" \
            else f"every day at {when}"


class Subscription(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    role: str = "executive"
    systems: list[str] = []  # none: all systems
    email: list[str] = []
    webhook: Webhook | None = None
    schedule: Schedule = Schedule()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.fullmatch(value):
            raise ValueError("a name is lower-case letters, digits, - and _ (up to 64)")
        return value

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"the role must be one of {', '.join(ROLES)}")
        return value

    @field_validator("email", "systems", mode="before")
    @classmethod
    def _none_is_empty(cls, value):
        return [] if value is None else value

    @field_validator("email")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        return [_address(v) for v in value]

    @model_validator(mode="after")
    def _one_way(self) -> "Subscription":
        if bool(self.email) == bool(self.webhook):
            raise ValueError("a subscription has e-mail recipients or a webhook (one of them)")
        return self

    def where(self) -> str:
        """Who receives it, for people (a webhook by host only: its path may be a secret)."""
        return ", ".join(self.email) if self.email else f"webhook {self.webhook.where}"


class DigestsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    app_url: str = "http://localhost:8501"
    smtp: Smtp | None = None
    subscriptions: list[Subscription] = []

    @field_validator("app_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s<>\"']+", value):
            raise ValueError("app_url is the scorecard's address, starting http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> "DigestsConfig":
        names = [s.name for s in self.subscriptions]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"the subscription name '{twice[0]}' is used twice")
        if self.smtp is None and any(s.email for s in self.subscriptions):
            raise ValueError("e-mail subscriptions need the smtp section (host, port, ...)")
        return self

    def get(self, name: str) -> Subscription:
        found = next((s for s in self.subscriptions if s.name == name), None)
        if found is None:
            raise BadInput(f"There is no digest subscription named '{name}'.")
        return found


def _problem(exc: ValidationError, source: str) -> BadInput:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    named = f" {source}" if source else ""
    return BadInput(f"The digests configuration{named} is invalid"
                    f"{' at ' + where if where else ''}: {message}.")


def parse(data: dict, source: str = "") -> DigestsConfig:
    try:
        return DigestsConfig.model_validate(data or {})
    except ValidationError as exc:
        raise _problem(exc, source) from None


def load(cfg_dir: Path) -> DigestsConfig:
    """The digests configuration; an empty one when the file does not exist."""
    path = Path(cfg_dir) / FILE
    if not path.exists():
        return DigestsConfig()
    return parse(read_yaml(path, "digests configuration"), str(path))


def save(cfg_dir: Path, config: DigestsConfig) -> None:
    """Write the configuration (checked again first), replacing the file in one step."""
    checked = parse(config.model_dump(mode="json"))
    data = checked.model_dump(mode="json", exclude_defaults=False)
    for sub in data["subscriptions"]:
        if sub["webhook"] is None:
            del sub["webhook"]
        if not sub["email"]:
            del sub["email"]
    text = HEADER + yaml.dump(data, Dumper=_NoAliases, sort_keys=False, allow_unicode=True)
    write_private(Path(cfg_dir) / FILE, text)
