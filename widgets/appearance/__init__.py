"""The Appearance search pane: people by description or like a given track."""
