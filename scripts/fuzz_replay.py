#!/usr/bin/env python3
"""Replay the failing inputs a fuzz run saved, against a binary.

`scripts/fuzz.py` saves each failing input as `<kind>-<hash>.py` with a
`<kind>-<hash>.txt` beside it (the options on its first line, as JSON).
This runs every saved input again through fuzz.py's own check, with the
saved options, and prints one line per input: `fixed`, or the kind it
fails with now, then the counts.

    python3 scripts/fuzz_replay.py /tmp/fuzz-s7 [/tmp/fuzz-s6 ...] --binary target/release/awaitify

Exit status: 0 when every input passes, 1 otherwise.
"""
import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzz  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+", help="--out folders of fuzz runs")
    ap.add_argument("--binary", default=str(fuzz.ROOT / "target" / "release" / "awaitify"))
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--quiet", action="store_true", help="print only the inputs that still fail")
    args = ap.parse_args()
    pythons = fuzz.python_versions()
    now = Counter()
    for d in args.dirs:
        for py in sorted(Path(d).glob("*.py")):
            meta = json.loads(py.with_suffix(".txt").read_text().splitlines()[0])
            case = {"data": py.read_bytes(), "options": meta["options"]}
            kind, msg = fuzz.check(case, args.binary, args.timeout, pythons)
            now[kind or "fixed"] += 1
            if kind or not args.quiet:
                first = msg.splitlines()[0] if kind and msg else ""
                print(f"{py}: {kind or 'fixed'} {first}".rstrip())
    print(" ".join(f"{k}={v}" for k, v in sorted(now.items())))
    return 0 if set(now) <= {"fixed"} else 1


if __name__ == "__main__":
    sys.exit(main())
