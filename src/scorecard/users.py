"""Sign-ins, roles and what each role may do.

Users live in `users.yaml` in the config directory (streamlit-authenticator's credentials
layout), passwords only as bcrypt hashes. A demo store carries its own demo sign-ins in its
`store_meta`, so they exist only where the demo data does. The role used for a write is always
looked up here again, never taken from the browser session.
"""

from __future__ import annotations

import json
import re
import secrets
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import yaml

from .errors import BadInput, ScorecardError
from .settings import line_of, read_yaml, write_private
from .store import records

ROLES = ("executive", "product_manager", "analyst", "admin")
ROLE_TITLES = {"executive": "Executive", "product_manager": "Product manager",
               "analyst": "Analyst", "admin": "Admin"}
CAPABILITIES = {
    "executive": {"read"},
    "product_manager": {"read", "edit_thresholds", "sign_off", "evidence"},
    "analyst": {"read", "upload"},
    "admin": {"read", "edit_thresholds", "sign_off", "upload", "audit", "evidence", "digests"},
}
ACTIONS = {"read": "read the scorecard", "edit_thresholds": "change thresholds",
           "sign_off": "sign off answers", "upload": "upload log extracts",
           "audit": "read the audit log", "evidence": "read the governance evidence",
           "digests": "manage the scheduled digests"}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 8
MIN_ADMIN_PASSWORD = 12
DEMO_META_KEY = "demo_signins"


class NotAllowed(ScorecardError):
    """The signed-in person's role does not permit this action."""


def can(role: str | None, capability: str) -> bool:
    return capability in CAPABILITIES.get(role or "", set())


def hash_password(password: str, rounds: int = 12) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


@lru_cache(maxsize=1)
def dummy_password_hash() -> str:
    """A hash no password matches, checked for unknown usernames so that their answer takes as
    long as a known one's (made once per process: bcrypt is slow on purpose)."""
    return hash_password(secrets.token_urlsafe(16))


def users_file(cfg_dir: Path) -> Path:
    return Path(cfg_dir) / "users.yaml"


def _check_password(password: str, role: str | None) -> None:
    least = MIN_ADMIN_PASSWORD if role == "admin" else MIN_PASSWORD
    if len(password) < least:
        who = "An admin's password" if role == "admin" else "The password"
        raise BadInput(f"{who} must be at least {least} characters long.")


def _write_users(path: Path, data: dict) -> None:
    write_private(path, "# Sign-ins for the scorecard; passwords are bcrypt hashes. Manage "
                        "with `scorecard users`.\n" + yaml.safe_dump(data, sort_keys=True))


def _users_data(cfg_dir: Path) -> tuple[Path, dict, dict]:
    """The users file, its data and its usernames mapping (a malformed file is refused, never
    rewritten)."""
    path = users_file(cfg_dir)
    _configured_signins(path)
    data = read_yaml(path, "users file")
    usernames = data.setdefault("credentials", {}).setdefault("usernames", {}) or {}
    data["credentials"]["usernames"] = usernames
    return path, data, usernames


def _existing(usernames: dict, username: str) -> str:
    name = username.strip().lower()
    if name not in usernames:
        raise BadInput(f"There is no sign-in named {name} in the users file.")
    return name


