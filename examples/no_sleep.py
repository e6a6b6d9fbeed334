"""Nothing to convert: no blocking call, so awaitify leaves this file alone."""
import sys


def greet(name):
    # Pure computation; no I/O worth awaiting.
    return f"hello, {name}"


def main():
    print(greet(sys.argv[1] if len(sys.argv) > 1 else "world"))


if __name__ == "__main__":
    main()
