"""The Incidents pane: ``view``, ``report_form`` (Qt) and ``api`` (Qt-free)."""
