#!/usr/bin/env python3
"""Measure awaitify on a library maintained in a sync and an async form.

httpcore ships httpcore/_async/*.py and httpcore/_sync/*.py; the sync form is
generated from the async one by httpcore's scripts/unasync.py, line for line.
This script converts the sync form with awaitify (and the user rules in
bench/httpcore-rules.toml) and compares the result with the shipped async
form:

  (a) async def placements: which functions are `async def`;
  (b) await placements: every `await` expression;
  (c) (informational) `async with` / `async for` placements.

Matching. Both sides are parsed with `ast`. Names are compared after httpcore's
own unasync substitution table is applied to both (async spelling -> sync
spelling: `AsyncX` -> `X`, `aclose` -> `close`, `__aenter__` -> `__enter__`,
...). That table produced the sync form from the async one, so the reference
normalises exactly to the original sync names, and the converted file
normalises to them whichever renames awaitify did or did not make; a rename
awaitify gets wrong shows up as an unmatched function, not as a shifted line.
  (a) key: (file, qualified name incl. classes and enclosing functions);
      positive = AsyncFunctionDef. Duplicate qualnames are paired in order.
  (b) key: (file, enclosing function's qualified name, normalised text of the
      awaited expression, `ast.unparse`); a multiset, so two identical awaits
      in one function count twice.
Lines are reported in the coordinates of the original sync file, which are
the reference's coordinates too (unasync keeps lines); a converted file's
lines are mapped back with difflib (awaitify may add import lines).

Stdlib only. Exit status 0 (a measurement), unless --min is given and a
precision or recall of (a) or (b) is below it (then 1); 2 on setup errors.

    python3 scripts/pair_eval.py [--min 0.95] [--config FILE] [--awaitify BIN]
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "httpcore"
DEFAULT_VERSION = "1.0.9"

# httpcore scripts/unasync.py SUBS (async -> sync), the name part of it.
# `__anext__` is not in httpcore's table (it has no iterator classes) but is
# the same kind of twin.
_SUBS = [
    (r"AsyncIterator", "Iterator"),
    (r"Async([A-Z][A-Za-z0-9_]*)", r"\1"),
    (r"handle_async_request", "handle_request"),
    (r"aclose", "close"),
    (r"aiter_stream", "iter_stream"),
    (r"aread", "read"),
    (r"asynccontextmanager", "contextmanager"),
    (r"__aenter__", "__enter__"),
    (r"__aexit__", "__exit__"),
    (r"__aiter__", "__iter__"),
    (r"__anext__", "__next__"),
    (r"AutoBackend", "SyncBackend"),
]
SUBS = [(re.compile(r"(^|\b)" + a + r"($|\b)"), b) for a, b in _SUBS]


def norm(text: str) -> str:
    for rx, repl in SUBS:
        text = rx.sub(_repl(repl), text)
    return text


def _repl(repl: str):
    # The compiled pattern is (^|\b) <pattern> ($|\b): group 1 and the last
    # group are the (empty) anchors; a back reference \1 in repl means the
    # pattern's own first group, which is group 2 here.
    def f(m: re.Match) -> str:
        out = repl
        if r"\1" in repl:
            out = repl.replace(r"\1", m.group(2))
        return m.group(1) + out + m.group(m.lastindex)

    return f


# ----------------------------------------------------------------- ast facts


class Facts(ast.NodeVisitor):
    """defs: [(qualname, is_async, line)], awaits/withs: [(scope, text, line)]."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.func_stack: list[str] = []
        self.defs: list[tuple[str, bool, int]] = []
        self.awaits: list[tuple[str, str, int]] = []
        self.withs: list[tuple[str, str, int]] = []

    def _scope(self) -> str:
        return ".".join(self.stack) if self.stack else "<module>"

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for d in node.decorator_list:
            self.visit(d)
        for b in node.bases + [k.value for k in node.keywords]:
            self.visit(b)
        self.stack.append(norm(node.name))
        for s in node.body:
            self.visit(s)
        self.stack.pop()

    def _func(self, node, is_async: bool) -> None:
        for d in node.decorator_list:
            self.visit(d)
        self.visit(node.args)
        if node.returns:
            self.visit(node.returns)
        self.stack.append(norm(node.name))
        self.defs.append((".".join(self.stack), is_async, node.lineno))
        for s in node.body:
            self.visit(s)
        self.stack.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._func(node, False)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._func(node, True)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.stack.append("<lambda>")
        self.generic_visit(node)
        self.stack.pop()

    def visit_Await(self, node: ast.Await) -> None:
        self.awaits.append((self._scope(), norm(ast.unparse(node.value)), node.lineno))
        self.generic_visit(node)

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        items = ", ".join(ast.unparse(i) for i in node.items)
        self.withs.append((self._scope(), "async with " + norm(items), node.lineno))
        self.generic_visit(node)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> None:
        self.withs.append(
            (self._scope(), "async for " + norm(ast.unparse(node.iter)), node.lineno)
        )
        self.generic_visit(node)


