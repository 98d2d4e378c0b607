"""The console's plugin list: every pane, in order.

Wall panes first, in the order they are placed (within a column, earlier is higher; tabs
are added in this order), then the administration window's pages in sidebar order. Adding
a pane is a package under ``widgets/`` with its ``plugin.py`` and one line here.

The layouts this produces (each pane's ``plugin.py`` says its own place):
- Operator: cameras fill the left (the risk map behind them); the alert stream on the
  right (incidents and the alert list behind it) above live events (the sensing room, the
  introductions and the people behind them).
- Investigator: the event history on the left (incidents, risk map, alert list behind it)
  above the timeline with its replay bar (Ask and bookmarks behind it); the cameras on the
  right (the alert stream behind them) above the people.
- Admin: the cameras on the left (the risk map behind them); the sensing room on the right
  (the people behind it) above the events (alerts, alert list, incidents, introductions).
"""

from __future__ import annotations

from widgets.accounts.plugin import PANE as ACCOUNTS
from widgets.alert_list.plugin import PANE as ALERT_LIST
from widgets.alert_rules.plugin import PANE as ALERT_RULES
from widgets.alerts.plugin import PANE as ALERTS
from widgets.audit.plugin import PANE as AUDIT
from widgets.ble_devices.plugin import PANE as BLE_DEVICES
from widgets.bookmarks.plugin import PANE as BOOKMARKS
from widgets.cameras.plugin import PANE as CAMERAS
from widgets.chat.plugin import PANE as CHAT
from widgets.events.plugin import PANE as EVENTS
from widgets.gestures.plugin import PANE as GESTURES
from widgets.incidents.plugin import PANE as INCIDENTS
from widgets.introductions.plugin import PANE as INTRODUCTIONS
from widgets.pane import PaneSpec
from widgets.people.plugin import PANE as PEOPLE
from widgets.risk_map.plugin import PANE as RISK_MAP
from widgets.sensing.plugin import PANE as SENSING
from widgets.site.plugin import PANE as SITE
from widgets.system.plugin import PANE as SYSTEM
from widgets.timeline.plugin import PANE as TIMELINE

PANES: tuple[PaneSpec, ...] = (
    CAMERAS,
    ALERTS,
    SENSING,
    EVENTS,
    PEOPLE,
    INTRODUCTIONS,
    RISK_MAP,
    INCIDENTS,
    ALERT_LIST,
    TIMELINE,
    CHAT,
    BOOKMARKS,
    SITE,
    SYSTEM,
    ACCOUNTS,
    ALERT_RULES,
    BLE_DEVICES,
    GESTURES,
    AUDIT,
)
