import json
import time
from pathlib import Path


class Store:
    """Reads and writes the whole inventory at once."""

    def __init__(self, path):
        self.path = Path(path)

    def load(self):
        time.sleep(0.01)  # a slow disk
        with open(self.path) as f:
            return json.loads(f.read())

    def save(self, data):
        time.sleep(0.01)
        with open(self.path, "w") as f:
            f.write(json.dumps(data, sort_keys=True))
