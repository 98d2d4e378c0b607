"""Watchfloor engine: headless processing, storage and events (never imports Qt)."""

import os

# numpy's and SciPy's OpenBLAS on one thread, unless the user says otherwise (set before
# either is imported: every engine import passes here first). The engine's matrix products
# are small (a room's layout rating, the sensing grid) and its own threads keep the cores
# busy: on the 2-core reference machine, rating the demo room's layout took 0.73-0.84 s
# and 1.4-1.6 s of CPU with OpenBLAS's two threads, 0.76-0.89 s and the same CPU on one
# (its idle workers spin). And with no OpenBLAS worker threads, a fork in the process
# cannot hang in OpenBLAS's fork handler waiting for one (see console.session_bus).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