def facts_of(path: Path) -> Facts:
    f = Facts()
    f.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return f


def line_map(orig: list[str], conv: list[str]) -> dict[int, int]:
    """1-based converted line -> 1-based original line."""
    m: dict[int, int] = {}
    sm = difflib.SequenceMatcher(None, orig, conv, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        for k in range(j2 - j1):
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                m[j1 + k + 1] = i1 + k + 1
            else:
                m[j1 + k + 1] = min(i1 + k, max(i2 - 1, i1)) + 1
    return m


# ----------------------------------------------------------------- matching


class Score:
    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0
        # (kind, file, orig_line, scope, detail)
        self.misses: list[tuple[str, str, int, str, str]] = []

    def add(self, other: "Score") -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.misses += other.misses

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score_defs(fname, ref: Facts, conv: Facts, cmap) -> Score:
    s = Score()
    rq: dict[str, list] = defaultdict(list)
    cq: dict[str, list] = defaultdict(list)
    for q, a, line in ref.defs:
        rq[q].append((a, line))
    for q, a, line in conv.defs:
        cq[q].append((a, cmap.get(line, line)))
    for q in sorted(set(rq) | set(cq)):
        r, c = rq.get(q, []), cq.get(q, [])
        for i in range(max(len(r), len(c))):
            ra = r[i][0] if i < len(r) else None
            ca = c[i][0] if i < len(c) else None
            line = r[i][1] if i < len(r) else c[i][1]
            if ra and ca:
                s.tp += 1
            elif ca and not ra:
                s.fp += 1
                s.misses.append(("FP", fname, c[i][1], q, "async def"))
            elif ra and not ca:
                s.fn += 1
                why = "async def" if ca is False else "async def (no def of that name in the output)"
                s.misses.append(("FN", fname, line, q, why))
    return s


def score_multiset(fname, ref_items, conv_items, cmap) -> Score:
    s = Score()
    rk: dict[tuple, list[int]] = defaultdict(list)
    ck: dict[tuple, list[int]] = defaultdict(list)
    for scope, text, line in ref_items:
        rk[(scope, text)].append(line)
    for scope, text, line in conv_items:
        ck[(scope, text)].append(cmap.get(line, line))
    for key in sorted(set(rk) | set(ck)):
        r, c = sorted(rk.get(key, [])), sorted(ck.get(key, []))
        n = min(len(r), len(c))
        s.tp += n
        # unmatched ones: pair by line so the reported lines make sense
        rr, cc = list(r), list(c)
        for line in list(rr):
            if line in cc:
                rr.remove(line)
                cc.remove(line)
        # the surplus on either side
        extra_r = len(r) - n
        extra_c = len(c) - n
        for line in rr[:extra_r] if extra_r else []:
            s.fn += 1
            s.misses.append(("FN", fname, line, key[0], key[1]))
        for line in cc[:extra_c] if extra_c else []:
            s.fp += 1
            s.misses.append(("FP", fname, line, key[0], key[1]))
    return s


def rule_names(config: Path) -> tuple[set[str], set[str]]:
    """Sync-side bare names of the rules with `async_def` / with `await`."""
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return set(), set()
    rules = data.get("rule", []) + data.get("tool", {}).get("awaitify", {}).get("rule", [])
    forced = {r["sync"].split(".")[-1] for r in rules if r.get("async_def")}
    awaited = {r["sync"].split(".")[-1] for r in rules if r.get("await")}
    return forced, awaited


def called_name(text: str) -> str:
    """`self._stream.read(n)` -> `read` (the awaited call's own name)."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return ""
    if isinstance(node, ast.Call):
        f = node.func
        return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
    return ""


# ----------------------------------------------------------------- setup


def fetch(version: str, base: Path) -> Path:
    cache = base / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    wheel = cache / f"{PACKAGE}-{version}-py3-none-any.whl"
    if not wheel.exists():
        print(f"downloading {PACKAGE}=={version} into {cache}", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             f"{PACKAGE}=={version}", "-d", str(cache)],
            check=True, stdout=sys.stderr,
        )
    unpacked = base / f"{PACKAGE}-{version}"
    if not (unpacked / PACKAGE / "_async").is_dir():
        if unpacked.exists():
            shutil.rmtree(unpacked)
        with zipfile.ZipFile(wheel) as z:
            z.extractall(unpacked)
    return unpacked / PACKAGE


def run_awaitify(binary: Path, config: Path, pkg: Path, log: Path):
    cmd = [str(binary), "convert", "--config", str(config), "--output-format", "json", str(pkg)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    log.write_text(p.stderr + p.stdout, encoding="utf-8")
    if p.returncode not in (0, 1):
        print(" ".join(cmd), file=sys.stderr)
        print(p.stderr, file=sys.stderr)
        sys.exit(2)
    try:
        report = json.loads(p.stdout)
    except json.JSONDecodeError:
        print("awaitify did not print a JSON report:\n" + p.stdout[:2000], file=sys.stderr)
        sys.exit(2)
    diags: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for f in report.get("files", []):
        rel = Path(f["path"]).resolve().relative_to(pkg.resolve()).as_posix()
        for d in f.get("diagnostics", []):
            diags[rel].append((d["line"], d["pass"], d["message"]))
        if f.get("error"):
            diags[rel].append((0, "error", f["error"]))
    return report, diags, cmd


# ----------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", default=DEFAULT_VERSION, help="httpcore version (wheel)")
    ap.add_argument("--awaitify", type=Path, default=ROOT / "target/release/awaitify")
    ap.add_argument("--config", type=Path, default=ROOT / "bench/httpcore-rules.toml")
    ap.add_argument("--min", type=float, default=None,
                    help="exit 1 if a precision or recall of (a) or (b) is below this")
    ap.add_argument("--keep-async", action="store_true",
                    help="leave httpcore/_async in the converted copy (default: removed, "
                         "so the answer key cannot inform the analysis)")
    ap.add_argument("--no-list", action="store_true", help="only the tables")
    args = ap.parse_args()

    if not args.awaitify.exists():
        print(f"{args.awaitify} missing: run `cargo build --release`", file=sys.stderr)
        return 2
    base = ROOT / "target/pair-eval"
    src = fetch(args.version, base)
    work = base / "work"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    pkg = work / PACKAGE
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if not args.keep_async:
        shutil.rmtree(pkg / "_async")
    report, diags, cmd = run_awaitify(args.awaitify, args.config.resolve(), pkg,
                                      base / "awaitify.log")
    summ = report.get("summary", {})
    print(f"awaitify: {' '.join(cmd)}")
    print(f"  {summ.get('converted')} converted, {summ.get('unchanged')} unchanged, "
          f"{summ.get('failed')} failed; log: {base / 'awaitify.log'}")

    names = sorted(p.name for p in (src / "_sync").glob("*.py"))
    totals = {k: Score() for k in ("def", "await", "with")}
    ref_defs: list[str] = []  # qualnames of the reference's async defs
    ref_awaits: list[str] = []  # normalised awaited expressions
    rows = []
    sources = {}
    for name in names:
        orig_p, ref_p, conv_p = src / "_sync" / name, src / "_async" / name, pkg / "_sync" / name
        orig = orig_p.read_text(encoding="utf-8").splitlines()
        conv_text = conv_p.read_text(encoding="utf-8")
        conv = conv_text.splitlines()
        ref = ref_p.read_text(encoding="utf-8").splitlines()
        fname = f"_sync/{name}"
        sources[fname] = (orig, ref, conv, line_map(orig, conv))
        cmap = sources[fname][3]
        try:
            cf = facts_of(conv_p)
        except SyntaxError as e:
            print(f"{fname}: converted file does not parse: {e}")
            cf = Facts()
        rf = facts_of(ref_p)
        ref_defs += [q for q, a, _ in rf.defs if a]
        ref_awaits += [t for _, t, _ in rf.awaits]
        sd = score_defs(fname, rf, cf, cmap)
        sa = score_multiset(fname, rf.awaits, cf.awaits, cmap)
        sw = score_multiset(fname, rf.withs, cf.withs, cmap)
        for k, v in (("def", sd), ("await", sa), ("with", sw)):
            totals[k].add(v)
        rows.append((fname, sd, sa, sw))

    def cells(s: Score) -> str:
        return f"{s.tp:>4} {s.fp:>3} {s.fn:>3} {s.precision:>6.1%} {s.recall:>6.1%}"

    hdr = "   TP  FP  FN   prec    rec"
    print()
    print(f"{'':<26}|{'(a) async def':<{len(hdr)}} |{'(b) await':<{len(hdr)}} |(c) async with/for (info)")
    print(f"{'file':<26}|{hdr} |{hdr} |{hdr}")
    for fname, sd, sa, sw in rows:
        print(f"{fname:<26}|{cells(sd)} |{cells(sa)} |{cells(sw)}")
    print(f"{'TOTAL':<26}|{cells(totals['def'])} |{cells(totals['await'])} |{cells(totals['with'])}")
    print()
    for k, label in (("def", "async def"), ("await", "await"), ("with", "async with/for")):
        t = totals[k]
        print(f"{label:<15} precision {t.precision:.1%} ({t.tp}/{t.tp + t.fp})  "
              f"recall {t.recall:.1%} ({t.tp}/{t.tp + t.fn})")

    # Recall split: what a rule names directly (a def renamed by an
    # `async_def` rule, a call of an `await` rule's name) against what the
    # colouring has to infer (private helpers, callers, generators).
    forced, awaited = rule_names(args.config)
    print()
    for k, label, items, named in (
        ("def", "async def", ref_defs, lambda q: q.split(".")[-1] in forced),
        ("await", "await", ref_awaits, lambda t: called_name(t) in awaited),
    ):
        fn = [m for m in totals[k].misses if m[0] == "FN"]
        n_named = sum(1 for x in items if named(x))
        fn_named = sum(1 for m in fn if named(m[3] if k == "def" else m[4]))
        n_inf, fn_inf = len(items) - n_named, len(fn) - fn_named
        print(f"{label:<15} recall, named by a rule: {n_named - fn_named}/{n_named}"
              f"   to be inferred: {n_inf - fn_inf}/{n_inf}"
              + (f" ({(n_inf - fn_inf) / n_inf:.1%})" if n_inf else ""))

    if not args.no_list:
        for k, label in (("def", "async def"), ("await", "await"), ("with", "async with/for")):
            misses = sorted(totals[k].misses, key=lambda m: (m[1], m[2], m[0]))
            if not misses:
                continue
            print(f"\n== {label}: {len(misses)} misses "
                  f"(FP = in the output, not in the reference; FN = the other way) ==")
            for kind, fname, line, scope, detail in misses:
                orig, ref, conv, cmap = sources[fname]
                print(f"{kind} {fname}:{line} in {scope}: {detail}")
                if kind == "FN":
                    print(f"     ref : {ref[line - 1].strip() if 0 < line <= len(ref) else ''}")
                    out_line = next((c for c, o in cmap.items() if o == line), None)
                    if out_line:
                        print(f"     out : {conv[out_line - 1].strip()}")
                else:
                    out_line = next((c for c, o in cmap.items() if o == line), None)
                    if out_line:
                        print(f"     out : {conv[out_line - 1].strip()}")
                    print(f"     ref : {ref[line - 1].strip() if 0 < line <= len(ref) else ''}")
                for dl, ps, msg in diags.get(fname, []):
                    if dl == line:
                        print(f"     awaitify {fname}:{dl}: [{ps}] {msg}")

    if args.min is not None:
        bad = [
            f"{label} {what} {val:.1%}"
            for k, label in (("def", "async def"), ("await", "await"))
            for what, val in (("precision", totals[k].precision), ("recall", totals[k].recall))
            if val < args.min
        ]
        if bad:
            print(f"\nbelow --min {args.min:.0%}: " + ", ".join(bad))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
