"""The words the site's records are written in: incident categories, risk classes, alert
severities, rule triggers and sequence labels.

The store's check constraints, the engine's capabilities and the panes that offer them in a
list all read them from here, so a pane naming a category needs nothing of the store.
"""

from __future__ import annotations

from typing import Final

INCIDENT_CATEGORIES: Final = (
    "violence",
    "weapons",
    "theft",
    "fire",
    "medical",
    "vandalism",
    "suspicious_activity",
    "other",
)
RISK_CLASSES: Final = ("very_low", "low", "moderate", "high", "very_high", "extreme")
ALERT_SEVERITIES: Final = ("info", "warning", "critical")
RULE_TRIGGERS: Final = ("person", "loitering", "sensing_blob", "gesture")
SEQUENCE_LABELS: Final = ("true_alarm", "false_alarm")

# What an escalated event of a kind is at least, whatever a report's words say: its
# incident category and lowest severity (1-5). A fall is a medical emergency until a
# person says otherwise (an investigator can still correct the category).
ESCALATION_FLOORS: Final = {
    "sensing.fall_detected": ("medical", 4),
}
