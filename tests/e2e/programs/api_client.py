"""A small API client class, the way many projects wrap requests."""
import os
import sys

import requests


class ApiError(Exception):
    pass


class ForgeClient:
    def __init__(self, base_url, token=None):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _url(self, path):
        return f"{self.base_url}/{path.lstrip('/')}"

    def list_items(self, **filters):
        r = self.session.get(self._url("items"), params=filters)
        r.raise_for_status()
        return r.json()

    def get_item(self, item_id):
        r = self.session.get(self._url(f"items/{item_id}"))
        if not r.ok:
            raise ApiError(f"{r.status_code} {r.reason}: {r.json()['error']}")
        return r.json()

    def create_item(self, name, price):
        r = self.session.post(self._url("items"), json={"name": name, "price": price})
        if r.status_code != 201:
            raise ApiError(f"create failed: {r.status_code} {r.reason}")
        return r.json()

    def update_item(self, item_id, **changes):
        r = self.session.patch(self._url(f"items/{item_id}"), json=changes)
        r.raise_for_status()
        return r.json()

    def delete_item(self, item_id):
        r = self.session.delete(self._url(f"items/{item_id}"))
        return r.status_code, r.reason, r.text

    def whoami(self):
        return self.session.get(self._url("headers")).json().get("authorization")

    def close(self):
        self.session.close()


def main():
    client = ForgeClient(os.environ["BASE_URL"], token="t0ken")
    try:
        print("auth:", client.whoami())
        supplies = client.list_items(category="supplies")
        print("supplies:", [i["name"] for i in supplies])
        print("item 5:", client.get_item(5)["name"])
        created = client.create_item("hardy tool", 19.5)
        print("created:", created)
        print("updated:", client.update_item(1, stock=9)["stock"])
        print("deleted:", client.delete_item(1))
        try:
            client.get_item(99)
        except ApiError as e:
            print("error:", e)
        try:
            client.create_item(None, 1)
        except ApiError as e:
            print("error:", e)
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
