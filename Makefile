# Thin: every target calls the servingmatrix CLI (or pytest); each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SM := $(BIN)/servingmatrix
PROFILE ?= default

.PHONY: matrix images test unit lint venv clean lock generate tools bench-headroom bench-generator bench-harness bench-hosts bench-startup bench-quiet bench-reproduce bench-littles-law bench-tune soak tune mutation

# The virtual environment is rebuilt when pyproject.toml changes.
$(BIN)/servingmatrix: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

venv: $(SM)

images: $(SM)
	$(SM) build

matrix: images
	$(SM) run --profile $(PROFILE)

# The browser test opens a report in Debian's chromium: installed here (as root with apt-get), never by the test.
tools: $(SM)
	$(SM) tools

# Unit tests need nothing; integration tests build the images they use (no-op when up to date).
test: $(SM) tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(SM) generate --check
	$(BIN)/pytest -n auto tests/unit
	$(BIN)/pytest tests/integration

unit: $(SM)
	$(BIN)/pytest -n auto tests/unit

# Mutation testing of the pure modules, one module at a time, then a score per module (about fifteen minutes
# on 2 cores; not part of `make test` nor CI). The modules are [tool.mutmut]'s only_mutate too.
MUTATION_MODULES := \
	src/servingmatrix/spec.py \
	src/servingmatrix/matrix.py \
	src/servingmatrix/run/measure/latency.py \
	src/servingmatrix/analysis/stats.py \
	src/servingmatrix/flags.py \
	src/servingmatrix/results/cell.py \
	src/servingmatrix/results/run.py \
	src/servingmatrix/results/run_record.py \
	src/servingmatrix/run/judge.py \
	src/servingmatrix/analysis/verdict.py \
	src/servingmatrix/analysis/compare.py \
	src/servingmatrix/analysis/reproduction.py \
	src/servingmatrix/analysis/capacity.py
mutation: $(SM)
	$(BIN)/python tests/mutation.py $(MUTATION_MODULES)
	$(SM) generate

# Which server and settings serve the most within the objective on the budget; it builds the images it needs
# (TUNE_OPTIONS: tune's options, e.g. TUNE_OPTIONS='--server-cpus 1 --slo-p99 200ms --budget 20m').
tune: $(SM)
	$(SM) tune $(TUNE_OPTIONS)

lint: $(SM)
	$(BIN)/ruff check .
	$(BIN)/mypy

lock: $(SM)
	$(SM) lock

generate: $(SM)
	$(SM) generate

clean: $(SM)
	$(SM) clean

# The load generator's headroom: one cell, three trials, with one and with two load processes.
HEADROOM := --modes 'gunicorn-sync[workers=1]' --workloads json --users 16,64 --duration 20s --warmup 5s --trials 3 --force
bench-headroom: images
	$(SM) run $(HEADROOM) --loadgen-processes 1 --out reports/bench/headroom-p1
	$(SM) run $(HEADROOM) --loadgen-processes 2 --out reports/bench/headroom-p2

# Locust against the reference generator (wrk): every mode x json x 32 users, two trials, then the table.
bench-generator: images
	$(SM) run --matrix bench/generator.yml --force --out reports/bench/generator
	$(BIN)/python bench/generator.py reports/bench/generator

# The disturbance a quiet machine still shows in the project's own windows, and the threshold it gives
# (DISTURBED_SHARE in src/servingmatrix/flags.py): run it with nothing else on the machine.
# Does a run reproduce on its own machine? The quick profile with --trials auto three times (published,
# quiet, with a 20 s busy loop on the generator's core), each judged with reproduce --against.
bench-littles-law: images
	$(SM) run --matrix bench/littles_law.yml --force --out reports/bench/littles-law
	$(BIN)/python bench/littles_law.py reports/bench/littles-law

bench-reproduce: images
	$(BIN)/python bench/reproduce.py --profile quick --out reports/bench/reproduce

bench-quiet: images
	$(SM) run --matrix bench/quiet.yml --no-calibration --force --out reports/bench/quiet
	$(BIN)/python bench/quiet.py reports/bench/quiet

# The load generator's calibrated most on this machine, on one simulated load host and on two (root).
bench-hosts: images
	$(BIN)/python bench/hosts.py --trials 3

# The quick profile three times back to back in one process: memory per run, wall time, and nothing left.
soak: images
	$(BIN)/python bench/soak.py --profile quick --runs 3

# The harness's own cost: the quick profile's phases twice (calibrating, then reusing the calibration)
# and its report's size and render time. `make bench-harness COLD=1` first removes the project's images,
# the wheelhouse and pip's cache, and times the cold build from nothing.
bench-harness: $(SM)
	$(BIN)/python bench/harness.py $(if $(COLD),--cold) --profile quick

# tune against the grid it searches: every configuration of a grid (gunicorn sync, gthread, waitress) measured
# with tune's own capacity search, then tune over the same grid; both tables, and the targets (about 2 hours).
bench-tune: $(SM)
	$(BIN)/python bench/tune.py --out reports/bench/tune

# The start of the verbs that need no engine (--version, modes, export, report, compare), each a whole
# process timed 10 times, beside Python's own start; no Docker, no images.
bench-startup: $(SM)
	$(BIN)/python bench/startup.py --runs 10
