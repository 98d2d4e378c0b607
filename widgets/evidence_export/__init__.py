"""The evidence export dialog (timeline range or bookmark): ``view`` and ``api``."""
