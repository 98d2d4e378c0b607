"""The console's few signal colours, for what is drawn in code.

Text and widgets take their look from the theme (``resources/theme.qss``); what a view paints
itself (tiles, the risk map, table row backgrounds, the timeline) names its colour here, so
there is one alarm red. The theme states the same red for ``QLabel[role="error"]``.
"""

from __future__ import annotations

from typing import Final

ALARM_RED: Final = "#f85149"
"""Errors, refusals, alarms, offline cameras: the console's one red (GitHub dark's danger)."""

ERROR_STYLE: Final = f"color: {ALARM_RED};"
"""A label's own style sheet while it shows an error (see :func:`widgets.action_strip.
show_as_error`)."""

WARNING_AMBER: Final = "#d29922"
"""Degraded, needs a look soon (a camera offline, a link degraded): the console's one amber."""

MUTED_GREY: Final = "#8b949e"
"""Text that steps back: settled rows, machinery, hints (GitHub dark's muted foreground)."""

TONE_COLOURS: Final = {"alarm": ALARM_RED, "warning": WARNING_AMBER, "quiet": MUTED_GREY}
"""Text colour per :class:`engine.wording.Tone` value (``normal``: the theme's own)."""
