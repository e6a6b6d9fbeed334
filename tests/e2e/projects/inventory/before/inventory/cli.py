import sys

from inventory.service import Inventory


def main(argv):
    inv = Inventory(argv[1])
    for item in argv[2:]:
        inv.add(item)
    print(inv.report())
    print("apples:", inv.count("apple"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
