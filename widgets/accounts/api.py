"""What the Accounts page asks of the console (:class:`AccountActions`).

No Qt here (``import widgets.accounts.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from engine.access import Role
from engine.accounts import AccountView


class AccountActions(Protocol):
    """What the pane asks of the console (every call blocks; run off the GUI thread)."""

    def list_accounts(self) -> list[AccountView]: ...

    def create_person(self, name: str, roles: Iterable[Role], password: str) -> None: ...

    def create_service(self, name: str, roles: Iterable[Role]) -> str: ...

    def set_roles(self, name: str, roles: Iterable[Role]) -> None: ...

    def set_disabled(self, name: str, disabled: bool) -> None: ...

    def reset_password(self, name: str, password: str) -> None: ...

    def new_token(self, name: str) -> str: ...

    def clear_login_delay(self, name: str) -> None: ...
