#!/usr/bin/env bash
# Compares a full `convert --check` run with parsing alone, on a copy of the
# CPython standard library. Prints the median wall time of 5 runs of each.
#
# BASELINE=<binary> also times that binary (an older build, e.g. the last one
# on rustpython-parser), runs of the two interleaved ("before and after,
# paired in one run"), and prints both lines. PYLIB=<dir> picks another
# standard library (default: the local python3's).
#
# Both commands exit non-zero on the stdlib (a few files do not parse with
# rustpython-parser, and some would change); the exit codes are ignored.
set -euo pipefail

cd "$(dirname "$0")/.."
runs=${RUNS:-5}

cargo build --release --quiet
bin=target/release/awaitify

stdlib=${PYLIB:-$(python3 -c "import sysconfig; print(sysconfig.get_paths()['stdlib'])")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Copy once, so the tool never touches the real stdlib and both commands
# read the same files. site-packages is skipped by the walker anyway.
cp -r "$stdlib" "$work/stdlib"
dir="$work/stdlib"
nfiles=$(find "$dir" -name '*.py' -not -path '*/site-packages/*' | wc -l)
echo "stdlib: $stdlib ($nfiles .py files), $runs runs each, $(nproc) cores" >&2

# time_runs CMD... : prints the wall time of each of $runs runs, one a line.
time_runs() {
    for _ in $(seq "$runs"); do
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s.%N)
        echo "$start $end" | awk '{ printf "%.6f\n", $2 - $1 }'
    done
}

median() {
    sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.6f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# One untimed warm-up so both start with the files in the page cache.
"$bin" parse-only "$dir" >/dev/null 2>&1 || true

# time_pair CMD...: $runs runs of CMD with this build and (with BASELINE) the
# baseline, interleaved; prints "this baseline" seconds, one pair a line.
time_pair() {
    for _ in $(seq "$runs"); do
        a=$(runs=1 time_runs "$bin" "$@")
        b=""
        if [ -n "${BASELINE:-}" ]; then b=$(runs=1 time_runs "$BASELINE" "$@"); fi
        echo "$a $b"
    done
}

report() { # label parse-pairs check-pairs column
    parse=$(echo "$2" | awk -v c="$4" '{ print $c }' | median)
    check=$(echo "$3" | awk -v c="$4" '{ print $c }' | median)
    ratio=$(awk -v p="$parse" -v c="$check" 'BEGIN { printf "%.2f", c / p }')
    printf '%s: parse-only median %.3f s, convert --check median %.3f s, ratio %s\n' "$1" "$parse" "$check" "$ratio"
}

parse_pairs=$(time_pair parse-only "$dir")
check_pairs=$(time_pair convert --check "$dir")
report "$bin" "$parse_pairs" "$check_pairs" 1
if [ -n "${BASELINE:-}" ]; then
    report "$BASELINE (baseline)" "$parse_pairs" "$check_pairs" 2
fi
