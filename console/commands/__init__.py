"""Subcommands of ``watchfloor``: each module registers its parser and runs it."""
