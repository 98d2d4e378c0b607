"""What the Appearance search pane reads and how it words a result.

The pane needs no backend: every read is a frozen request of
:mod:`engine.history.appearance` submitted through the query client. This module words a
ranked track for its caption and tooltip, in the site's time (one zone, said once in the
pane's status line).

No Qt here (``import widgets.appearance.api`` loads no PySide6).
"""

from __future__ import annotations

from engine.history.appearance import AppearanceHit
from engine.sitetime import SiteTime


def caption(rank: int, hit: AppearanceHit, zone: SiteTime) -> str:
    """Three short lines under a thumbnail: rank and score, time, camera."""
    return (
        f"#{rank}  ·  {hit.score:.2f}\n"
        f"{zone.local(hit.first_seen):%d %b %H:%M:%S}\n"
        f"{hit.camera_name}"
    )


def tooltip(hit: AppearanceHit, zone: SiteTime) -> str:
    seen_s = (hit.last_seen - hit.first_seen).total_seconds()
    return (
        f"{hit.camera_name}, track {hit.track_id}\n"
        f"{zone.with_zone(hit.first_seen)}, seen {seen_s:.0f} s\n"
        f"{hit.looks()}\nscore {hit.score:.2f} (a ranking, not an identification)"
    )
