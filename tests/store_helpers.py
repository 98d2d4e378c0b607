"""Test helpers that write through the one write path (the store writer)."""

from __future__ import annotations

from typing import Any

from engine.clock import Clock
from engine.config import SiteConfig
from engine.store.commands import StoreCommand
from engine.store.database import Store
from engine.store.sites import SiteIds, SyncSite
from engine.store.writer import StoreWriter


def run_command(store: Store, command: StoreCommand) -> Any:
    """Apply one command through a short-lived writer and return its result."""
    with StoreWriter.running(store) as writer:
        return writer.execute(command, timeout_s=60)


def sync_site(store: Store, site: SiteConfig, clock: Clock) -> SiteIds:
    """Mirror ``site`` into ``store`` as the runtime does at start."""
    result: SiteIds = run_command(store, SyncSite(site=site, at=clock.now()))
    return result
