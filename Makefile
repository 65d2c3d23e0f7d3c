# One command per job. Every target bootstraps uv and the environment itself.
UV ?= $(shell command -v uv 2>/dev/null)
PY_UV = $(if $(UV),$(UV),python3 -m uv)
RUN = $(PY_UV) run --frozen

.PHONY: env demo test test-all lint bench clean

env:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(PY_UV) sync --frozen --all-extras --quiet --compile-bytecode
	@# Compiled once here, so each run does not re-compile every module at start-up
	@# (where PYTHONDONTWRITEBYTECODE is set, Python would never cache them).
	@$(RUN) python -m compileall -q src >/dev/null

demo: env
	$(RUN) python -m redline.demo

test: env
	$(RUN) pytest --durations=20

test-all: env
	$(RUN) pytest -m ""

lint: env
	$(RUN) ruff check src tests bench
	$(RUN) ruff format --check src tests bench
	$(RUN) mypy

bench: env
	bash bench/setup.sh
	$(RUN) python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
