# The two commands of the README. Each sets up what it needs first (idempotent, fast when done).
.PHONY: run test bench wheel

run:  ## set up, then serve the app at http://127.0.0.1:8000
	./scripts/setup.sh
	.venv/bin/python -m uvicorn app.main:app --host 127.0.0.1 --port 8000

test:  ## set up (test packages and Chromium too), then run every test (a worker per core, at most 4; a file's tests stay on one worker)
	./scripts/setup.sh --test
	.venv/bin/ruff check .
	.venv/bin/python -m pytest -n auto --maxprocesses 4 --dist loadfile

bench:  ## every benchmark (installs torch==2.13.0 into .venv-bench and wrk on first use; ~25 min)
	./scripts/setup.sh --test
	./bench/run.sh

wheel:  ## the wheel (dist/convscope-*.whl): the app with its templates, static files and pinned npm assets
	./scripts/setup.sh
	.venv/bin/python -m pip wheel --no-deps --wheel-dir dist .
