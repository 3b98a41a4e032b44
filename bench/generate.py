"""N inference events in the SPEC schema, vectorised and reproducible, written as Parquet in
chunks so 50 million rows need no more memory than one chunk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SYSTEMS = np.array(["support-assistant", "credit-precheck", "doc-summariser", "claims-triage",
                    "sales-copilot"])
MODELS = np.array(["gpt-4o", "gpt-4o-mini", "xgb-v13", "claude-3-5-sonnet", "llama-3-70b"])
STATUSES = np.array(["ok", "error", "timeout", "fallback"])
SEGMENTS = np.array(["north", "south", "east", "west", "central", "online"])
DETECTORS = np.array(["system", "reviewer", "customer", "regulator"])
START = np.datetime64("2026-08-31T00:00:00", "us")
DAYS = 84
CHUNK = 1_000_000
CUSTOMERS = 10_000  # a long tail of accounts, the biggest far busier than the rest
TEAMS = np.array(["support", "risk", "knowledge", "claims", "sales"])
FEATURES = np.array(["chat", "email", "search", "review", "summary", "triage", "draft", "score"])


def _chunk(rng: np.random.Generator, first: int, n: int, total: int, shuffled: bool,
           nan_share: float, seed: int) -> pa.Table:
    ids = np.arange(first, first + n)
    # events spread over 12 weeks with usage growing towards the end: in time order, or (as
    # real extracts come) each row anywhere in the period
    position = rng.random(n) if shuffled else (ids + rng.random(n)) / total
    seconds = (np.sqrt(position) * DAYS * 86400).astype("int64")
    system = rng.integers(0, len(SYSTEMS), n)
    status = STATUSES[np.searchsorted([0.96, 0.985, 0.995, 1.0], rng.random(n))]
    ok = status == "ok"
    labelled = rng.random(n) < 0.8
    success = rng.random(n) < np.where(ok, 0.9 - 0.05 * position, 0.2)
    outcome = np.where(labelled, np.where(success, "success", "failure"), None)
    confidence = np.clip(rng.beta(6, 2, n) - 0.1 * position * (system == 1), 0, 1)
    reviewed = rng.random(n) < np.where(confidence < 0.5, 0.6, 0.05)
    tokens_in = rng.integers(200, 4000, n)
    tokens_out = rng.integers(50, 800, n)
    def missing(values: np.ndarray) -> np.ndarray:
        """Some numbers written as NaN, as pandas and Spark write a missing value."""
        return np.where(rng.random(n) < nan_share, np.nan, values)

    columns = {
        "event_id": pa.array(np.char.add("ev-", ids.astype(str))),
        "timestamp": pa.array(START + seconds.astype("timedelta64[s]")),
        "system": pa.array(SYSTEMS[system]),
        "model": pa.array(MODELS[(system + (position > 0.66)) % len(MODELS)]),
        "status": pa.array(status),
        "latency_ms": pa.array(missing(rng.lognormal(6.6 + 0.4 * position, 0.6, n))),
        "cost_usd": pa.array(missing((tokens_in * 2.5 + tokens_out * 10) / 1e6)),
        "input_tokens": pa.array(tokens_in),
        "output_tokens": pa.array(tokens_out),
        "outcome": pa.array(outcome, type=pa.string()),
        "confidence": pa.array(missing(confidence)),
        "human_reviewed": pa.array(reviewed),
        "human_overridden": pa.array(reviewed & (rng.random(n) < 0.15)),
        "review_cost_usd": pa.array(np.where(reviewed, 1.5, 0.0)),
        "has_explanation": pa.array(rng.random(n) < 0.93),
        "segment": pa.array(SEGMENTS[rng.integers(0, len(SEGMENTS), n)]),
        "detected_by": pa.array(np.where(ok, None, DETECTORS[rng.integers(0, 4, n)]),
                                type=pa.string()),
        "input_ref": pa.array(np.char.add("in/", ids.astype(str))),
        "output_ref": pa.array(np.char.add("out/", ids.astype(str))),
    }
    columns.update(_slices(np.random.default_rng([seed, first]), n, system, position))
    return pa.table(columns)


def _slices(rng: np.random.Generator, n: int, system: np.ndarray, position: np.ndarray) -> dict:
    """Release, team, feature and customer, from their own random stream (the other columns
    are what they were before these came). Customers by a long tail (Zipf)."""
    release = np.char.add(np.char.add(SYSTEMS[system], "-r"),
                          (np.floor(position * 6) + rng.integers(0, 2, n)).astype(int).astype(str))
    customer = (rng.zipf(1.3, n) - 1) % CUSTOMERS + 1
    return {"release": pa.array(release), "team": pa.array(TEAMS[system]),
            "feature": pa.array(FEATURES[rng.integers(0, len(FEATURES), n)]),
            "customer": pa.array(np.char.add("cust-", customer.astype(str)))}


def generate(path: Path, rows: int, seed: int = 20261126, shuffled: bool = False,
             nan_share: float = 0.0) -> Path:
    """Write `rows` events to `path` (Parquet); the same arguments give the same file.
    `shuffled`: rows in random time order; `nan_share`: that share of latencies, costs and
    confidences written as NaN."""
    rng = np.random.default_rng(seed)
    writer = None
    try:
        for first in range(0, rows, CHUNK):
            table = _chunk(rng, first, min(CHUNK, rows - first), rows, shuffled, nan_share,
                           seed)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table, row_group_size=256_000)
    finally:
        if writer is not None:
            writer.close()
    return path
