# The two commands of the README. Each installs what it needs first.
PY ?= python3

.PHONY: compare test bench

# The main job: analog vs digital comparison with a report in ./report
compare:
	bash scripts/setup.sh
	$(PY) -m neurosim compare --out report

# The whole test suite (slow, ngspice, torch and brian2 tests included)
test:
	bash scripts/setup.sh test
	$(PY) -m pytest -q -ra

bench:
	bash scripts/setup.sh test
	for f in benchmarks/bench_*.py; do $(PY) $$f; done
