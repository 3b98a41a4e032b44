"""Which engine a store address names, and opening it (SPEC section 4, `--db`): a DuckDB file
(the embedded default), `chdb://DIR` (ClickHouse in this process) or
`clickhouse://USER@HOST:PORT/DATABASE` (a ClickHouse server, its password from
$SCORECARD_CLICKHOUSE_PASSWORD)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import BadInput

CHDB, CLICKHOUSE = "chdb://", "clickhouse://"
PASSWORD_VARIABLE = "SCORECARD_CLICKHOUSE_PASSWORD"


def is_clickhouse(address: str | os.PathLike) -> bool:
    return str(address).startswith((CHDB, CLICKHOUSE))


def clickhouse_address(address: str):
    """The ClickHouseAddress a `chdb://` or `clickhouse://` address names."""
    from .clickhouse import ClickHouseAddress

    text = str(address)
    if text.startswith(CHDB):
        folder = text[len(CHDB):]
        if not folder:
            raise BadInput("A chDB address names its folder: chdb://DIR, e.g. chdb://var/ch.")
        return ClickHouseAddress(folder=Path(folder))
    parts = urlsplit(text)
    if parts.password is not None:
        raise BadInput(f"Put the ClickHouse password in ${PASSWORD_VARIABLE}, not in the "
                       "address, so that it stays out of shell history and process lists.")
    try:
        port = parts.port or 8123
    except ValueError:
        raise BadInput(f"'{text}' has no valid port; write clickhouse://USER@HOST:PORT/DATABASE."
                       ) from None
    database = parts.path.strip("/") or "default"
    if not parts.hostname or "/" in database:
        raise BadInput(f"'{text}' is not a ClickHouse address; write "
                       "clickhouse://USER@HOST:PORT/DATABASE.")
    return ClickHouseAddress(user=unquote(parts.username or "default"), host=parts.hostname,
                             port=port, database=database)


def absolute(address: str) -> str:
    """The address with a DuckDB file's or chDB folder's path made absolute, so that it names
    the same store from any working folder."""
    if str(address).startswith(CLICKHOUSE):
        return str(address)
    if str(address).startswith(CHDB):
        return f"{CHDB}{clickhouse_address(address).folder.resolve()}"
    return str(Path(address).resolve())


def writable(address: str | os.PathLike) -> bool:
    """Whether this process may write the store: a DuckDB file or chDB folder by the file
    system's permissions; a server by the account's grants, which only the server knows."""
    if str(address).startswith(CLICKHOUSE):
        return True
    if str(address).startswith(CHDB):
        folder = clickhouse_address(str(address)).folder
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        return os.access(folder, os.W_OK)
    from .db import writable as file_writable

    return file_writable(Path(address))


def open_store(address: str | os.PathLike, *, read_only: bool = False,
               settings: dict | None = None, wait_seconds: float = 30.0):
    """The store at `address`: a ClickHouseStore for a ClickHouse address, else a DuckDB Store."""
    if is_clickhouse(address):
        from .clickhouse import ClickHouseStore

        return ClickHouseStore(clickhouse_address(str(address)), read_only=read_only,
                               password=os.environ.get(PASSWORD_VARIABLE),
                               room_settings=settings)
    from .db import Store

    return Store(address, read_only=read_only, settings=settings, wait_seconds=wait_seconds)
