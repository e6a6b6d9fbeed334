import pytest

from inventory.service import Inventory


@pytest.fixture
def inv(tmp_path):
    p = tmp_path / "db.json"
    p.write_text("{}")
    inventory = Inventory(p)
    inventory.add("apple", 2)
    return inventory
