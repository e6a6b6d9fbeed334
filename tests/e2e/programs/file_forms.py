"""Files opened without `with`: a file closed in `finally`, one-liners, and
JSON loaded and dumped."""
import json
import os
import time


def write_lines(path, lines):
    out = open(path, "w", encoding="utf-8")
    try:
        for line in lines:
            out.write(line + "\n")
        out.writelines(["# end\n"])
    finally:
        out.close()


def count_lines(path):
    f = open(path, encoding="utf-8")
    try:
        first = f.readline().strip()
        rest = [line.strip() for line in f]
        return first, len(rest), f.closed
    finally:
        f.close()


def slurp(path):
    return open(path, encoding="utf-8").read()


def save_config(path, config):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(config, fh, indent=2, sort_keys=True)


def load_config(path):
    config = json.load(open(path, encoding="utf-8"))
    return config


def stamp(path, text):
    open(path, "a", encoding="utf-8").write(text)


def main():
    time.sleep(0.01)
    write_lines("notes.txt", ["alpha", "beta", "gamma"])
    print(count_lines("notes.txt"))
    print(repr(slurp("notes.txt")))
    save_config("config.json", {"retries": 3, "paths": ["a", "b"]})
    config = load_config("config.json")
    config["retries"] += 1
    save_config("config.json", config)
    stamp("notes.txt", "stamped\n")
    print(load_config("config.json"), len(slurp("notes.txt").splitlines()))
    try:
        slurp("missing.txt")
    except FileNotFoundError as e:
        print("missing:", os.path.basename(e.filename))


if __name__ == "__main__":
    main()
