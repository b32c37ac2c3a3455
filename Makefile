# The two commands of the README. Each installs what it needs first.
PY ?= python3

.PHONY: compare test bench

# The main job: analog vs digital comparison with a report in ./report
compare:
	bash scripts/setup.sh
	$(PY) -m neurosim compare --out report

# The whole test suite (slow, ngspice, torch and brian2 tests included), one worker per core
# (pytest-xdist, a test file per worker; BLAS single-threaded so the workers do not oversubscribe)
test:
	bash scripts/setup.sh test
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -q -ra -n auto --dist loadfile

bench:
	bash scripts/setup.sh test
	for f in benchmarks/bench_*.py; do $(PY) $$f; done
