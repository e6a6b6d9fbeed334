#!/usr/bin/env bash
# Runs the hooks of .pre-commit-hooks.yaml as a user's pre-commit would
# (`pre-commit try-repo`, which builds the package in pre-commit's own
# environment: several minutes, so not part of CI). pre-commit is installed
# into target/precommit-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
venv=target/precommit-venv
[ -x "$venv/bin/pre-commit" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet pre-commit; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q
printf 'import time\n\n\ndef f():\n    time.sleep(1)\n' > a.py
git add a.py
# A file that would change: the check hook fails (exit 1) and says why.
if out="$("$repo/$venv/bin/pre-commit" try-repo "$repo" awaitify-convert-check --files a.py 2>&1)"; then
    echo "precommit check: awaitify-convert-check passed on a file that would change" >&2; echo "$out" >&2; exit 1
fi
grep -q "1 file would be converted" <<<"$out" || { echo "$out" >&2; exit 1; }
# The in-place hook converts it.
"$repo/$venv/bin/pre-commit" try-repo "$repo" awaitify-convert --files a.py >/dev/null 2>&1 || true
grep -q "await asyncio.sleep(1)" a.py || { echo "precommit check: awaitify-convert did not convert" >&2; exit 1; }
git add a.py
"$repo/$venv/bin/pre-commit" try-repo "$repo" awaitify-convert-check --files a.py >/dev/null
"$repo/$venv/bin/pre-commit" try-repo "$repo" awaitify-check --files a.py >/dev/null
echo "precommit check: the three hooks behave" >&2
