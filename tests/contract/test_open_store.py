"""`store.open_store` picks the backend from the URL without connecting to anything."""

from __future__ import annotations

import pytest

from store import open_store
from store.mongo import MongoStore
from store.sqlite import SQLiteStore


def test_sqlite_urls():
    relative = open_store("sqlite:///data/kefu.sqlite3")
    assert isinstance(relative, SQLiteStore) and relative.path == "data/kefu.sqlite3"
    assert open_store("sqlite:////var/lib/kefu/k.db").path == "/var/lib/kefu/k.db"
    with pytest.raises(ValueError, match="sqlite:///PATH"):
        open_store("sqlite://")
    with pytest.raises(ValueError):
        open_store("sqlite:///:memory:")


def test_mongodb_urls():
    store = open_store("mongodb://user:pw@h1:27017,h2:27017/kefu_prod?replicaSet=rs0")
    assert isinstance(store, MongoStore) and store.db_name == "kefu_prod"
    assert open_store("mongodb://localhost").db_name == "kefu"
    assert open_store("mongodb+srv://cluster.example.com/").db_name == "kefu"
    assert open_store("MONGODB://localhost/x").db_name == "x"
    with pytest.raises(ValueError):
        MongoStore()


def test_unknown_scheme():
    with pytest.raises(ValueError) as err:
        open_store("postgres://localhost/kefu")
    assert str(err.value) == "unknown store scheme 'postgres': use sqlite:///PATH or mongodb://…"
    with pytest.raises(ValueError, match="unknown store scheme"):
        open_store("data/kefu.sqlite3")
