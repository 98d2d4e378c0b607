"""The System page is handed a query client and three callables (the status request, the
retention run, a setting's change); their types are the engine's.

No Qt here (``import widgets.system.api`` loads no PySide6): the console's backends
import this module, never the view.
"""
