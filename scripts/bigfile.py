#!/usr/bin/env python3
"""Writes big generated sync Python files, for benchmarking the tool on one
large file (issue "Big files are quadratic").

    python3 scripts/bigfile.py OUT_DIR [SIZE...]

SIZE is a byte count with an optional K or M suffix (default: 128K 512K 1M
4M 20M); each file is `OUT_DIR/big_<SIZE>.py`, built from the same repeated
unit until it reaches the size. A unit is realistic sync code: a class whose
methods call each other, `time.sleep`, `requests` calls on a session and at
module level, `with open(...)`, comments and blank lines; and the shape that
costs the most: every unit's entry function calls the previous unit's, so
one long call chain runs through the whole file and the colouring turns it
async from end to end. The output is deterministic (no randomness), valid
Python, and runs (`python3 big_128K.py` does not: it would sleep and make
requests; it is meant to be converted, not run).
"""

import os
import sys

HEADER = '''"""A generated module for benchmarking awaitify on big files."""

import json
import time

import requests

SESSION = None
'''

UNIT = '''

# ---- unit {i}: a worker with a cache, a fetch and a report ----


class Worker{i}:
    """Holds the state of worker {i}."""

    def __init__(self, base, retries=3):
        self.base = base  # where it fetches from
        self.retries = retries
        self.cache = {{}}

    def wait(self, attempt):
        # back off a little more each time
        time.sleep(0.01 * attempt)

    def fetch(self, key):
        for attempt in range(self.retries):
            r = requests.get(f"{{self.base}}/items/{{key}}", timeout=5)
            if r.status_code == 200:
                self.cache[key] = r.json()
                return self.cache[key]
            self.wait(attempt)
        return None

    def save(self, path, key):
        data = self.fetch(key)
        with open(path, "w") as f:
            f.write(json.dumps(data))
        return data is not None


def load_{i}(path):
    with open(path) as f:
        return json.loads(f.read())


def step_{i}(base, path, key):
    """Step {i} of the chain: runs step {prev} first."""
    {call_prev}
    w = Worker{i}(base)
    ok = w.save(path, key)
    if not ok:
        time.sleep(0.1)
    return load_{i}(path) if ok else None
'''

FOOTER = '''

def main():
    step_{last}("http://127.0.0.1:1", "/tmp/awaitify-bench.json", "k")


if __name__ == "__main__":
    main()
'''


def parse_size(s):
    mult = {"K": 1024, "M": 1024 * 1024}.get(s[-1].upper(), 1)
    return int(s[:-1] if mult > 1 else s) * mult


def generate(size):
    parts = [HEADER]
    total = len(HEADER)
    i = 0
    while total < size:
        call_prev = f"step_{i - 1}(base, path, key)" if i else "pass"
        unit = UNIT.format(i=i, prev=i - 1, call_prev=call_prev)
        parts.append(unit)
        total += len(unit)
        i += 1
    parts.append(FOOTER.format(last=i - 1))
    return "".join(parts), i


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    sizes = sys.argv[2:] or ["128K", "512K", "1M", "4M", "20M"]
    os.makedirs(out, exist_ok=True)
    for s in sizes:
        text, units = generate(parse_size(s))
        path = os.path.join(out, f"big_{s}.py")
        with open(path, "w") as f:
            f.write(text)
        print(f"{path}: {len(text)} bytes, {units} units, {text.count(chr(10))} lines")


if __name__ == "__main__":
    main()
