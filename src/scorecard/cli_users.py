"""`scorecard users ...`: sign-ins in the users file, and their sessions and lockouts in the
store. Passwords are read from standard input, never from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import BadInput
from .sessions import end_sessions, is_address, list_sessions, unlock, unlock_address
from .settings import config_dir, engine_settings, store_address
from .store.engines import is_clickhouse
from .store.ingest import whoami
from .users import ROLES, Directory, add_user, remove_user, set_password

ROLE_CHOICES = list(ROLES)


def _store_exists(args) -> bool:
    address = store_address(args.db)
    return is_clickhouse(address) or Path(address).exists()


def _store(args):
    from .store.engines import open_store

    if not _store_exists(args):
        raise BadInput(f"There is no store at {store_address(args.db)}; sessions and lockouts "
                       "live in the store.")
    return open_store(store_address(args.db), settings=engine_settings(config_dir(args.config)))


def _end_where_possible(args, username: str, reason: str) -> str:
    """End a user's sessions now, when the store can be reached; they end at their next check
    in any case, because the session remembers the password and role it began with."""
    if not _store_exists(args):
        return ""
    with _store(args) as store:
        ended = end_sessions(store, by=whoami(), reason=reason, username=username)
    return f" {ended} open session{'s' if ended != 1 else ''} ended."


def _password() -> str:
    return sys.stdin.readline().rstrip("\n")


def cmd_add(args) -> int:
    add_user(config_dir(args.config), args.username, args.role, _password(), name=args.name)
    print(f"User {args.username.strip().lower()} saved with role {args.role}.")
    return 0


def cmd_list(args) -> int:
    directory = Directory.load(config_dir(args.config))
    if not directory.usernames:
        print("No sign-ins yet; add one with `scorecard users add NAME --role admin`.")
    for name, entry in sorted(directory.usernames.items()):
        print(f"{name:<24} {directory.role(name) or 'no role':<16} {entry.get('name') or ''}")
    return 0


def cmd_remove(args) -> int:
    name = remove_user(config_dir(args.config), args.username)
    print(f"User {name} removed." + _end_where_possible(args, name, "the user was removed"))
    return 0


def cmd_passwd(args) -> int:
    name = set_password(config_dir(args.config), args.username, _password())
    print(f"Password of {name} changed."
          + _end_where_possible(args, name, "the password was changed"))
    return 0


def cmd_unlock(args) -> int:
    name = args.username.strip().lower()
    with _store(args) as store:
        if is_address(name):
            unlock_address(store, name, by=whoami())
        else:
            unlock(store, name, by=whoami())
    print(f"Sign-ins {'from' if is_address(name) else 'for'} {name} are open again.")
    return 0


def cmd_sessions(args) -> int:
    with _store(args) as store:
        if args.end:
            if args.end == "all" and not args.user:
                raise BadInput("Say whose sessions to end: --end all --user NAME.")
            ended = end_sessions(store, by=whoami(), reason="ended by an administrator",
                                 session_id=None if args.end == "all" else args.end,
                                 username=args.user)
            if not ended:
                raise BadInput(f"No open session {args.end} found.")
            print(f"{ended} session{'s' if ended != 1 else ''} ended.")
            return 0
        rows = list_sessions(store, args.user)
    if not rows:
        print("No open sessions.")
    for r in rows:
        print(f"{r['session_id']}  {r['username']:<20} {r['role'] or '':<16} "
              f"from {r['client'] or '?':<15} since {r['started_at']:%Y-%m-%d %H:%M} UTC, "
              f"last seen {r['last_seen_at']:%Y-%m-%d %H:%M}")
    return 0


def add_parsers(sub) -> None:
    """The `users` command and its actions, on the main parser's subparsers."""
    p = sub.add_parser("users", help="manage sign-ins, their sessions and lockouts")
    users = p.add_subparsers(dest="action", required=True)

    def action(name, func, helptext, *, username=True, store=False):
        a = users.add_parser(name, help=helptext)
        if username:
            a.add_argument("username")
        a.add_argument("--config")
        if store:
            a.add_argument("--db", help="store file (default $SCORECARD_DB, then the embedded "
                                        "store)")
        a.set_defaults(func=func)
        return a

    add = action("add", cmd_add, "add or update a sign-in; the password is read from stdin")
    add.add_argument("--role", required=True, choices=ROLE_CHOICES)
    add.add_argument("--name", help="display name (default: the username)")
    action("list", cmd_list, "list the sign-ins and their roles", username=False)
    action("remove", cmd_remove, "remove a sign-in and end its sessions", store=True)
    action("passwd", cmd_passwd, "set a new password (read from stdin); ends its sessions",
           store=True)
    action("unlock", cmd_unlock, "lift a sign-in lockout for a username, or the wait of an "
                                 "address", store=True)
    sessions = action("sessions", cmd_sessions, "list open sessions, or end them",
                      username=False, store=True)
    sessions.add_argument("--user", help="only this user's sessions")
    sessions.add_argument("--end", metavar="ID", help="end this session ('all' with --user: "
                                                      "every session of that user)")
