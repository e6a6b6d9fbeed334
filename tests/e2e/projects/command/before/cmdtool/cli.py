"""Two installed commands (pyproject.toml): pip's scripts call `main()`
and `words()` with no arguments and exit with what they return."""
import sys

import click

from cmdtool import store


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    total = 0
    for path in args:
        total += len(store.read(path).splitlines())
    print("lines", total)
    return 3 if total > 5 else 0


@click.command()
@click.argument("paths", nargs=-1)
@click.option("--min-length", default=1, type=int)
def words(paths, min_length):
    n = 0
    for p in paths:
        n += len([w for w in store.read(p).split() if len(w) >= min_length])
    click.echo(f"words {n}")
    if n > 4:
        raise SystemExit(4)


if __name__ == "__main__":
    sys.exit(main())