def add_user(cfg_dir: Path, username: str, role: str, password: str,
             name: str | None = None) -> None:
    """Add or update a sign-in in the config directory's users file; stores only the hash."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise BadInput("A username is 2 to 64 characters: lower-case letters, digits, '.', '_' "
                       "or '-', starting with a letter or digit.")
    if role not in ROLES:
        raise BadInput(f"The role must be one of {', '.join(ROLES)}.")
    _check_password(password, role)
    path, data, usernames = _users_data(cfg_dir)
    usernames[username] = {"name": name or username, "password": hash_password(password),
                           "roles": [role]}
    _write_users(path, data)


def set_password(cfg_dir: Path, username: str, password: str) -> str:
    """Give a sign-in a new password; its sessions end at their next check."""
    path, data, usernames = _users_data(cfg_dir)
    name = _existing(usernames, username)
    _check_password(password, Directory({name: usernames[name]}).role(name))
    usernames[name]["password"] = hash_password(password)
    _write_users(path, data)
    return name


def remove_user(cfg_dir: Path, username: str) -> str:
    """Take a sign-in out of the users file; its sessions end at their next check."""
    path, data, usernames = _users_data(cfg_dir)
    name = _existing(usernames, username)
    del usernames[name]
    _write_users(path, data)
    return name


def demo_signins(usernames_and_roles: dict[str, str], password_of) -> str:
    """The JSON a demo store keeps in store_meta: username -> name, hash, roles."""
    return json.dumps({u: {"name": f"Demo {ROLE_TITLES[r].lower()}",
                           "password": hash_password(password_of(u), rounds=10), "roles": [r]}
                       for u, r in usernames_and_roles.items()})


@dataclass
class Directory:
    """Everyone who may sign in: the config's users, plus the demo sign-ins of a demo store
    while it holds the demo's data only (their passwords are public: they guard no data of
    anyone's own)."""

    usernames: dict[str, dict]

    @classmethod
    def load(cls, cfg_dir: Path, store=None) -> "Directory":
        usernames = dict(_configured_signins(users_file(cfg_dir)))
        if store is not None and not records.loaded_other_than(store, "demo"):
            demo = records.meta(store, DEMO_META_KEY)
            for username, entry in json.loads(demo or "{}").items():
                usernames.setdefault(username, {**entry, "demo": True})
        return cls({u.lower(): dict(e) for u, e in usernames.items()})

    def is_demo(self, username: str | None) -> bool:
        return bool(self.usernames.get((username or "").lower(), {}).get("demo"))

    def require_a_signin_after_load(self, username: str | None) -> None:
        """A load from a demo sign-in ends the demo sign-ins; it is refused (NotAllowed) while
        there is no other sign-in, which would leave nobody able to sign in."""
        if self.is_demo(username) and all(e.get("demo") for e in self.usernames.values()):
            raise NotAllowed(
                "Loading a file ends the demo sign-ins, as their password is public, and this "
                "scorecard has no other sign-in yet: add one first (`scorecard users add NAME "
                "--role admin`), sign in with it and load the file again.")

    def including(self, person: dict | None) -> "Directory":
        """This directory with the person signed in this run through the company's identity
        provider ({"username", "role"}, as their server-side session holds it), if any."""
        if not person:
            return self
        entry = {"name": person["username"], "roles": [person["role"]], "company": True}
        return Directory({**self.usernames, person["username"]: entry})

    def role(self, username: str | None) -> str | None:
        entry = self.usernames.get((username or "").lower())
        roles = [r for r in (entry or {}).get("roles") or [] if r in ROLES]
        # with several roles the most capable one counts
        return max(roles, key=lambda r: len(CAPABILITIES[r])) if roles else None

    def require(self, username: str | None, capability: str) -> str:
        """The user's role, if it permits the capability; otherwise NotAllowed."""
        role = self.role(username)
        if not username:
            raise NotAllowed(f"Sign in first to {ACTIONS[capability]}.")
        if not can(role, capability):
            raise NotAllowed(f"{username} ({ROLE_TITLES.get(role or '', 'no role')}) may not "
                             f"{ACTIONS[capability]}; ask an admin for that role.")
        return role


def _configured_signins(path: Path) -> dict[str, dict]:
    """The sign-ins of the users file; BadInput naming the file and line when it is malformed."""
    data = read_yaml(path, "users file")
    location: tuple = ("credentials",)
    credentials = data.get("credentials") or {}
    if isinstance(credentials, dict):
        location = ("credentials", "usernames")
        usernames = credentials.get("usernames") or {}
        if isinstance(usernames, dict):
            bad = [u for u, e in usernames.items()
                   if not isinstance(e, dict) or not isinstance(e.get("roles") or [], list)
                   or not isinstance(e.get("password", ""), str)]
            if not bad:
                return {str(u): e for u, e in usernames.items()}
            location = ("credentials", "usernames", bad[0])
    line = line_of(path, location)
    raise BadInput(f"The users file {path} is malformed at {'.'.join(map(str, location))}"
                   f"{f' (line {line})' if line else ''}: each sign-in is a username with "
                   "name, password and a list of roles; fix it or add sign-ins again with "
                   "`scorecard users add`.")
