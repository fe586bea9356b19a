"""The fixed data set behind /db and /sqlite: one formula, used by every seed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

TABLE = "items"
ITEM_COUNT = 10_000
"""Rows have ids 1..ITEM_COUNT, so any id in that range is a valid primary key."""

# Both factors are primes, so the values look scattered yet are reproducible everywhere.
_VALUE_FACTOR = 7919
_VALUE_MODULUS = 10007

CREATE_TABLE_SQL = (
    f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT NULL)"
)


class Item(NamedTuple):
    """One row of the items table."""

    id: int
    name: str
    value: int


def item(item_id: int) -> Item:
    """Return the row with this id (1..ITEM_COUNT)."""
    if not 1 <= item_id <= ITEM_COUNT:
        raise ValueError(f"item id must be in 1..{ITEM_COUNT}, got {item_id}")
    return Item(item_id, f"item-{item_id}", (item_id * _VALUE_FACTOR) % _VALUE_MODULUS)


def items() -> Iterator[Item]:
    """Yield every row in id order."""
    for item_id in range(1, ITEM_COUNT + 1):
        yield item(item_id)
