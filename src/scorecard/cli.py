"""The `scorecard` command line (SPEC section 4). Every error is one sentence on stderr."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from .cli_users import add_parsers as add_user_parsers
from .errors import ScorecardError
from .settings import PROJECT_ROOT, config_dir, engine_settings, read_yaml, store_address

EXIT_BAD_INPUT = 2
NO_REASON = "no reason given (scorecard ingest --undo without --reason)"


def _store(args, read_only: bool = False):
    from .store.engines import open_store

    return open_store(store_address(args.db), read_only=read_only,
                      settings=engine_settings(config_dir(getattr(args, "config", None))))


def cmd_ingest(args) -> int:
    from .service import Loading, load, take_back
    from .store.formats import ImportOptions
    from .store.ingest import whoami
    from .store.mapping import load_map

    if bool(args.files) == bool(args.undo):
        raise ScorecardError("Give either files to load or --undo INGEST_ID, not both or neither.")
    # everything the ingest needs is read before anything is stored
    cmap = load_map(args.map)
    options = ImportOptions(unit=args.unit, outcome_from=args.outcome_from,
                            pass_at=args.pass_at,
                            scores=Path(args.scores) if args.scores else None)
    if options.scores and not options.scores.is_file():
        raise ScorecardError(f"{options.scores} does not exist or is not a file.")
    loading = Loading.from_config(config_dir(args.config))
    failed = False
    with _store(args) as store:
        if args.undo:
            undone = take_back(store, args.undo, loading, actor=whoami(), via="cli",
                               reason=(args.reason or "").strip() or NO_REASON)
            print(json.dumps(undone.public()), flush=True)
            return 0
        for file in args.files:
            try:
                result = load(store, file, loading, kind=args.kind, cmap=cmap, via="cli",
                              source_format=args.source_format, import_options=options)
            except ScorecardError as exc:
                print(str(exc), file=sys.stderr)
                failed = True
                continue
            print(json.dumps({**result.public(), "ingest_id": result.ingest_id}), flush=True)
            if result.said:  # an export's import: what it read and what was used
                print(result.said, file=sys.stderr, flush=True)
    return EXIT_BAD_INPUT if failed else 0


def cmd_sample(args) -> int:
    from .demo import write_sample

    for path in write_sample(Path(args.out)):
        print(path)
    return 0


def cmd_link(args) -> int:
    from .store.in_place import InPlaceMap, link

    in_place = InPlaceMap.load(Path(args.map))  # read and checked before the store is opened
    with _store(args) as store:
        linked = link(store, in_place)
    print(json.dumps({"source_rows": linked.source_rows, "scored": linked.source_rows
                      - linked.breaking_rules, "breaking_rules": linked.breaking_rules}))
    if linked.breaking_rules:
        print(f"{linked.breaking_rules:,} of {linked.source_rows:,} rows break a contract rule "
              "and are not scored; they stay in the source as they are.", file=sys.stderr)
    return 0


def cmd_metrics(args) -> int:
    from .metrics.report import metrics_report, render_table

    if args.by is not None or args.system is not None:
        return _sliced_metrics(args)
    with _store(args, read_only=True) as store:
        report = metrics_report(store, as_of=args.as_of, window_days=args.window_days,
                                baseline_days=args.baseline_days,
                                thresholds_path=args.thresholds, cfg_dir=config_dir(args.config))
    print(json.dumps(report, default=str) if args.format == "json" else render_table(report))
    return 0


def _sliced_metrics(args) -> int:
    from .metrics.report import render_slices_table, slices_report
    from .metrics.slices import check_dimension

    if args.by is None:
        raise ScorecardError("--system goes with --by DIM (metrics per slice of one system).")
    check_dimension(args.by)  # before the store is opened
    with _store(args, read_only=True) as store:
        report = slices_report(store, dimension=args.by, system=args.system, as_of=args.as_of,
                               window_days=args.window_days, thresholds_path=args.thresholds,
                               cfg_dir=config_dir(args.config))
    print(json.dumps(report, default=str) if args.format == "json"
          else render_slices_table(report))
    return 0


def cmd_compare(args) -> int:
    from .metrics.report import compare_report, render_compare_table

    with _store(args, read_only=True) as store:
        report = compare_report(store, system=args.system, dimension=args.by, a=args.a,
                                b=args.b, since=args.since, until=args.until,
                                as_of=args.as_of, window_days=args.window_days,
                                thresholds_path=args.thresholds, cfg_dir=config_dir(args.config))
    print(json.dumps(report, default=str) if args.format == "json"
          else render_compare_table(report))
    return 0


def cmd_trends(args) -> int:
    from .metrics.report import render_trend_table, trend_report

    with _store(args, read_only=True) as store:
        series = trend_report(store, metric=args.metric, period=args.period, system=args.system,
                              thresholds_path=args.thresholds, cfg_dir=config_dir(args.config))
    print(json.dumps(series, default=str) if args.format == "json"
          else render_trend_table(args.metric, series))
    return 0


def cmd_alerts(args) -> int:
    from .metrics.budgets import evaluate
    from .metrics.report import render_alerts_table, thresholds_file
    from .metrics.thresholds import thresholds_for
    from .notify import notify

    now = _timestamp(args.now) if args.now else None
    cfg = config_dir(args.config)
    with _store(args, read_only=True) as store:
        report = evaluate(store, thresholds_for(store, thresholds_file(args.thresholds, cfg)),
                          now)
    data = report.as_json()
    print(json.dumps(data) if args.format == "json" else render_alerts_table(data))
    if args.notify:
        for problem in notify(report, Path(args.notify)):
            print(problem, file=sys.stderr)
    return 0


def cmd_report(args) -> int:
    from .board.service import write_report
    from .metrics.report import thresholds_file
    from .metrics.thresholds import thresholds_for

    cfg = config_dir(args.config)
    with _store(args, read_only=True) as store:
        thresholds = thresholds_for(store, thresholds_file(args.thresholds, cfg))
        written = write_report(store, thresholds, Path(args.out), as_of=args.as_of,
                               system=args.system)
    print(written)
    return 0


def cmd_evidence(args) -> int:
    from .board.evidence import write_pack
    from .store.retention import configured_days
    from .metrics.report import thresholds_file
    from .metrics.thresholds import thresholds_for

    cfg = config_dir(args.config)
    with _store(args, read_only=True) as store:
        thresholds = thresholds_for(store, thresholds_file(args.thresholds, cfg))
        index = write_pack(store, thresholds, Path(args.out), configured_days(
            read_yaml(cfg / "store.yaml", "store settings file")))
    print(index)
    return 0


def cmd_retention(args) -> int:
    from .service import Loading, keep_to_retention
    from .store.ingest import whoami
    from .store.retention import check_days, configured_days

    cfg = config_dir(args.config)
    days = args.keep_days if args.keep_days is not None else configured_days(
        read_yaml(cfg / "store.yaml", "store settings file"))
    check_days(days, args.force)  # before the store is opened
    loading = Loading.from_config(cfg)
    with _store(args, read_only=args.dry_run) as store:
        run = keep_to_retention(store, loading, days, actor=whoami(), via="cli",
                                dry_run=args.dry_run)
    print(json.dumps(run.public()))
    return 0


def _opener(address: str, cfg: Path):
    """Opens the store at `address` for a while (read_only -> a context manager)."""
    from contextlib import contextmanager

    from .store.engines import open_store

    @contextmanager
    def opened(read_only: bool):
        with open_store(address, read_only=read_only, settings=engine_settings(cfg)) as store:
            yield store

    return opened


def cmd_digest(args) -> int:
    from .digests.run import run_due

    cfg = config_dir(args.config)
    result = run_due(_opener(store_address(args.db), cfg), cfg,
                     _timestamp(args.now) if args.now else None, args.dry_run)
    print(json.dumps(result, default=str))
    failed = [d["problem"] for d in result["digests"] if d.get("problem")]
    for problem in failed:
        print(problem, file=sys.stderr)
    return 1 if failed else 0


def _timestamp(text: str):
    """An ISO 8601 time as naive UTC (the store's time)."""
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ScorecardError(f"'{text}' is not a time; use ISO 8601, such as "
                             "2026-11-22T14:30:00Z.") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def store_to_serve(db: str | None, demo: bool, thresholds=None) -> str:
    """The store `scorecard serve` opens, as an address the app can open from any folder. The
    demo is built only at the project's own demo stores or when asked for with --demo; any
    other store is opened (created empty if new) as it is."""
    from .demo import ensure_demo_store, is_own_demo_store
    from .metrics import rollups, snapshot
    from .metrics.thresholds import store_layer, with_store_layer
    from .store.engines import absolute, open_store, writable

    address = absolute(store_address(db))
    if demo or is_own_demo_store(address):
        ensure_demo_store(address)
    if writable(address):
        # a new store gets its tables; one written by an older version its daily rollups
        # (the app only reads them, and answers from the events while they are behind)
        with open_store(address) as store:
            in_force = None if thresholds is None else with_store_layer(thresholds,
                                                                         store_layer(store))
            if rollups.bring_up_to_date(store, in_force):
                print("Brought the daily rollups up to date.", flush=True)
            if in_force is not None and snapshot.keep(store, in_force):
                print("Prepared the newest scorecard for the first sign-in.", flush=True)
    return address


def cmd_serve(args) -> int:
    from .metrics.thresholds import load_thresholds
    from .sessions import forwarded_allow_ips, load_policy

    env = dict(os.environ)
    env["SCORECARD_CONFIG"] = str(config_dir(args.config))
    try:  # only the baseline pins matter here; the app says what is wrong with the file
        thresholds = load_thresholds(config_dir(args.config) / "thresholds.yaml")
    except ScorecardError as exc:
        print(f"Warning: {exc}", file=sys.stderr, flush=True)
        thresholds = None
    env["SCORECARD_DB"] = store_to_serve(args.db, args.demo, thresholds)
    env["FORWARDED_ALLOW_IPS"] = forwarded_allow_ips(load_policy(config_dir(args.config)))
    if args.digests:
        from .digests.run import run_in_background

        run_in_background(_opener(env["SCORECARD_DB"], config_dir(args.config)),
                          config_dir(args.config), every_seconds=args.digests_every,
                          report=lambda line: print(line, flush=True))
        print(f"Sending due digests every {args.digests_every:g} seconds "
              f"(config/digests.yaml).", flush=True)
    app = PROJECT_ROOT / "app" / "streamlit_app.py"
    if not app.exists():
        raise ScorecardError(f"The web app is missing at {app}; reinstall scorecard from source.")
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port),
           "--server.address", args.address, "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "none",
           # a table's own CSV export and copy would hand a spreadsheet raw formulas typed into
           # the data; the app's download buttons write neutralised CSV instead
           "--client.disableDataExport", "true"]
    # secrets (company sign-in's [auth] section): Streamlit's usual places, then the config
    # directory's secrets.toml, which wins
    for secrets_file in (Path.home() / ".streamlit", PROJECT_ROOT / ".streamlit",
                         config_dir(args.config)):
        cmd += ["--secrets.files", str(secrets_file / "secrets.toml")]
    reach = ("this machine only; --address 0.0.0.0 serves every interface"
             if args.address in ("127.0.0.1", "localhost", "::1") else "as --address says")
    print(f"Serving the scorecard at http://{args.address}:{args.port} ({reach}).", flush=True)
    return subprocess.call(cmd, env=env, cwd=PROJECT_ROOT)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scorecard",
                                     description="Executive scorecard for AI systems in production.")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_store(p):
        p.add_argument("--db", help="store: a DuckDB file, chdb://DIR or "
                       "clickhouse://USER@HOST:PORT/DATABASE (default $SCORECARD_DB, then the "
                       "embedded store)")
        p.add_argument("--config", help="config directory (default $SCORECARD_CONFIG, then config/)")

    p = sub.add_parser("ingest", help="load log extracts into the store, or take one back")
    p.add_argument("files", nargs="*", metavar="FILE")
    with_store(p)
    p.add_argument("--kind", choices=["events", "incidents"], default="events")
    p.add_argument("--map", help="map file: columns, constants and values")
    p.add_argument("--undo", metavar="INGEST_ID",
                   help="remove exactly the rows an earlier ingest stored (its id, or 8+ "
                        "characters of it)")
    p.add_argument("--reason", help="with --undo: why, kept in the audit log (recommended)")
    p.add_argument("--format", dest="source_format", default="auto",
                   choices=["auto", "contract", "otlp", "langfuse", "phoenix"],
                   help="what the files are (default: decided from their content): the "
                        "contract's columns, or an export of OpenTelemetry (OTLP/JSON), "
                        "Langfuse or Phoenix")
    p.add_argument("--scores", metavar="FILE",
                   help="the evaluations beside an export: an OTLP/JSON logs file, Langfuse "
                        "scores, or Phoenix annotations")
    p.add_argument("--outcome-from", metavar="NAME",
                   help="the evaluation or score that gives the outcome (default: the only one)")
    p.add_argument("--pass-at", type=float, metavar="SCORE",
                   help="a score at or above this is a success, when no pass/fail label says")
    p.add_argument("--unit", choices=["call", "trace"], default="call",
                   help="one event per model call (default) or per trace, for agents")
    p.set_defaults(func=cmd_ingest)

    for name, func, helptext in (("metrics", cmd_metrics, "the leadership metrics"),
                                 ("trends", cmd_trends, "one metric per period")):
        p = sub.add_parser(name, help=helptext)
        with_store(p)
        p.add_argument("--thresholds", help="thresholds file (default config/thresholds.yaml)")
        p.add_argument("--format", choices=["json", "table"], default="table")
        p.set_defaults(func=func)
        if name == "metrics":
            p.add_argument("--as-of", help="YYYY-MM-DD (default: the newest event's date)")
            p.add_argument("--window-days", type=int, default=7)
            p.add_argument("--baseline-days", type=int, default=28)
            p.add_argument("--by", metavar="DIM", help="one row per value of segment, model, "
                           "release, team, feature or customer within each system")
            p.add_argument("--system", help="with --by: one system only")
        else:
            p.add_argument("--metric", required=True)
            p.add_argument("--period", choices=["day", "week", "month"], default="week")
            p.add_argument("--system")

    p = sub.add_parser("compare", help="one release or model of a system against another")
    with_store(p)
    p.add_argument("a", metavar="A", help="the release (or model) compared against")
    p.add_argument("b", metavar="B", help="the release (or model) judged")
    p.add_argument("--system", required=True)
    p.add_argument("--by", required=True, metavar="release|model")
    p.add_argument("--since", help="YYYY-MM-DD: the first day compared (default: the window)")
    p.add_argument("--until", help="YYYY-MM-DD: the last day compared (default: the window's)")
    p.add_argument("--as-of", help="YYYY-MM-DD (default: the newest event's date)")
    p.add_argument("--window-days", type=int, default=7)
    p.add_argument("--thresholds", help="thresholds file (default config/thresholds.yaml)")
    p.add_argument("--format", choices=["json", "table"], default="table")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("alerts", help="error budgets, burn rates and firing burn-rate alerts")
    with_store(p)
    p.add_argument("--now", help="ISO 8601 time to evaluate at (default: the newest event's)")
    p.add_argument("--thresholds", help="thresholds file (default config/thresholds.yaml)")
    p.add_argument("--format", choices=["json", "table"], default="table")
    p.add_argument("--notify", metavar="CONFIG",
                   help="alerts.yaml: send firing and resolved alerts to its webhooks")
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("report", help="the one-page board report, as PDF or HTML")
    with_store(p)
    p.add_argument("--out", required=True, help="FILE.pdf or FILE.html")
    p.add_argument("--as-of", help="YYYY-MM-DD (default: the newest event's date)")
    p.add_argument("--system", help="one system (default: all systems)")
    p.add_argument("--thresholds", help="thresholds file (default config/thresholds.yaml)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("evidence", help="the governance evidence pack, into a folder")
    with_store(p)
    p.add_argument("--out", required=True, help="a folder (created if needed)")
    p.add_argument("--thresholds", help="thresholds file (default config/thresholds.yaml)")
    p.set_defaults(func=cmd_evidence)

    p = sub.add_parser("digest", help="send the scheduled digests that are due (e-mail, "
                       "Slack or webhook), once per period")
    with_store(p)
    p.add_argument("--now", help="ISO 8601 time to run as of (default: the clock)")
    p.add_argument("--dry-run", action="store_true",
                   help="say what would be sent; send and record nothing")
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("retention", help="remove events, rejects and logs older than the "
                       "retention (config/store.yaml, default 400 days)")
    with_store(p)
    p.add_argument("--keep-days", type=int, metavar="N",
                   help="days to keep (default: retention_days in store.yaml)")
    p.add_argument("--dry-run", action="store_true", help="count what would go; remove nothing")
    p.add_argument("--force", action="store_true",
                   help="allow a retention below six months (183 days)")
    p.set_defaults(func=cmd_retention)

    p = sub.add_parser("link", help="score events where they already live: another tool's "
                       "ClickHouse table, read in place through a column map")
    p.add_argument("map", help="the in-place map (YAML: source, where, columns)")
    p.add_argument("--db", required=True, help="a chdb:// or clickhouse:// store")
    p.set_defaults(func=cmd_link)

    p = sub.add_parser("sample", help="write the demo extracts")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_sample)

    add_user_parsers(sub)

    p = sub.add_parser("serve", help="start the web app")
    p.add_argument("--db")
    p.add_argument("--config")
    p.add_argument("--demo", action="store_true",
                   help="fill the store with the demo data if it does not exist yet")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1",
                   help="interface to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--digests", action="store_true",
                   help="also send the scheduled digests when due (config/digests.yaml)")
    p.add_argument("--digests-every", type=float, default=300, metavar="SECONDS",
                   help="with --digests: how often to look for due digests (default 300)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    umask = os.umask(0o077)  # what the command (and the server it starts) writes is private
    try:
        return args.func(args)
    except ScorecardError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: one sentence, never a traceback
        print(f"scorecard failed unexpectedly ({type(exc).__name__}: {exc}).", file=sys.stderr)
        return 1
    finally:
        os.umask(umask)


if __name__ == "__main__":
    sys.exit(main())
