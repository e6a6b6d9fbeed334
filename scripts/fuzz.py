#!/usr/bin/env python3
"""Mutation fuzz of `awaitify convert`.

Inputs are mutated copies of the convert fixtures (tests/fixtures/**.py, but py313/) and
of a sample of the local CPython standard library. Each input is converted
with the release binary (through standard input, with one of a few option
sets) and checked for:

* panic       - the binary crashed (a panic message, or a signal);
* hang        - no answer within --timeout seconds;
* internal    - an internal error on an input CPython compiles;
* noncompile  - the output does not compile although the input does
                (CPython's compile(); with --target-version py39 / py310
                also the matching interpreter when it is installed);
* idempotence - a second run over the output changes it again;
* comments    - a comment token of the input is missing from the output.

Every input is derived from (--seed, its number) alone, so a run with the
same seed, corpus and --inputs checks the same inputs whatever --jobs is.
Failing inputs are saved under --out (one .py and one .txt with the
options and the message each). Exit status: 0 no failure, 1 failures.

    python3 scripts/fuzz.py --minutes 20 --seed 1
    python3 scripts/fuzz.py --inputs 200 --seed 7 --jobs 2
"""

import argparse
import concurrent.futures
import hashlib
import io
import json
import os
import random
import re
import subprocess
import sys
import sysconfig
import time
import tokenize
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

OPTION_SETS = [
    [],
    [],
    ["--http", "aiohttp"],
    ["--runtime", "trio"],
    ["--runtime", "anyio"],
    ["--target-version", "py39"],
    ["--target-version", "py310"],
]

# Statements a mutation inserts (with the imports they need).
SNIPPETS = [
    "time.sleep(1)",
    "time.sleep(0.1); x = 1",
    "r = requests.get(u)",
    "requests.get(u).raise_for_status()",
    "data = open(p).read()",
    "open(p, 'w').write(s)",
    "time.sleep(float(open(p).read()))",
    "ys = [[time.sleep(y) for y in x] for x in xs]",
    "ys = [time.sleep(x) for x in xs]",
    "ys = {k: [time.sleep(v) for v in k] for k in xs}",
    "helper()",
    "return helper()",
    "await asyncio.wait_for(aw, 1)",
    "x = await asyncio.wait_for(aw, 1)",
    "'''doc-like'''",
    "\"doc-like\"",
    "pass  # a comment",
]

HELPER = "\n\ndef helper():\n    time.sleep(1)\n    return 1\n"
IMPORTS = ["import time", "import requests", "import asyncio", "from time import sleep"]

WRAPPERS = [
    "def fz_{n}(u, p, s, xs, aw):",
    "async def fz_{n}(u, p, s, xs, aw):",
    "class Fz{n}:",
    "with ctx() as c{n}:",
    "for i{n} in range(2):",
    "try:",
    "if __name__ == '__main__':",
]


def python_versions():
    """Interpreters for --target-version checks (when installed)."""
    out = {}
    base = Path("/root/.pyenv/versions")
    for tag, minor in (("py39", "3.9"), ("py310", "3.10")):
        found = sorted(base.glob(f"{minor}.*/bin/python{minor}")) if base.is_dir() else []
        if found:
            out[tag] = str(found[-1])
    return out


def corpus(sample, seed):
    # tests/fixtures/py313/ holds 3.12-3.13 syntax, which the CPython this
    # script judges outputs with (3.11 in the test venv) cannot compile.
    files = sorted(p for p in (ROOT / "tests" / "fixtures").rglob("*.py") if "py313" not in p.parts)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    lib = sorted(
        p
        for p in stdlib.rglob("*.py")
        if "site-packages" not in p.parts and "test" not in p.parts and p.stat().st_size < 40_000
    )
    rng = random.Random(f"corpus:{seed}")
    picked = rng.sample(lib, min(sample, len(lib)))
    texts = []
    for p in files + sorted(picked):
        try:
            texts.append((str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p), p.read_bytes()))
        except OSError:
            pass
    return texts


def indent_of(line):
    return line[: len(line) - len(line.lstrip(" \t\f"))]


def statement_lines(lines):
    """Indices of lines that start a statement (a cheap guess: previous line
    complete, not in a string), by tokenizing."""
    text = "".join(lines)
    starts = set()
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    first = True
    for t in toks:
        if t.type in (tokenize.NEWLINE, tokenize.NL):
            first = t.type == tokenize.NEWLINE or first
            continue
        if t.type in (tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENCODING):
            continue
        if first:
            starts.add(t.start[0] - 1)
            first = False
    return sorted(s for s in starts if s < len(lines))


