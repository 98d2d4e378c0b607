"""Where Watchfloor keeps its data: the platform user-data dir unless overridden."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "watchfloor"


def data_dir() -> Path:
    """The data directory (database, media). ``WATCHFLOOR_DATA_DIR`` overrides it."""
    override = os.environ.get("WATCHFLOOR_DATA_DIR")
    return Path(override) if override else platformdirs.user_data_path(APP_NAME)


def config_dir() -> Path:
    """Per-user settings (window layouts). ``WATCHFLOOR_CONFIG_DIR`` overrides it."""
    override = os.environ.get("WATCHFLOOR_CONFIG_DIR")
    return Path(override) if override else platformdirs.user_config_path(APP_NAME)
