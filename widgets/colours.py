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

OK_GREEN: Final = "#3fb950"
"""All is well (a chain verified intact, a camera online): 6.8:1 on the surface."""

ALARM_TINT: Final = "#361c20"
"""An opaque dark red under a table row or cell that needs a look (a refused action, a
delayed login, an offline node): body text, :data:`MUTED_GREY`, :data:`ALARM_RED` and
:data:`WARNING_AMBER` all stay 4.5:1 on it. Opaque, so alternate rows do not shift it."""

WARNING_TINT: Final = "#2a2519"
"""The amber counterpart of :data:`ALARM_TINT` (a degraded link's cell): the same four text
colours stay 4.5:1 on it."""

ALARM_FILL: Final = "#b62324"
"""A solid red for what must stop the eye (a tampered audit entry, a replay banner); its text
is :data:`ON_ALARM_FILL`. Too dark for red or grey text: those would fail on it."""

ON_ALARM_FILL: Final = "#ffffff"
"""Text on :data:`ALARM_FILL` (6.5:1)."""

MARK_WHITE: Final = "#ffffff"
"""A mark drawn over a map of many colours (a selected cell's ring, a camera's outline, a
label over the map): the one colour that stands off all of them."""

ZONE_ORANGE: Final = "#f0883e"
"""An alert rule's zone drawn over a camera picture: 3:1 or more on the raised grey the
picture area shows before a frame arrives."""

PICTURE_BLACK: Final = "#010409"
"""Behind a camera's or a clip's picture (its letterbox) and where there is none yet."""

OTHER_PEOPLE: Final = "#c9d1d9"
"""The boxes of the other people in view over an alert's clip: pale, beside the red of the
person who raised it."""

TONE_COLOURS: Final = {"alarm": ALARM_RED, "warning": WARNING_AMBER, "quiet": MUTED_GREY}
"""Text colour per :class:`engine.wording.Tone` value (``normal``: the theme's own)."""

# The theme's surfaces and text (resources/theme.qss states the same values; its test checks
# each pair with widgets.contrast). Kept here for the application palette and the tests.

CANVAS: Final = "#0d1117"
# People's paths across senses on the timeline: bright enough to carry dark text (each 7:1
# or more on CANVAS) and apart from the markers' reds and ambers; someone unknown in grey.
PATH_COLOURS: Final = ("#56d4dd", "#d2a8ff", "#7ee787", "#ffa657", "#a5d6ff", "#f778ba")
PATH_UNKNOWN: Final = "#b1bac4"
"""The darkest surface: tables, lists, text boxes, menus, the lock card."""

SURFACE: Final = "#161b22"
"""Windows and panes (also a table's alternate rows)."""

RAISED: Final = "#21262d"
"""Buttons, table headers, tooltips."""

TEXT: Final = "#e6edf3"
"""Body text: 14.6:1 on the surface."""

DISABLED_TEXT: Final = "#7d8590"
"""Text of a control that cannot be used now: 4.1:1 even on a button, yet dimmer than
:data:`MUTED_GREY` so it does not read as a live hint."""

SELECTION: Final = "#1b63d6"
"""The selected row, menu item or page: 3.3:1 against the surface around it; dark enough
that white text stays 4.5:1 on the lighter gradient Fusion paints a selected row with."""

SELECTED_TEXT: Final = "#ffffff"
"""Text on :data:`SELECTION` (5.5:1)."""

ACCENT: Final = "#58a6ff"
"""Focus rings, hovered edges, links: 6.9:1 on the surface."""

LINK_VISITED: Final = "#bc8cff"
"""A link already followed (6.9:1 on the surface)."""

CONTROL_EDGE: Final = "#6e7681"
"""The edge of a text box or button: 3.3:1 even against a button's own fill."""

THEME_PALETTE: Final = {
    "Window": SURFACE,
    "WindowText": TEXT,
    "Base": CANVAS,
    "AlternateBase": SURFACE,
    "Text": TEXT,
    "Button": RAISED,
    "ButtonText": TEXT,
    "BrightText": SELECTED_TEXT,
    "Highlight": SELECTION,
    "HighlightedText": SELECTED_TEXT,
    "Link": ACCENT,
    "LinkVisited": LINK_VISITED,
    "PlaceholderText": MUTED_GREY,
    "ToolTipBase": RAISED,
    "ToolTipText": TEXT,
    "Light": "#484f58",
    "Midlight": "#30363d",
    "Mid": CONTROL_EDGE,
    "Dark": CANVAS,
    "Shadow": PICTURE_BLACK,
    "Accent": ACCENT,
}
"""The application palette (``QPalette.ColorRole`` name → colour) for what the style sheet
cannot reach: links in rich text (Ask's citations), placeholders, what Fusion draws itself."""

THEME_PALETTE_DISABLED: Final = {
    "WindowText": DISABLED_TEXT,
    "Text": DISABLED_TEXT,
    "ButtonText": DISABLED_TEXT,
    "PlaceholderText": DISABLED_TEXT,
    "Link": DISABLED_TEXT,
    "LinkVisited": DISABLED_TEXT,
    "HighlightedText": TEXT,
    "Highlight": "#30363d",
}
"""The palette's roles that differ for disabled widgets (role name → colour)."""
