"""The reads and changes the People pane is handed (one callable each).

No Qt here (``import widgets.people.api`` loads no PySide6): the console's backends
import this module, never the view.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.history.paths import PersonPath
from engine.identity.people import PersonView

ListPeople = Callable[[], list[PersonView]]
RenamePerson = Callable[[str, str | None], None]
MergePeople = Callable[[str, str], None]
ErasePerson = Callable[[str], str]
ListPaths = Callable[[str], list[PersonPath]]
"""A person's recent paths across senses (by public id), newest first."""
ListUnnamedPaths = Callable[[], list[PersonPath]]
"""Today's paths (site's day) of people nobody has named, newest first."""
