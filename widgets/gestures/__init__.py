"""The Gestures page: ``view``, ``teach_dialog`` (the wizard), ``skeleton`` (Qt) and ``api``."""
