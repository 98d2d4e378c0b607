"""What the Alert rules page asks of the console (:class:`AlertRulesActions`).

No Qt here (``import widgets.alert_rules.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from typing import Protocol

from engine.alerts.rules import RuleSpec


class AlertRulesActions(Protocol):
    """Blocking calls, run on query workers."""

    def list_rules(self) -> list[RuleSpec]:
        """Every rule, by name."""
        ...

    def add_rule(self, rule: RuleSpec) -> RuleSpec:
        """Store ``rule`` (its ``rule_id`` is ignored) and return it as stored. Raises
        RuleError (the message names the field) or PermissionError."""
        ...

    def remove_rule(self, name: str) -> None:
        """Remove the rule named ``name``. Raises UnknownRuleError or PermissionError."""
        ...

    def update_rule(self, name: str, rule: RuleSpec) -> RuleSpec:
        """Change the rule named ``name`` to ``rule`` (its ``rule_id`` is ignored; it may
        be renamed) and return it as stored. Raises RuleError, UnknownRuleError or
        PermissionError."""
        ...

    def set_handling(self, name: str, instructions: str, comment_required: bool) -> RuleSpec:
        """Set rule ``name``'s operating instructions and whether its alerts close only with
        a comment. Raises RuleError, UnknownRuleError or PermissionError."""
        ...
