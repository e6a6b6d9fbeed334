import time


def read(path):
    with open(path) as f:
        text = f.read()
    time.sleep(0.01)
    return text
