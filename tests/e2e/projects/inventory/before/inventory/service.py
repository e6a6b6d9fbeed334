from .retrying import retry
from .store import Store


class Inventory:
    def __init__(self, path):
        self.store = Store(path)

    @retry(3)
    def count(self, item):
        data = self.store.load()
        return data[item] if item in data else 0

    def add(self, item, n=1):
        data = self.store.load()
        data[item] = (data[item] if item in data else 0) + n
        self.store.save(data)
        return data[item]

    def report(self):
        data = self.store.load()
        return ", ".join("%s=%d" % (k, data[k]) for k in sorted(data))
