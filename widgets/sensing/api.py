"""The sensing pane asks nothing of the console: it shows the engine's sensing snapshots
(:mod:`engine.sensing.view`) the console hands it, and the re-run dialog a
:class:`~engine.history.replay.SensingComparison`.

No Qt here (``import widgets.sensing.api`` loads no PySide6): the console's backends
import this module, never the view.
"""
