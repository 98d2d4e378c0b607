"""PyInstaller entry point for the ``watchfloor`` console script (see build.spec)."""

import multiprocessing
import sys

from console.cli import main

# `watchfloor sense simulate` runs its simulated nodes in a spawned process: in the frozen
# app that process is this binary again, and freeze_support() makes it run the child's task.
multiprocessing.freeze_support()
sys.exit(main())
