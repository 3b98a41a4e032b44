"""The store's tables: the contract columns (SPEC sections 1-2) and the migrations that build them.

Each contract column is declared once; the DDL and the ingestion rules are both derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STATUSES = ("ok", "error", "timeout", "fallback")
OUTCOMES = ("success", "failure")
DETECTORS = ("system", "reviewer", "customer", "regulator")
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")


@dataclass(frozen=True)
class Column:
    """One contract column: its SQL type, whether it is required and the rule its values follow."""

    name: str
    kind: str  # text | timestamp | float | int | bool | choice
    required: bool = False
    choices: tuple[str, ...] = field(default=())
    non_negative: bool = False
    unit_interval: bool = False
    max_length: int = 1000  # text longer than this breaks the rule (SPEC section 1)
    since: int = 1  # the schema version that added the column to its table

    @property
    def sql_type(self) -> str:
        return {
            "text": "VARCHAR",
            "choice": "VARCHAR",
            "timestamp": "TIMESTAMP",
            "float": "DOUBLE",
            "int": "BIGINT",
            "bool": "BOOLEAN",
        }[self.kind]


EVENT_COLUMNS: tuple[Column, ...] = (
    Column("event_id", "text", max_length=200, required=True),
    Column("timestamp", "timestamp", required=True),
    Column("system", "text", max_length=200, required=True),
    Column("model", "text", max_length=200, required=True),
    Column("status", "choice", required=True, choices=STATUSES),
    Column("latency_ms", "float", non_negative=True),
    Column("cost_usd", "float", non_negative=True),
    Column("input_tokens", "int", non_negative=True),
    Column("output_tokens", "int", non_negative=True),
    Column("outcome", "choice", choices=OUTCOMES),
    Column("confidence", "float", unit_interval=True),
    Column("human_reviewed", "bool"),
    Column("human_overridden", "bool"),
    Column("review_cost_usd", "float", non_negative=True),
    Column("has_explanation", "bool"),
    Column("segment", "text", max_length=200),
    Column("detected_by", "choice", choices=DETECTORS),
    Column("input_ref", "text"),
    Column("output_ref", "text"),
    Column("outcome_at", "timestamp", since=7),
    # what was deployed beyond the model, and who owns and pays (the slices of SPEC section 3)
    Column("release", "text", max_length=200, since=9),
    Column("team", "text", max_length=200, since=9),
    Column("feature", "text", max_length=200, since=9),
    Column("customer", "text", max_length=200, since=9),
)

# the columns a scorecard can be sliced by (SPEC section 3, Slices)
DIMENSIONS = ("segment", "model", "release", "team", "feature", "customer")

INCIDENT_COLUMNS: tuple[Column, ...] = (
    Column("incident_id", "text", required=True),
    Column("system", "text", required=True),
    Column("severity", "choice", required=True, choices=SEVERITIES),
    Column("started_at", "timestamp", required=True),
    Column("detected_at", "timestamp", required=True),
    Column("resolved_at", "timestamp"),
    Column("detected_by", "choice", choices=DETECTORS),
    Column("summary", "text"),
)


@dataclass(frozen=True)
class Kind:
    """A kind of extract: the table it lands in, its key and its columns."""

    name: str
    table: str
    identity: tuple[str, ...]  # the columns that make a row the same row (SPEC section 1)
    columns: tuple[Column, ...]
    order_by: str

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


KINDS = {
    "events": Kind("events", "inference_events", ("system", "event_id"), EVENT_COLUMNS,
                   "timestamp"),
    "incidents": Kind("incidents", "incidents", ("incident_id",), INCIDENT_COLUMNS, "started_at"),
}

INGEST_ID = "ingest_id"  # besides the contract columns, each stored row names the ingest it came in


def _create_table(kind: Kind) -> str:
    """The table as schema version 1 created it; later columns come with their migration."""
    cols = ",\n  ".join(
        f'"{c.name}" {c.sql_type}' + (" NOT NULL" if c.required else "")
        for c in kind.columns if c.since == 1
    )
    # No PRIMARY KEY: uniqueness is enforced by ingestion's anti-join under the write lock, which
    # keeps loads fast and memory flat at tens of millions of rows (an ART index would not).
    return f"CREATE TABLE IF NOT EXISTS {kind.table} (\n  {cols}\n)"


# Each migration is (version, statements). Never edit a released migration: append a new one.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            "CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
            _create_table(KINDS["events"]),
            _create_table(KINDS["incidents"]),
            """CREATE TABLE IF NOT EXISTS ingest_log (
                 ingest_id VARCHAR PRIMARY KEY, recorded_at TIMESTAMP NOT NULL, actor VARCHAR, via VARCHAR,
                 kind VARCHAR, file VARCHAR, size_bytes BIGINT, sha256 VARCHAR,
                 rows_read BIGINT, inserted BIGINT, duplicates BIGINT, rejected BIGINT,
                 status VARCHAR NOT NULL, message VARCHAR)""",
            """CREATE TABLE IF NOT EXISTS rejected_rows (
                 ingest_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, file VARCHAR, row_number BIGINT,
                 reason VARCHAR NOT NULL, raw VARCHAR)""",
        ],
    ),
    (
        2,
        [
            """CREATE TABLE IF NOT EXISTS threshold_changes (
                 recorded_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, system VARCHAR, metric VARCHAR NOT NULL,
                 old_value VARCHAR, new_value VARCHAR, reason VARCHAR NOT NULL)""",
            """CREATE TABLE IF NOT EXISTS signoffs (
                 recorded_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, question VARCHAR NOT NULL,
                 system VARCHAR, status VARCHAR, note VARCHAR, as_of DATE)""",
            """CREATE TABLE IF NOT EXISTS signins (
                 recorded_at TIMESTAMP NOT NULL, username VARCHAR NOT NULL, role VARCHAR, event VARCHAR NOT NULL)""",
        ],
    ),
]

MIGRATIONS.append((
    3,
    [
        # Which ingest stored each row, so an upload can be taken back (rows stored before
        # this version have none and cannot be); conflicts counted apart from rejects.
        f"ALTER TABLE inference_events ADD COLUMN IF NOT EXISTS {INGEST_ID} VARCHAR",
        f"ALTER TABLE incidents ADD COLUMN IF NOT EXISTS {INGEST_ID} VARCHAR",
        "ALTER TABLE ingest_log ADD COLUMN IF NOT EXISTS conflicts BIGINT",
        """CREATE TABLE IF NOT EXISTS ingest_undos (
             ingest_id VARCHAR NOT NULL, recorded_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL,
             via VARCHAR, reason VARCHAR NOT NULL, events_removed BIGINT,
             incidents_removed BIGINT)""",
    ],
))

MIGRATIONS.append((
    4,
    [
        # Each scope's baseline confidence deciles and bin counts for the PSI, kept by writes
        # (ingest, undo) so that reading never has to create anything.
        """CREATE TABLE IF NOT EXISTS psi_baselines (
             scope VARCHAR, b0 TIMESTAMP, b1 TIMESTAMP, n BIGINT, q DOUBLE[],
             bins STRUCT(bin INTEGER, c BIGINT)[])""",
    ],
))

MIGRATIONS.append((
    5,
    [
        # Sign-in sessions kept on the server (the cookie holds only a token whose hash is
        # here), and the client address of each sign-in event, for throttling.
        """CREATE TABLE IF NOT EXISTS sessions (
             session_id VARCHAR PRIMARY KEY, token_hash VARCHAR NOT NULL, username VARCHAR NOT NULL,
             role VARCHAR, credential VARCHAR, client VARCHAR, started_at TIMESTAMP NOT NULL,
             last_seen_at TIMESTAMP NOT NULL, expires_at TIMESTAMP NOT NULL, ended_at TIMESTAMP,
             ended_by VARCHAR, end_reason VARCHAR)""",
        "ALTER TABLE signins ADD COLUMN IF NOT EXISTS client VARCHAR",
        "ALTER TABLE signins ADD COLUMN IF NOT EXISTS detail VARCHAR",
    ],
))

MIGRATIONS.append((
    6,
    [
        # Per day, each scope's window confidences counted in the bins of its kept baseline
        # (b0, b1, n name the psi_baselines row), kept by writes like the daily rollup.
        """CREATE TABLE IF NOT EXISTS psi_daily (
             scope VARCHAR, b0 TIMESTAMP, b1 TIMESTAMP, n BIGINT, day TIMESTAMP, bin INTEGER,
             c BIGINT)""",
    ],
))

MIGRATIONS.append((
    7,
    [
        # When each event's outcome became known, for the label lag (SPEC section 1).
        *(f'ALTER TABLE {kind.table} ADD COLUMN IF NOT EXISTS "{c.name}" {c.sql_type}'
          for kind in KINDS.values() for c in kind.columns if c.since == 7),
    ],
))

MIGRATIONS.append((
    8,
    [
        # Each system's calibration of success on confidence over its baseline (the estimated
        # success rate's curve, as knots), kept by writes like the PSI baselines: n events
        # in [b0, b1) when it was fitted, events of them labelled with a confidence.
        """CREATE TABLE IF NOT EXISTS calibrations (
             metric VARCHAR, system VARCHAR, b0 TIMESTAMP, b1 TIMESTAMP, n BIGINT,
             events BIGINT, xs DOUBLE[], ys DOUBLE[])""",
    ],
))


def _added_in(version: int) -> list[str]:
    return [f'ALTER TABLE {kind.table} ADD COLUMN IF NOT EXISTS "{c.name}" {c.sql_type}'
            for kind in KINDS.values() for c in kind.columns if c.since == version]


MIGRATIONS.append((
    9,
    [
        # release, team, feature and customer: what a number is sliced by (SPEC section 1)
        *_added_in(9),
    ],
))

MIGRATIONS.append((
    10,
    [
        # What each scheduled digest did, one row per step (claimed, sent, failed, test), so
        # a period is sent once whichever runner gets there first (scorecard.digests.ledger).
        """CREATE TABLE IF NOT EXISTS digest_sends (
             recorded_at TIMESTAMP NOT NULL, subscription VARCHAR NOT NULL,
             period VARCHAR NOT NULL, step VARCHAR NOT NULL, claim VARCHAR NOT NULL,
             runner VARCHAR, detail VARCHAR)""",
    ],
))

MIGRATIONS.append((
    11,
    [
        # Each run of `scorecard retention`: who, the days kept, the cutoff and what it removed.
        """CREATE TABLE IF NOT EXISTS retention_log (
             recorded_at TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, via VARCHAR,
             keep_days BIGINT NOT NULL, cutoff TIMESTAMP NOT NULL, removed VARCHAR)""",
    ],
))

SCHEMA_VERSION = MIGRATIONS[-1][0]
