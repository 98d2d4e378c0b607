"""The site overview asks nothing of the console: it shows the engine's
:class:`~engine.config.SiteConfig` and each camera's :class:`~engine.events.CameraStatus`.

No Qt here (``import widgets.site.api`` loads no PySide6): the console's backends
import this module, never the view.
"""