def mutate(text, rng):
    lines = text.splitlines(keepends=True)
    if not lines:
        lines = ["\n"]
    kinds = [
        "dup", "del", "swap", "indent", "tabs", "formfeed", "backslash", "crlf", "cr", "join",
        "insert", "insert", "insert", "wrap", "wrap", "comp", "bytes",
    ]
    done = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(kinds)
        done.append(kind)
        if not lines:
            lines = ["\n"]
        n = len(lines)
        i = rng.randrange(n)
        stmts = statement_lines(lines)
        if kind == "dup":
            lines.insert(i, lines[i])
        elif kind == "del" and n > 1:
            del lines[i]
        elif kind == "swap" and n > 1:
            j = min(i + 1, n - 1)
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "indent":
            if rng.random() < 0.5:
                lines[i] = " " * rng.randint(1, 4) + lines[i]
            else:
                lines[i] = lines[i][rng.randint(1, 4):] if lines[i].startswith(" ") else lines[i]
        elif kind == "tabs":
            # The indentation of one def's body in tabs.
            defs = [k for k, l in enumerate(lines) if l.lstrip().startswith(("def ", "async def "))]
            if defs:
                k = rng.choice(defs)
                head = indent_of(lines[k])
                for m in range(k + 1, n):
                    ind = indent_of(lines[m])
                    if lines[m].strip() and len(ind) <= len(head):
                        break
                    if ind.startswith(head + "    "):
                        lines[m] = head + "\t" + lines[m][len(head) + 4:]
        elif kind == "formfeed":
            if stmts:
                k = rng.choice(stmts)
                lines[k] = "\f" + lines[k] if rng.random() < 0.5 else indent_of(lines[k]) + "\f" + lines[k].lstrip(" \t")
        elif kind == "backslash":
            if stmts:
                k = rng.choice(stmts)
                ind = indent_of(lines[k])
                lines[k] = ind + "\\\n" + lines[k]
        elif kind == "crlf":
            lines = [l[:-1] + "\r\n" if l.endswith("\n") and not l.endswith("\r\n") else l for l in lines]
        elif kind == "cr":
            lines = [l.replace("\r\n", "\n").replace("\n", "\r") for l in lines]
        elif kind == "join":
            if len(stmts) > 1:
                k = rng.randrange(len(stmts) - 1)
                a, b = stmts[k], stmts[k + 1]
                if b == a + 1 and indent_of(lines[a]) == indent_of(lines[b]) and not lines[a].rstrip().endswith(":"):
                    lines[a] = lines[a].rstrip("\r\n") + "; " + lines[b].lstrip(" \t")
                    del lines[b]
        elif kind == "insert":
            k = rng.choice(stmts) if stmts else 0
            ind = indent_of(lines[k]) if k < n else ""
            snippet = rng.choice(SNIPPETS)
            lines.insert(k, ind + snippet + "\n")
        elif kind == "wrap":
            if stmts:
                k = rng.choice(stmts)
                ind = indent_of(lines[k])
                # The run of lines at least this indented.
                end = k + 1
                while end < n and (not lines[end].strip() or indent_of(lines[end]).startswith(ind) and len(indent_of(lines[end])) >= len(ind)):
                    if lines[end].strip() and len(indent_of(lines[end])) == len(ind) and rng.random() < 0.3:
                        break
                    end += 1
                head = rng.choice(WRAPPERS).format(n=rng.randrange(100))
                unit = "\t" if "\t" in ind else "    "
                body = [unit + l if l.strip() else l for l in lines[k:end]]
                tail = []
                if head == "try:":
                    tail = [ind + "finally:\n", ind + unit + "pass\n"]
                lines[k:end] = [ind + head + "\n"] + [ind + l[len(ind):] if l.startswith(ind) else l for l in body] + tail
        elif kind == "comp":
            k = rng.choice(stmts) if stmts else 0
            ind = indent_of(lines[k]) if k < n else ""
            lines.insert(k, ind + "zs = [[helper() for y in x] for x in xs]\n")
        elif kind == "bytes":
            b = bytearray("".join(lines).encode("utf-8", "surrogateescape"))
            for _ in range(rng.randint(1, 3)):
                if not b:
                    break
                at = rng.randrange(len(b))
                op = rng.random()
                if op < 0.4:
                    b.insert(at, rng.choice(b"()[]{}:;,\\\n\t #'\"x0"))
                elif op < 0.8:
                    del b[at]
                else:
                    b[at] = rng.randrange(32, 127)
            lines = b.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    out = "".join(lines)
    # The names the snippets use resolve (most of the time).
    if rng.random() < 0.8:
        head = "\n".join(rng.sample(IMPORTS, rng.randint(1, len(IMPORTS)))) + "\n"
        out = head + out
    if rng.random() < 0.5:
        out = out + HELPER
    return out, done


def make_input(i, seed, texts):
    rng = random.Random(f"{seed}:{i}")
    name, raw = texts[rng.randrange(len(texts))]
    text = raw.decode("utf-8", "surrogateescape")
    text, kinds = mutate(text, rng)
    data = text.encode("utf-8", "surrogateescape")
    opts = rng.choice(OPTION_SETS)
    return {"n": i, "base": name, "mutations": kinds, "options": opts, "data": data}


def compiles(data, python=None):
    if python is None:
        try:
            compile(data, "fuzz", "exec", dont_inherit=True)
            return True, ""
        except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError) as e:
            return False, f"{type(e).__name__}: {e}"
    p = subprocess.run(
        [python, "-c", "import sys; compile(sys.stdin.buffer.read(), 'fuzz', 'exec')"],
        input=data, capture_output=True, timeout=60,
    )
    tail = p.stderr.decode("utf-8", "replace").strip().splitlines()
    return p.returncode == 0, tail[-1] if tail else ""


