"""The engine runs numpy's and SciPy's OpenBLAS on one thread (engine/__init__.py): its
matrix products are small, two threads doubled their CPU for no time saved, and OpenBLAS's
worker threads made a fork in the process able to hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = (
    "import json\n"
    "import engine.sensing.grid.capability\n"
    "from threadpoolctl import threadpool_info\n"
    "print(json.dumps([p['num_threads'] for p in threadpool_info()"
    " if p['internal_api'] == 'openblas']))\n"
)


def blas_threads(env: dict[str, str]) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    threads: list[int] = json.loads(done.stdout)
    return threads


def test_the_engines_blas_runs_on_one_thread_unless_the_user_says_otherwise() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    threads = blas_threads(env)
    assert threads and set(threads) == {1}  # numpy's OpenBLAS, and SciPy's once loaded
    assert set(blas_threads({**env, "OPENBLAS_NUM_THREADS": "2"})) == {2}
