"""Opening a site for the console: store, site file, engine runtime and Qt bridge."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings

from console.bridge import QtBridge
from engine.config import SiteConfig, load_site
from engine.paths import config_dir
from engine.runtime import EngineRuntime
from engine.store import Store


@dataclass
class EngineHost:
    """Everything the window needs from one running engine. ``close()`` stops it all."""

    site: SiteConfig
    store: Store
    runtime: EngineRuntime
    bridge: QtBridge

    @classmethod
    def open(cls, site_file: Path, db_url: str) -> EngineHost:
        """Load and validate the site, open and migrate the store, then start the engine.
        Raises SiteConfigError or DatabaseError before anything has started."""
        site = load_site(site_file)
        store = Store(db_url)
        runtime = EngineRuntime(site, store)
        bridge = QtBridge(runtime.bus)  # subscribe before start so no event is missed
        try:
            runtime.start()
        except Exception:
            bridge.close()
            store.close()
            raise
        return cls(site, store, runtime, bridge)

    def close(self) -> None:
        self.runtime.stop()
        self.bridge.close()
        self.store.close()


def console_settings(path: Path | None = None) -> QSettings:
    """Layout and window settings in an INI file under the user config dir."""
    path = path or config_dir() / "console.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)
