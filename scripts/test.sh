#!/usr/bin/env bash
# Runs every check the project has: formatting, lints, and all tests.
# Works on a fresh clone; needs cargo (with rustfmt and clippy) and python3.
set -euo pipefail

cd "$(dirname "$0")/.."

# A private Python for tests that run Python code (e.g. to execute converted
# output). Created once; extra packages come from tests/requirements.txt.
venv=target/test-venv
if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv" >&2
    mkdir -p target
    python3 -m venv "$venv"
fi
if [ -f tests/requirements.txt ]; then
    stamp="$venv/.requirements.stamp"
    if [ ! -f "$stamp" ] || ! cmp -s tests/requirements.txt "$stamp"; then
        "$venv/bin/python" -m pip install --quiet -r tests/requirements.txt
        cp tests/requirements.txt "$stamp"
    fi
fi
AWAITIFY_PYTHON="$PWD/$venv/bin/python"
export AWAITIFY_PYTHON

echo "== cargo fmt --check" >&2
cargo fmt --check
echo "== cargo clippy --all-targets -- -D warnings" >&2
cargo clippy --all-targets -- -D warnings
echo "== cargo test --release" >&2
cargo test --release
