#!/bin/sh
# Whether this tree prints every number exactly as an earlier commit did:
#   bench/same_numbers.sh REV
# builds the demo store with REV, then runs `scorecard metrics` (three dates, JSON and table)
# and `scorecard trends` (every metric, week and month) with REV and with this tree, and
# compares the outputs byte for byte. Exit 0 when all are the same. DuckDB runs on one thread
# here: on several, sums of floats may add in another order from run to run.
set -eu
rev=${1:?give the commit to compare with}
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$here/.venv/bin/python}
work=$(mktemp -d)
trap 'git -C "$here" worktree remove --force "$work/old" >/dev/null 2>&1; rm -rf "$work"' EXIT
git -C "$here" worktree add --quiet --detach "$work/old" "$rev"
cp -r "$here/config" "$work/config"
sed -i 's/^threads:.*/threads: 1/' "$work/config/store.yaml"
run() {  # run SRC ARGS...: the scorecard command of one tree
    src=$1; shift
    PYTHONPATH=$src "$python" -m scorecard.cli "$@" --config "$work/config"
}
PYTHONPATH=$work/old/src "$python" -c "
from pathlib import Path
from scorecard.demo import ensure_demo_store
ensure_demo_store(Path('$work/demo.duckdb'))" >/dev/null
# this tree reads a copy, upgraded to its own schema and derived tables as `scorecard serve`
# upgrades a store at its start
cp "$work/demo.duckdb" "$work/demo-new.duckdb"
PYTHONPATH=$here/src "$python" -c "
from scorecard.cli import store_to_serve
from scorecard.metrics.thresholds import load_thresholds
store_to_serve('$work/demo-new.duckdb', False, load_thresholds('$work/config/thresholds.yaml'))" \
    >/dev/null
metrics=$(PYTHONPATH=$here/src "$python" -c "
from scorecard.metrics.registry import registry
print(' '.join(registry().ids))")
differ=0
for tree in old new; do
    src=$work/old/src db=$work/demo.duckdb
    [ $tree = new ] && src=$here/src db=$work/demo-new.duckdb
    out=$work/out-$tree; mkdir -p "$out"
    for as_of in 2026-11-22 2026-06-30 2026-03-01; do
        for format in json table; do
            run "$src" metrics --db "$db" --as-of $as_of --format $format \
                > "$out/metrics-$as_of.$format"
        done
    done
    for metric in $metrics; do
        for period in week month; do
            run "$src" trends --db "$db" --metric "$metric" --period $period \
                --format json > "$out/trends-$metric-$period.json"
        done
    done
done
for file in "$work"/out-old/*; do
    name=$(basename "$file")
    if ! cmp -s "$file" "$work/out-new/$name"; then
        echo "differs: $name"
        differ=1
    fi
done
echo "$(ls "$work/out-old" | wc -l) outputs compared with $rev: $([ $differ = 0 ] && echo all the same || echo some differ)"
exit $differ
