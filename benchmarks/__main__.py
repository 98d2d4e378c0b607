import sys

from benchmarks.runner import run_benchmarks

sys.exit(run_benchmarks(sys.argv[1:]))
