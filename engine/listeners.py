"""The listening servers of one engine: their share of the file descriptors (reserved
at start, before anything opens a file or a port: :mod:`engine.listening`) and what each
admitted and refused, for ``engine --report``."""

from __future__ import annotations

from typing import Any

from engine.listening import (
    FIRST_MESSAGE_S,
    ConnectionGate,
    DescriptorBudget,
    ListenLimits,
    open_descriptors,
    reserve_descriptors,
)


class Listeners:
    """``servers``: how many servers share the descriptors evenly (the recordings server
    and each sensing room's node server)."""

    def __init__(self, servers: int) -> None:
        self._servers = servers
        self.descriptors: DescriptorBudget | None = None
        self._gates: dict[str, ConnectionGate] = {}  # every server listening, by name

    def reserve(self) -> None:
        self.descriptors = reserve_descriptors()

    def limits(self, first_message_s: float = FIRST_MESSAGE_S) -> ListenLimits:
        """One listening server's share of the descriptors."""
        budget = self.descriptors or reserve_descriptors()
        return budget.limits_for(self._servers, first_message_s=first_message_s)

    def listening(self, name: str, gate: ConnectionGate) -> None:
        self._gates[name] = gate

    def report(self) -> dict[str, Any]:
        """The descriptor budget and what each listening server admitted and refused."""
        return {
            "descriptors": self.descriptors.as_dict() if self.descriptors else None,
            "open_descriptors": open_descriptors(),
            "servers": {name: gate.figures() for name, gate in self._gates.items()},
        }
