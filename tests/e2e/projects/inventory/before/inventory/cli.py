import sys

from inventory.service import Inventory


def apples(path):
    # A function-local import (issue 14, item 8): count() becomes async, and
    # so must this call of it, or the text below holds a coroutine.
    from inventory.service import Inventory as Local

    return "apples: " + str(Local(path).count("apple"))


def main(argv):
    inv = Inventory(argv[1])
    for item in argv[2:]:
        inv.add(item)
    print(inv.report())
    print(apples(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
