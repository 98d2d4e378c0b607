"""PyInstaller entry point for the ``watchfloor`` console script (see build.spec)."""

import sys

from console.cli import main

sys.exit(main())
