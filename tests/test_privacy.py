"""Personal data masked at the door: a file full of e-mail addresses, phone numbers, card
numbers, IBANs, employee ids and customer names, loaded on each engine; none of it may be left
anywhere in the store's files (raw bytes), its rejected rows or what the command printed."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import address_for
from scorecard.settings import DEFAULT_CONFIG_DIR
from scorecard.store.engines import open_store

CARD_OK, CARD_NOT_LUHN = "4111 1111 1111 1111", "4111 1111 1111 1112"


def personal_file(folder: Path) -> tuple[Path, Path, list[str]]:
    """A CSV and a JSON Lines file of the same calls, some rows broken, every free-text value
    personal; and the values that must not be stored."""
    secrets_ = []
    rows, lines = [], []
    header = ("event_id,timestamp,system,model,status,latency_ms,cost_usd,outcome,segment,"
              "input_ref,output_ref,customer,team,feature")
    for i in range(30):
        email, phone = f"jane.doe{i}@example.com", f"+44 20 7946 {1000 + i}"
        national, iban = f"030 1234 {5600 + i}", f"DE89 3704 0044 0532 0130 {i:02d}"
        customer, employee = f"Acme Person {i % 3}", f"EMP-{100000 + i}"
        secrets_ += [email, phone, national, iban.replace(" ", ""), iban, customer, employee]
        time = "not a time" if i % 10 == 9 else f"2026-11-{10 + i % 9}T10:00:00Z"
        values = [f"e{i}", time, "sys", "m1", "ok" if i % 7 else email, "100", "0.01",
                  "success", email, f"call {phone} or {national}", CARD_OK, customer, employee,
                  iban]
        rows.append(",".join(values))
        lines.append(json.dumps(dict(zip(header.split(","), values))))
    rows.append(f'broken,"{CARD_OK} jane.broken@example.com')  # the reader cannot parse it
    secrets_ += ["jane.broken@example.com", CARD_OK, CARD_OK.replace(" ", "")]
    csv = folder / "personal.csv"
    csv.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    jsonl = folder / "personal.jsonl"
    jsonl.write_text("\n".join(lines) + "\n" + '{"event_id": "x", "customer": "Acme Person 7",'
                     ' "input_ref": "jane.json@example.com"\n', encoding="utf-8")
    secrets_ += ["Acme Person 7", "jane.json@example.com"]
    return csv, jsonl, sorted(set(secrets_))


def config_with_rules(folder: Path) -> Path:
    cfg = folder / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, cfg, ignore=shutil.ignore_patterns("users.yaml"))
    text = (cfg / "privacy.yaml").read_text()
    text = text.replace("custom: []", 'custom: [{name: employee-id, pattern: "EMP-[0-9]{6}"}]')
    text = text.replace("hash: []", "hash: [customer]")
    (cfg / "privacy.yaml").write_text(text)
    return cfg


def ingest(address: str, cfg: Path, *files: Path, env: dict | None = None):
    return subprocess.run([sys.executable, "-m", "scorecard.cli", "ingest", *map(str, files),
                           "--db", address, "--config", str(cfg)], capture_output=True,
                          text=True, timeout=600, env={**os.environ, **(env or {})})


def store_files(address: str) -> list[Path]:
    path = Path(address.removeprefix("chdb://"))
    if path.is_dir():
        return [p for p in path.rglob("*") if p.is_file()]
    return [p for p in path.parent.iterdir() if p.name.startswith(path.name)]


@pytest.mark.parametrize("engine", ["duckdb", "chdb"])
def test_no_personal_value_is_left_in_the_store_its_rejects_or_the_output(tmp_path, engine):
    csv, jsonl, personal = personal_file(tmp_path)
    cfg = config_with_rules(tmp_path)
    address = address_for(engine, tmp_path / "store")
    done = ingest(address, cfg, csv, jsonl, env={"SCORECARD_HASH_KEY": "test-key"})
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["rejected"] for r in results] == [9, 9], results  # 8 broken rules + 1 unreadable
    assert all(r["masked"] > 100 for r in results), "it says how many values it masked"
    found = {}
    for path in store_files(address):
        data = path.read_bytes()
        found.update({(value, path.name) for value in personal if value.encode() in data})
    assert not found, f"personal values left in the store's files: {sorted(found)[:5]}"
    assert not [v for v in personal if v in done.stdout + done.stderr]
    with open_store(address, read_only=True) as store:
        stored = store.query_dicts("SELECT * FROM inference_events ORDER BY event_id")
        rejected = store.query_dicts("SELECT reason, raw FROM rejected_rows")
        customers = store.query("SELECT customer, count(*) FROM inference_events GROUP BY 1")
    row = next(r for r in stored if r["event_id"] == "e1")
    assert row["segment"] == "[email]" and row["input_ref"] == "call [phone] or [phone]"
    assert (row["output_ref"], row["team"], row["feature"]) == ("[card]", "[employee-id]",
                                                                "[iban]")
    assert len(customers) == 3 and all(c.startswith("h:") for c, _ in customers), \
        "one keyed hash per customer: slices still group"
    assert any("status '[email]'" in r["reason"] for r in rejected), "reasons masked too"
    assert any('"customer":"h:' in (r["raw"] or "") for r in rejected)
    # the same customer hashes alike in a later load, and differently under another key
    again = ingest(address, cfg, csv, env={"SCORECARD_HASH_KEY": "test-key"})
    assert json.loads(again.stdout)["duplicates"] == 22, "the same rows, hashed alike"


def test_a_card_number_is_masked_only_when_it_passes_the_luhn_check(tmp_path):
    cfg = config_with_rules(tmp_path)
    file = tmp_path / "cards.csv"
    file.write_text("event_id,timestamp,system,model,status,input_ref\n"
                    f"a,2026-11-20T10:00:00Z,s,m,ok,paid with {CARD_OK}\n"
                    f"b,2026-11-20T10:00:00Z,s,m,ok,order {CARD_NOT_LUHN}\n")
    address = str(tmp_path / "store.duckdb")
    done = ingest(address, cfg, file)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["masked"] == 1, "the number that fails the check is no mask"
    with open_store(address, read_only=True) as store:
        refs = dict(store.query("SELECT event_id, input_ref FROM inference_events"))
    assert refs == {"a": "paid with [card]", "b": f"order {CARD_NOT_LUHN}"}


def test_one_personal_value_in_a_large_file_is_masked_and_counted_alone(tmp_path):
    """The rules are applied in the columns where they change a value: the e-mail address in
    the last row of a column of many values (counted value by value) and of one of few values
    (counted per distinct value) are masked, every other value is stored as read."""
    cfg = config_with_rules(tmp_path)
    rows = [f"e{i},2026-11-20T10:00:00Z,s,m,ok,ref-{i},team-{i % 5}" for i in range(20_000)]
    rows[-1] = "e19999,2026-11-20T10:00:00Z,s,m,ok,mail jane@example.com,ops jo@example.com"
    file = tmp_path / "one.csv"
    file.write_text("event_id,timestamp,system,model,status,input_ref,team\n"
                    + "\n".join(rows) + "\n")
    address = str(tmp_path / "store.duckdb")
    done = ingest(address, cfg, file)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["masked"] == 2
    with open_store(address, read_only=True) as store:
        refs = dict(store.query("SELECT event_id, input_ref FROM inference_events"))
        teams = dict(store.query("SELECT team, count(*) FROM inference_events GROUP BY 1"))
    assert refs["e19999"] == "mail [email]" and refs["e0"] == "ref-0"
    assert teams == {"ops [email]": 1, **{f"team-{i}": 4000 - (i == 4) for i in range(5)}}
    assert sum(ref.startswith("ref-") for ref in refs.values()) == 19_999


def test_a_rejected_rows_typed_times_and_measures_are_kept_as_read_and_its_text_masked(tmp_path):
    """A Parquet row breaking a rule is kept with its values as they were: the privacy
    patterns mask its text (an e-mail in the status, a phone number in a reference) but not
    its typed time or measures, which as text look like phone numbers to them."""
    import duckdb
    file = tmp_path / "typed.parquet"
    duckdb.connect().execute(
        "COPY (SELECT * FROM (VALUES ('a', TIMESTAMP '2026-11-01 10:00:00', 's', 'm', "
        "'jane@example.com', 0.824928263090793, 'call 030 1234 5678'), ('b', TIMESTAMP "
        "'2026-11-01 10:00:00', 's', 'm', 'odd', 0.5, 'ref-1')) t(event_id, timestamp, system, "
        f"model, status, confidence, input_ref)) TO '{file}' (FORMAT parquet)")
    address = str(tmp_path / "store.duckdb")
    done = ingest(address, config_with_rules(tmp_path), file)
    assert done.returncode == 0, done.stderr
    with open_store(address, read_only=True) as store:
        raws = [json.loads(raw) for (raw,) in store.query(
            "SELECT raw FROM rejected_rows ORDER BY row_number")]
    assert [r["timestamp"] for r in raws] == ["2026-11-01 10:00:00"] * 2
    assert [r["confidence"] for r in raws] == [0.824928263090793, 0.5]
    assert [r["status"] for r in raws] == ["[email]", "odd"]
    assert [r["input_ref"] for r in raws] == ["call [phone]", "ref-1"]


def test_without_a_key_in_the_environment_a_private_key_file_is_made(tmp_path):
    cfg = config_with_rules(tmp_path)
    csv, _, _ = personal_file(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "SCORECARD_HASH_KEY"}
    done = subprocess.run([sys.executable, "-m", "scorecard.cli", "ingest", str(csv), "--db",
                           str(tmp_path / "s.duckdb"), "--config", str(cfg)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    key = cfg / "privacy.key"
    assert len(key.read_text().strip()) == 64
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.mark.parametrize("rules,sentence", [
    ('custom: [{name: doubled, pattern: "(a)\\\\1"}]',
     "the pattern 'doubled' cannot be used"),
    ("custom: [{name: lookahead, pattern: 'x(?=y)'}]", "the pattern 'lookahead' cannot be used"),
    ("hash: [event_id]", "invalid at hash: 'event_id' is not a free-text column"),
    ("mask: [emails]", "invalid at mask.0"),
    ("key: hunter2", "the hash key is not kept in this file"),
])
def test_bad_privacy_rules_are_one_sentence_and_nothing_is_stored(tmp_path, rules, sentence):
    cfg = config_with_rules(tmp_path)
    (cfg / "privacy.yaml").write_text(rules + "\n")
    csv, _, _ = personal_file(tmp_path)
    address = tmp_path / "store.duckdb"
    done = ingest(str(address), cfg, csv)
    assert done.returncode == 2
    assert sentence in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr and not address.exists()
