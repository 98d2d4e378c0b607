"""A console's settings kept in memory: what a pane built in a test is given as
``ctx.settings`` (the two QSettings calls panes make)."""

from __future__ import annotations

from typing import Any


class MemorySettings:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def value(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def setValue(self, key: str, value: Any) -> None:
        self.values[key] = value
