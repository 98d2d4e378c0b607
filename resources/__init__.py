"""Shipped resources: the demo site, the theme and model files."""

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent
DEMO_SITE = RESOURCES_DIR / "demo_site.toml"
THEME_QSS = RESOURCES_DIR / "theme.qss"
