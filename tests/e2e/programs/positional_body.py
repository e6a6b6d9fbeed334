"""Requests made with positional arguments, bodies on GET / DELETE / HEAD, and
responses closed by hand."""
import os

import requests

BASE_URL = os.environ["BASE_URL"]


def show(label, status, data):
    print(label, status, data.get("method"), data.get("query"), data.get("form"), data.get("json"))


def module_calls():
    r = requests.get(BASE_URL + "/echo", {"page": "2"})
    show("get params", r.status_code, r.json())
    r = requests.post(BASE_URL + "/echo", {"name": "anvil"})
    show("post data", r.status_code, r.json())
    r = requests.post(BASE_URL + "/echo", None, {"name": "bellows"})
    show("post json", r.status_code, r.json())
    r = requests.put(BASE_URL + "/echo", {"stock": "3"})
    show("put data", r.status_code, r.json())
    r = requests.get(BASE_URL + "/echo", json={"filter": "tools"})
    show("get json", r.status_code, r.json())
    r = requests.delete(BASE_URL + "/echo", json={"reason": "sold"})
    show("delete json", r.status_code, r.json())
    r = requests.get(BASE_URL + "/items")
    print("items", len(r.json()))
    r.close()


def session_calls(session, method):
    r = session.request(method, BASE_URL + "/echo", {"q": "x"}, {"a": "1"})
    show("request", r.status_code, r.json())
    r = session.get(BASE_URL + "/echo", {"category": "tools"})
    show("session get", r.status_code, r.json())
    r = session.head(BASE_URL + "/items/1", data={"x": "1"})
    print("head", r.status_code, r.headers.get("ETag"))
    r.close()


def main():
    module_calls()
    with requests.Session() as s:
        session_calls(s, "POST")


if __name__ == "__main__":
    main()