def comments(data):
    # tokenize splits lines on LF only; CPython reads a bare CR as a line end.
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        toks = tokenize.tokenize(io.BytesIO(data).readline)
        return Counter(t.string for t in toks if t.type == tokenize.COMMENT)
    except (tokenize.TokenError, IndentationError, SyntaxError, UnicodeDecodeError):
        return None


def run_binary(binary, opts, data, timeout):
    try:
        p = subprocess.run([binary, "convert", *opts, "-"], input=data, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return p


def check(case, binary, timeout, pythons):
    data, opts = case["data"], case["options"]
    ok_in, _ = compiles(data)
    p = run_binary(binary, opts, data, timeout)
    if p is None:
        return "hang", f"no answer in {timeout}s"
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode < 0 or "panicked" in err or p.returncode not in (0, 1, 2):
        return "panic", f"exit {p.returncode}: {err[-2000:]}"
    if "internal error" in err:
        if ok_in:
            return "internal", err.strip()
        return None, "error"
    if p.returncode != 0:
        return None, "error"
    out = p.stdout
    if out == data:
        return None, "unchanged"
    if ok_in:
        ok_out, why = compiles(out)
        if not ok_out:
            return "noncompile", f"CPython {sys.version.split()[0]} rejects the output: {why}"
        tag = next((o for o in opts if o.startswith("py3")), None)
        if tag in pythons:
            ok_in_v, _ = compiles(data, pythons[tag])
            if ok_in_v:
                ok_out_v, why = compiles(out, pythons[tag])
                if not ok_out_v:
                    return "noncompile", f"{pythons[tag]} rejects the output: {why}"
    before, after = comments(data), comments(out)
    if before is not None and after is not None:
        lost = before - after
        if lost:
            return "comments", f"lost: {sorted(lost)}"
    q = run_binary(binary, opts, out, timeout)
    if q is None:
        return "hang", f"second run: no answer in {timeout}s"
    if q.returncode == 0 and q.stdout != out:
        return "idempotence", "second run changed the output"
    if q.returncode != 0:
        err2 = q.stderr.decode("utf-8", "replace")
        kind = "panic" if "panicked" in err2 or q.returncode < 0 else "internal"
        return kind, f"second run failed: {err2.strip()}"
    return None, "changed"


def main():
    warnings.simplefilter("ignore")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=None, help="stop after this long")
    ap.add_argument("--inputs", type=int, default=None, help="stop after this many inputs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per run of the binary")
    ap.add_argument("--stdlib-sample", type=int, default=150, help="stdlib files in the corpus")
    ap.add_argument("--binary", default=str(ROOT / "target" / "release" / "awaitify"))
    ap.add_argument("--out", default=str(ROOT / "target" / "fuzz-failures"))
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args()
    if args.minutes is None and args.inputs is None:
        args.minutes = 1.0
    texts = corpus(args.stdlib_sample, args.seed)
    pythons = python_versions()
    out = Path(args.out)
    deadline = time.monotonic() + args.minutes * 60 if args.minutes else None
    counts = Counter()
    outcomes = Counter()
    total = 0
    failures = []

    def record(case, kind, msg):
        h = hashlib.sha1(case["data"]).hexdigest()[:12]
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{kind}-{h}.py").write_bytes(case["data"])
        meta = {k: v for k, v in case.items() if k != "data"}
        (out / f"{kind}-{h}.txt").write_text(json.dumps(meta) + "\n" + msg + "\n")
        failures.append((kind, h, case["n"], msg.splitlines()[0] if msg else ""))

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        n = 0
        running = {}
        while True:
            while len(running) < args.jobs * 2:
                if args.inputs is not None and n >= args.inputs:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    break
                case = make_input(n, args.seed, texts)
                running[ex.submit(check, case, args.binary, args.timeout, pythons)] = case
                n += 1
            if not running:
                break
            done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in done:
                case = running.pop(fut)
                kind, msg = fut.result()
                total += 1
                if kind:
                    counts[kind] += 1
                    record(case, kind, msg)
                else:
                    outcomes[msg] += 1
    summary = {"inputs": total, "seed": args.seed, "failures": sum(counts.values())}
    for k in ("changed", "unchanged", "error"):
        summary[k] = outcomes.get(k, 0)
    for k in ("panic", "hang", "internal", "noncompile", "idempotence", "comments"):
        summary[k] = counts.get(k, 0)
    if args.json:
        print(json.dumps(summary))
    else:
        print(" ".join(f"{k}={v}" for k, v in summary.items()))
    for kind, h, num, msg in sorted(failures, key=lambda f: f[2]):
        print(f"  input {num}: {kind} ({out}/{kind}-{h}.py): {msg}", file=sys.stderr)
    return 1 if counts else 0


if __name__ == "__main__":
    sys.exit(main())
