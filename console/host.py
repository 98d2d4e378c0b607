"""Opening a site for the console: store, site file, engine runtime and Qt bridge."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSettings

from console.bridge import QtBridge
from engine.clock import REAL_CLOCK, Clock
from engine.config import SiteConfig, load_site
from engine.data_dirs import config_dir
from engine.runtime import EngineRuntime
from engine.sitetime import SiteTime, set_display
from engine.store import Store


@dataclass
class EngineHost:
    """Everything the window needs from one running engine. ``close()`` stops it all.

    Opening makes the site's zone the one every view shows (:func:`engine.sitetime.display`):
    the console shows one site at a time, so one process-wide display zone is simpler than
    handing a zone to every pane and table model, and no pane can show another. Closing
    puts back the zone shown before."""

    site: SiteConfig
    store: Store
    runtime: EngineRuntime
    bridge: QtBridge
    _shown_before: SiteTime | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls, site_file: Path, db_url: str, *, attach: bool = False, clock: Clock = REAL_CLOCK
    ) -> EngineHost:
        """Load and validate the site, open and migrate the store, then start the engine
        (``attach``: follow the site's engines instead, see :mod:`engine.cluster.live`) on
        ``clock`` (a test's simulated one; the real clock otherwise).
        Raises SiteConfigError or DatabaseError before anything has started; attaching,
        ValueError (not PostgreSQL) or NotAttachableError (no engine ran the site)."""
        site = load_site(site_file)
        store = Store(db_url)
        try:
            runtime = EngineRuntime(site, store, attach=attach, analytics=not attach, clock=clock)
        except ValueError:
            store.close()
            raise
        bridge = QtBridge(runtime.bus)  # subscribe before start so no event is missed
        try:
            runtime.start()
        except Exception:
            bridge.close()
            store.close()
            raise
        return cls(site, store, runtime, bridge, set_display(site.site_time))

    def close(self) -> None:
        self.runtime.stop()
        self.bridge.close()
        self.store.close()
        set_display(self._shown_before)


def console_settings(path: Path | None = None) -> QSettings:
    """Layout and window settings in an INI file under the user config dir."""
    path = path or config_dir() / "console.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)
