"""Fixtures of the store contract suite: one `store` fixture parametrised over every backend.

* ``sqlite``: a `SQLiteStore` on a temporary file, always.
* ``mongomock``: a `MongoStore` on mongomock through `tests.contract.async_mongomock`, always.
* ``mongodb``: a `MongoStore` on a real server when ``KEFU_TEST_MONGODB_URL`` is set (a fresh
  database per test, dropped afterwards); skipped otherwise.

The store is opened and closed on the test's own IOLoop (pytest-tornado's ``io_loop``), because a
store belongs to the loop that opened it.
"""

from __future__ import annotations

import os
import uuid

import pytest

from store.sqlite import SQLiteStore

MONGODB_URL_ENV = "KEFU_TEST_MONGODB_URL"


def make_store(kind: str, tmp_path):
    """A new, unopened store of the given kind (see the module docstring)."""
    if kind == "sqlite":
        return SQLiteStore(str(tmp_path / "kefu.sqlite3"))
    from store.mongo import MongoStore

    if kind == "mongomock":
        from .async_mongomock import mongomock_database

        return MongoStore(db=mongomock_database("kefu_test"))
    url = os.environ.get(MONGODB_URL_ENV)
    if not url:
        pytest.skip(f"{MONGODB_URL_ENV} is not set: set it to mongodb://… to run the contract "
                    "against a real MongoDB")
    return MongoStore(url=url, db_name=f"kefu_test_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", "mongomock", "mongodb"])
def store(request, io_loop, tmp_path):
    s = make_store(request.param, tmp_path)
    io_loop.run_sync(s.open)
    yield s
    if request.param == "mongodb":
        io_loop.run_sync(s.drop_database)
    io_loop.run_sync(s.close)
