"""Count down, then ring.  Uses `from time import sleep`."""
from time import sleep


def tick(n):
    print(n)
    sleep(1)  # one second per tick


def countdown(start):
    # Counts down from `start` to 1.
    for n in range(start, 0, -1):
        tick(n)
    print("ring!")


def main():
    countdown(3)


if __name__ == "__main__":
    main()
