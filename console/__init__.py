"""The Watchfloor application: main window, layouts, engine host, Qt bridge and CLI."""
