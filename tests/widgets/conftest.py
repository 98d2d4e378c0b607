"""The real engine behind a widget test: the store synced with the test module's ``site``
fixture (:func:`site_id`), a running store writer and the console's real query client, so
every call a pane makes runs on a query worker and answers on the GUI thread, as in the
console. A module that needs them otherwise defines its own fixture of the same name."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from console.queries import QtQueryClient
from engine.clock import REAL_CLOCK
from engine.config import SiteConfig
from engine.history.query_service import QueryService
from engine.store import Store
from engine.store.writer import StoreWriter
from tests.store_helpers import sync_site


@pytest.fixture
def site_id(store: Store, site: SiteConfig) -> int:
    """The id of the module's ``site``, synced into the store."""
    return sync_site(store, site, REAL_CLOCK).site_id


@pytest.fixture
def writer(store: Store, start_writer: Callable[..., StoreWriter]) -> StoreWriter:
    return start_writer(store)


@pytest.fixture
def client(store: Store) -> Iterator[QtQueryClient]:
    """The console's query client on the store; closing it stops its workers."""
    opened = QtQueryClient(QueryService(store))
    yield opened
    opened.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("query-")]
