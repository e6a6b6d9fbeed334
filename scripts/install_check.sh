#!/usr/bin/env bash
# Installs the package as a user would (`pip install .` into a fresh venv,
# which builds the crate through maturin) and runs the installed command.
# Run by .ci/run after the tests; a few minutes (a release build).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/install-venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet .
exe="$venv/bin/awaitify"
want="awaitify $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
got="$("$exe" --version)"
if [ "$got" != "$want" ]; then
    echo "install check: \`awaitify --version\` says \`$got\`, Cargo.toml says \`$want\`" >&2
    exit 1
fi
# The installed command converts a file (on standard input).
out="$(printf 'import time\n\n\ndef f():\n    time.sleep(1)\n' | "$exe" convert -)"
case "$out" in
*"await asyncio.sleep(1)"*) ;;
*)
    echo "install check: the installed command did not convert:" >&2
    echo "$out" >&2
    exit 1
    ;;
esac
echo "install check: pip install . gives \`$got\`, and it converts" >&2
