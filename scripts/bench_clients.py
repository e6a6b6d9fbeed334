#!/usr/bin/env python3
"""CPU cost of the HTTP clients a conversion opens (issue 14, item 10).

A sync program fans `--calls` module-level `requests.get` calls out over a
thread pool, as sync programs do; requests opens a session per call. The
script converts it with each binary given (`--binary`, repeatable: the first
is the tool of this tree, others e.g. an older build to compare with), runs
the original and each conversion `--runs` times, interleaved, against the
local test server (tests/e2e/server.py), checks that they print the same,
and prints the median user+system CPU seconds of each.

    python3 scripts/bench_clients.py [--calls 60] [--runs 5] [--binary PATH]...

It needs the test venv (`./scripts/test.sh` makes target/test-venv). This is
a benchmark, not a test: figures go to README, nothing here fails on time.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / "target/test-venv/bin/python"

PROGRAM = '''\
import os
from concurrent.futures import ThreadPoolExecutor

import requests

BASE_URL = os.environ["BASE_URL"]


def name(item_id):
    resp = requests.get(f"{{BASE_URL}}/items/{{item_id}}", timeout=5)
    return resp.json()["name"] if resp.ok else None


def names(ids):
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(name, ids))


def main():
    found = names([1 + i % 6 for i in range({calls})])
    print(len(found), sorted(set(map(str, found))))


if __name__ == "__main__":
    main()
'''


def cpu_of(cmd, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=60)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--binary", action="append", default=[])
    args = ap.parse_args()
    binaries = args.binary or [str(ROOT / "target/release/awaitify")]
    if not PY.exists():
        sys.exit(f"{PY} is missing: run ./scripts/test.sh first (it makes the test venv)")
    work = Path(tempfile.mkdtemp(prefix="bench-clients-"))
    original = work / "fanout.py"
    original.write_text(PROGRAM.format(calls=args.calls))
    programs = [("original (requests, threads)", original)]
    for i, b in enumerate(binaries):
        conv = work / f"fanout_{i}.py"
        conv.write_text(original.read_text())
        subprocess.run([b, "convert", str(conv)], check=True, capture_output=True)
        programs.append((f"converted by {b}", conv))
    server = subprocess.Popen([str(PY), str(ROOT / "tests/e2e/server.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        port = server.stdout.readline().strip()
        env = {**os.environ, "BASE_URL": f"http://127.0.0.1:{port}"}
        cpu = {label: [] for label, _ in programs}
        outputs = {}
        for _ in range(args.runs):
            for label, path in programs:
                c, out = cpu_of([str(PY), str(path)], env)
                cpu[label].append(c)
                outputs.setdefault(label, out)
    finally:
        server.stdin.close()
        server.wait()
    print(f"{args.calls} GETs, {args.runs} runs each, median user+sys CPU:")
    base = statistics.median(cpu[programs[0][0]])
    for label, _ in programs:
        m = statistics.median(cpu[label])
        same = "same output" if outputs[label] == outputs[programs[0][0]] else "OUTPUT DIFFERS"
        print(f"  {m:6.3f} s  {m / base:5.2f}x  {label}  ({same})")


if __name__ == "__main__":
    main()
