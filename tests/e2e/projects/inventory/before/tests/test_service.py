from unittest.mock import patch

from inventory import store
from inventory.service import Inventory


def test_count(inv):
    assert inv.count("apple") == 2


def test_add_then_count(inv):
    assert inv.add("pear") == 1
    assert inv.add("pear", 2) == 3
    assert inv.count("pear") == 3


def test_report(inv):
    inv.add("kiwi", 5)
    assert inv.report() == "apple=2, kiwi=5"


def test_load_is_patched(inv):
    with patch.object(store.Store, "load", return_value={"fig": 7}):
        assert inv.count("fig") == 7


def test_class_name():
    # Touches nothing async: stays a plain test.
    assert Inventory.__name__ == "Inventory"
